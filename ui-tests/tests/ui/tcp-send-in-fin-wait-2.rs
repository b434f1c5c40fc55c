// RFC 9293 §3.10.2: SEND is legal in ESTABLISHED and CLOSE-WAIT only. In FIN-WAIT-2 our
// side has closed ("error: connection closing"): no data may follow our FIN.
use tcp_fsm::{Tcp, tcp};

fn call(mut conn: Tcp<tcp::FinWait2>) {
    conn.send(b"data");
}

fn main() {}
