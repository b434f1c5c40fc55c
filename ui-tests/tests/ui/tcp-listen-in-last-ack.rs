// RFC 9293 §3.10.1: a passive OPEN starts from CLOSED only. In LAST-ACK the connection
// already exists ("error: connection already exists").
use tcp_fsm::{Tcp, tcp};

fn call(conn: Tcp<tcp::LastAck>) {
    let _ = conn.listen();
}

fn main() {}
