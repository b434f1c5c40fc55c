// A connection cannot skip its handshake. The SYN-ACK that establishes it is legal only
// in `SynSent`, after our SYN went out, so going from `Closed` straight to `Established`
// does not compile.
use ui_tests::{Connection, connection};

fn main() {
    let closed = Connection::new(0, connection::Closed);
    closed.syn_ack();
}
