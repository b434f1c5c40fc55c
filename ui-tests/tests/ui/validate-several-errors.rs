// All mistakes in a declaration are reported at once, each on its own token, and the
// machine is still generated from what was valid. So the code below that uses the valid
// part adds no errors of its own: each mistake is reported once, where it was made.
fsm_core::machine! {
    pub Job {
        initial: Queued,
        final: Done,
        states: { Queued, Running { worker: u8 }, Done, Queued },
        edges: {
            Queued + start => Running,
            Running + finish => Done,
            Running + finish => Queued,
            Running + pause => Paused,
            Done + retry => Queued,
        },
    }
}

fn main() {
    let running = Job::new((), job::Queued).start(job::Running { worker: 3 });
    let done = running.finish();
    assert_eq!(done.state_id(), job::StateId::Done);
}
