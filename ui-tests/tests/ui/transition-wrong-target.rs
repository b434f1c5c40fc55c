// The `transition` primitive enters only the target that the edge declares. `Closed +
// open` leads to `Open`, so asking it to enter `Locked` instead is a type mismatch: an
// event cannot be reused to reach a state its edge does not name.
use ui_tests::{Door, door};

fn main() {
    let closed = Door::new(0, door::Closed);
    closed.transition(door::event::open, door::Locked { code: 1234 });
}
