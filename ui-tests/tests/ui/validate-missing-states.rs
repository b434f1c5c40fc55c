// A machine needs a `states:` block; without states there is nothing to be in. The error
// is on the machine's name.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        edges: {},
    }
}

fn main() {}
