// Each state is declared once. A second `Off` would be a second type of the same name;
// the error points at the repeat, and the machine is still generated with one `Off`.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On, Off },
        edges: {
            Off + switch_on => On,
            On + switch_off => Off,
        },
    }
}

fn main() {}
