// RFC 9293 §3.10.3: RECEIVE is legal while the peer may still send: ESTABLISHED,
// FIN-WAIT-1, FIN-WAIT-2 and CLOSE-WAIT. In SYN-RECEIVED there is no data stream yet.
use tcp_fsm::{Tcp, tcp};

fn call(mut conn: Tcp<tcp::SynReceived>) {
    let mut buf = [0u8; 64];
    conn.receive(&mut buf);
}

fn main() {}
