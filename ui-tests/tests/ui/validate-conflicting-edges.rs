// One event from one state leads to one state. If `Idle + start` could end in `Running`
// or in `Paused`, the type of `idle.start()` would be ambiguous; the second edge is
// rejected on its event.
fsm_core::machine! {
    pub Job {
        initial: Idle,
        states: { Idle, Running, Paused },
        edges: {
            Idle + start => Running,
            Idle + start => Paused,
            Running + pause => Paused,
            Paused + resume => Running,
        },
    }
}

fn main() {}
