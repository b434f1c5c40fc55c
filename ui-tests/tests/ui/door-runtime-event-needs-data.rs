// A run-time event that enters a state with data carries that data. `Event::Lock` holds
// the new `Locked` state, so firing it bare does not compile: the run-time path cannot
// make a locked door without a code either.
use ui_tests::{Door, door};

fn main() {
    let runtime: door::Runtime = Door::new(0, door::Closed).into();
    let _ = runtime.fire(door::Event::Lock);
}
