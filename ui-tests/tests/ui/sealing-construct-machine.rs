// A machine cannot be built in an arbitrary state. Its fields are private, so the only
// way to get one is `new` (or `with_history`), in the initial state, followed by legal
// moves; a struct literal that skips straight to `Open` does not compile.
use ui_tests::{Door, door};

fn main() {
    let _open = Door {
        context: 0,
        state: door::Open,
        history: fsm_core::NoHistory,
    };
}
