// The set of states is closed. The state trait (`DoorState`) is sealed: only the states
// declared in `machine!` implement it. Implementing fsm-core's public `State` trait for a
// type of one's own is allowed, but it does not make that type a state of `Door`.
use ui_tests::{Door, door};

struct Ajar;

impl fsm_core::State<door::Spec> for Ajar {
    const ID: door::StateId = door::StateId::Open;
}

impl door::DoorState for Ajar {
    type Moves = ();

    fn __into_runtime<H>(_: Door<Self, H>) -> door::Runtime<H> {
        unreachable!()
    }
}

fn main() {}
