// Nothing leaves a final state. A demolished door (`Gone`) has no moves at all, so any
// move on it is a compile error, and the note shows its list of legal moves as empty:
// code that still holds a finished machine cannot bring it back to life.
use ui_tests::{Door, door};

fn main() {
    let gone = Door::new(0, door::Closed).demolish();
    gone.open();
}
