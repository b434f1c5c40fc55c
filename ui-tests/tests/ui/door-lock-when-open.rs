// An open door cannot be locked: the bolt would lock nothing. `lock` leaves only from
// `Closed`, so the door must be closed first; the error says which moves an open door has.
use ui_tests::{Door, door};

fn main() {
    let open = Door::new(0, door::Closed).open();
    open.lock(door::Locked { code: 1234 });
}
