// Every state must be reachable from the initial state along declared edges. A state no
// edge leads to is dead code that looks alive, usually a forgotten edge; the error is on
// the state.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On, Broken },
        edges: {
            Off + switch_on => On,
            On + switch_off => Off,
        },
    }
}

fn main() {}
