// The initial state must be one of the declared states: the machine's constructor `new`
// takes a value of that state, so it has to exist.
fsm_core::machine! {
    pub Lamp {
        initial: Of,
        states: { Off, On },
        edges: {
            Off + switch_on => On,
            On + switch_off => Off,
        },
    }
}

fn main() {}
