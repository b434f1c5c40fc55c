// RFC 9293 §3.10.1: a passive OPEN starts from CLOSED only. In FIN-WAIT-2 the connection
// already exists ("error: connection already exists").
use tcp_fsm::{Tcp, tcp};

fn call(conn: Tcp<tcp::FinWait2>) {
    let _ = conn.listen();
}

fn main() {}
