// The set of events is closed. A type from outside can claim to be an event of `Door`
// (implementing `EventMarker<door::Spec>` is allowed), but it is not one of the sealed
// events of the door's module, so `transition` does not accept it.
use ui_tests::{Door, door};

struct Kick;

impl fsm_core::EventMarker<door::Spec> for Kick {
    const ID: door::EventId = door::EventId::Open;
}

fn main() {
    let closed = Door::new(0, door::Closed);
    closed.transition(Kick, door::Open);
}
