// A closing connection cannot be reopened in place. From `FinWait` the only move is the
// peer's acknowledgement of our FIN, which leads to `Closed`; a new `connect` is legal
// only from there, so old and new connections never overlap.
use ui_tests::{Connection, connection};

fn main() {
    let fin_wait = Connection::new(0, connection::Closed)
        .dial(100)
        .syn_ack()
        .close();
    fin_wait.connect(connection::SynSent { iss: 200 });
}
