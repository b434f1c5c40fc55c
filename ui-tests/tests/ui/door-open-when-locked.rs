// A locked door cannot be opened. `open` exists only on a closed door, so calling it on
// a `Door<Locked>` does not compile, and the error lists the moves that are legal from
// `Locked` instead: the door has to be unlocked first.
use ui_tests::{Door, door};

fn main() {
    let locked = Door::new(0, door::Closed).lock_with(1234);
    locked.open();
}
