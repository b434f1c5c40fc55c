// A capability is an operation allowed in some states only, and its bound keeps it out
// of the others. Knocking needs a shut door (`knock: [Closed, Locked]`), so knocking on
// an open one does not compile, and the note lists the states that may knock.
use ui_tests::{Door, door};

fn main() {
    let mut open = Door::new(0, door::Closed).open();
    open.knock();
}
