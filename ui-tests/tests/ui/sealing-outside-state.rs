// The set of states is closed. The state trait (`DoorState`) is sealed: its hidden method
// takes a token that only the door's own module can name, so no other crate can
// implement it, and a type of one's own never becomes a state of `Door`.
use ui_tests::{Door, door};

struct Ajar;

impl door::DoorState for Ajar {
    const ID: door::StateId = door::StateId::Open;
    type Moves = ();

    fn __into_runtime<H>(_: Door<Self, H>, _: door::sealed::Token) -> door::Runtime<H> {
        unreachable!()
    }
}

fn main() {}
