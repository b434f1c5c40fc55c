// RFC 9293 §3.10.2: SEND is legal in ESTABLISHED and CLOSE-WAIT only. In CLOSED the
// handshake is not done, and this stack sends no data before it.
use tcp_fsm::{Tcp, tcp};

fn call(mut conn: Tcp<tcp::Closed>) {
    conn.send(b"data");
}

fn main() {}
