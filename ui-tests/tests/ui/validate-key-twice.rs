// Each key is given at most once. Two `initial:` keys (or two `edges:` blocks) leave it
// unclear which one counts, so the second is an error rather than silently winning.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        initial: On,
        states: { Off, On },
        edges: {
            Off + switch_on => On,
            On + switch_off => Off,
        },
    }
}

fn main() {}
