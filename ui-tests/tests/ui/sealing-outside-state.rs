// The set of states is closed. The state trait (`DoorState`) is sealed: only the states
// declared in `machine!` implement it, so a type from outside cannot become a state of
// `Door` and open a way around the declared edges.
use ui_tests::{Door, door};

struct Ajar;

impl door::DoorState for Ajar {
    type Moves = ();

    fn __into_runtime<H>(_: Door<Self, H>) -> door::Runtime<H> {
        unreachable!()
    }
}

fn main() {}
