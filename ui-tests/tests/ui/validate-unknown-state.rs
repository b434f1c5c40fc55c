// Every state an edge names must be declared. A misspelled state would otherwise be a
// silent dead end; the error points at the unknown name and lists the declared states.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On },
        edges: {
            Off + switch_on => On,
            Onn + switch_off => Off,
        },
    }
}

fn main() {}
