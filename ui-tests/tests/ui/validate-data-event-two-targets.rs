// An event that enters a state with data must always enter that state. Its run-time
// form, `Event::Start(Running)`, carries the new state's data, so `start` cannot also
// lead to `Idle` from another state.
fsm_core::machine! {
    pub Worker {
        initial: Idle,
        states: { Idle, Running { pid: u32 }, Paused },
        edges: {
            Idle + start => Running,
            Running + pause => Paused,
            Paused + start => Idle,
        },
    }
}

fn main() {}
