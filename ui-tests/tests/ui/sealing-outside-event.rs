// The set of events is closed. A type from outside the door's module is not one of its
// events, whatever it is called: the compiler says so, and `transition` finds no edge
// for it. Only the events the declaration names can move the machine.
use ui_tests::{Door, door};

#[allow(non_camel_case_types)]
struct open;

fn main() {
    let closed = Door::new(0, door::Closed);
    closed.transition(open, door::Open);
}
