// An edge is written `From + event => To`. Every edge needs its event: an edge written
// `Off => On` names no event to take it, and the error says what was expected.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On },
        edges: {
            Off => On,
            On + switch_off => Off,
        },
    }
}

fn main() {}
