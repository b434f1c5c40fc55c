// RFC 9293 §3.10.1: an active OPEN is legal in CLOSED (a new connection) and in
// LISTEN (a passive connection turned active). In FIN-WAIT-2 the connection already
// exists; to open again it must pass through CLOSED first.
use tcp_fsm::{Instant, Tcp, tcp};

fn call(conn: Tcp<tcp::FinWait2>) {
    let remote = "10.0.0.2:80".parse().unwrap();
    let _ = conn.connect(remote, Instant::ZERO);
}

fn main() {}
