// RFC 9293 §3.10.4: CLOSE needs a connection; in CLOSED there is none
// ("error: connection does not exist").
use tcp_fsm::{Tcp, tcp};

fn call(conn: Tcp<tcp::Closed>) {
    let _ = conn.close();
}

fn main() {}
