// An edge is written `From + event => To`. Every edge needs its event: an edge written
// `On => Off` names no event to take it, and the error says what was expected. The other
// edges are kept, so the rest of the machine is still checked and generated.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On },
        edges: {
            Off + switch_on => On,
            On => Off,
        },
    }
}

fn main() {}
