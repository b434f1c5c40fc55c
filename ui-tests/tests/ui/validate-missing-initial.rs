// A machine needs an initial state: it is the state `new` starts in, and the root from
// which every other state must be reachable. Leaving out `initial:` is an error on the
// machine's name.
fsm_core::machine! {
    pub Lamp {
        states: { Off, On },
        edges: {
            Off + switch_on => On,
            On + switch_off => Off,
        },
    }
}

fn main() {}
