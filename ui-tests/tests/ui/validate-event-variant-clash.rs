// Two events may not give the same run-time variant. `turn_on` and `turnOn` both become
// `Event::TurnOn`, which `fire` could not tell apart; the second one is rejected.
fsm_core::machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On, Dim },
        edges: {
            Off + turn_on => On,
            Dim + turnOn => On,
            On + dim => Dim,
        },
    }
}

fn main() {}
