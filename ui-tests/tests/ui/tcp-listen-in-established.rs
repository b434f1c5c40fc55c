// RFC 9293 §3.10.1: a passive OPEN starts from CLOSED only. In ESTABLISHED the connection
// already exists ("error: connection already exists").
use tcp_fsm::{Tcp, tcp};

fn call(conn: Tcp<tcp::Established>) {
    let _ = conn.listen();
}

fn main() {}
