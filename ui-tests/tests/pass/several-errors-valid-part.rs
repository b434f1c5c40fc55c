// The valid part of `tests/ui/validate-several-errors.rs`, with its mistakes taken out:
// the same uses compile, which is why they add no errors in the failing case.
fsm_core::machine! {
    pub Job {
        initial: Queued,
        final: Done,
        states: { Queued, Running { worker: u8 }, Done },
        edges: {
            Queued + start => Running,
            Running + finish => Done,
        },
    }
}

fn main() {
    let running = Job::new((), job::Queued).start(job::Running { worker: 3 });
    let done = running.finish();
    assert_eq!(done.state_id(), job::StateId::Done);
}
