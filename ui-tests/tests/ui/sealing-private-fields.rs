// A machine cannot be taken apart. Its fields are private, so code outside cannot move
// the context or the state out by destructuring and put them into a machine of its own
// making; `context()`, `state()` and `into_context()` are the way to read them.
use ui_tests::{Door, door};

fn main() {
    let locked = Door::new(7, door::Closed).lock_with(1234);
    let Door { context, .. } = locked;
    let _ = context;
}
