// RFC 9293 §3.10.5: ABORT needs a connection; in CLOSED there is none
// ("error: connection does not exist").
use tcp_fsm::{Tcp, tcp};

fn call(conn: Tcp<tcp::Closed>) {
    let _ = conn.abort();
}

fn main() {}
