// `state_mut` changes a state's data, never the state itself. Its type is the current
// state's type, so writing another state through it is a type mismatch: the only way to
// change state is a declared move.
use ui_tests::{Door, door};

fn main() {
    let mut locked = Door::new(0, door::Closed).lock_with(1234);
    locked.state_mut().code = 4321;
    *locked.state_mut() = door::Open;
}
