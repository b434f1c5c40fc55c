// No edge may leave a final state. `final:` promises that a machine in that state is
// finished for good; an edge out of it contradicts the promise, so it is rejected on its
// source state.
fsm_core::machine! {
    pub Job {
        initial: Running,
        final: Done,
        states: { Running, Done },
        edges: {
            Running + finish => Done,
            Done + restart => Running,
        },
    }
}

fn main() {}
