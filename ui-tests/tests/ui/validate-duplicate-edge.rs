// An edge is declared once. A repeated edge is harmless in itself but is almost always
// a copy-and-paste slip where another edge was meant, so it is an error.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On },
        edges: {
            Off + switch_on => On,
            On + switch_off => Off,
            Off + switch_on => On,
        },
    }
}

fn main() {}
