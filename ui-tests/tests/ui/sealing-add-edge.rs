// The set of edges is closed. The edge trait is implemented for the declared edges only,
// and another crate cannot add an implementation: none of the types involved is its own,
// so `Locked + open => Open` cannot be slipped in from outside.
use ui_tests::door;

impl door::Edge<door::event::open, (door::event::unlock,)> for door::Locked {
    type To = door::Open;
}

fn main() {}
