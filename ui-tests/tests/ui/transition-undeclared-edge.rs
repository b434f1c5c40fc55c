// The `transition` primitive moves only along declared edges. Hand-written methods use it
// to take payloads or check guards, but it is bound by the same edge trait as the
// generated moves: `Locked + open` is not declared, so it does not compile.
use ui_tests::{Door, door};

fn main() {
    let locked = Door::new(0, door::Closed).lock_with(1234);
    locked.transition(door::event::open, door::Open);
}
