// Data can be sent only on an established connection. `send` is a capability of
// `Established` alone, so sending on a connection that is still closed does not compile:
// there is nobody to send to yet.
use ui_tests::{Connection, connection};

fn main() {
    let mut conn = Connection::new(0, connection::Closed);
    conn.send(b"hello");
}
