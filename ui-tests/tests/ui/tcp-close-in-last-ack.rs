// RFC 9293 §3.10.4: CLOSE is legal once, where something is left to close. In LAST-ACK
// our side has already closed ("error: connection closing").
use tcp_fsm::{Tcp, tcp};

fn call(conn: Tcp<tcp::LastAck>) {
    let _ = conn.close();
}

fn main() {}
