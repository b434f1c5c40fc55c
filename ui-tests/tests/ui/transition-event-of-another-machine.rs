// An event belongs to its machine. `Connection` also has an event called `close`, but
// its type is not an event of `Door`, so it cannot move a door even where the names
// match: machines cannot be mixed up by their event names.
use ui_tests::{Door, connection, door};

fn main() {
    let open = Door::new(0, door::Closed).open();
    open.transition(connection::event::close, door::Closed);
}
