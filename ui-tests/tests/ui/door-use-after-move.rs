// A move consumes the machine. Once a closed door has been opened, the `Door<Closed>`
// value is gone, so nobody can keep acting on the state the door has left: using it
// again is the ordinary "use of moved value" error.
use ui_tests::{Door, door};

fn main() {
    let closed = Door::new(0, door::Closed);
    let _open = closed.open();
    let _locked = closed.lock_with(1234);
}
