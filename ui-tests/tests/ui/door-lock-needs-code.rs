// Entering a state with data takes that data. `Locked { code }` carries a code, so the
// generated `lock` takes the new state's value, and a locked door without a code cannot
// be made by forgetting the argument.
use ui_tests::{Door, door};

fn main() {
    let closed = Door::new(0, door::Closed);
    closed.lock();
}
