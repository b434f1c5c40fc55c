// RFC 9293 §3.10.6: STATUS needs a connection; in CLOSED there is none
// ("error: connection does not exist").
use tcp_fsm::{Tcp, tcp};

fn call(conn: Tcp<tcp::Closed>) {
    let _ = conn.status();
}

fn main() {}
