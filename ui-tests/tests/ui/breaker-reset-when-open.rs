// An operator's reset cannot close an open breaker either. `reset` leads to `Closed`
// from every state but `Open`, so calling it on a `Breaker<Open>` does not compile; the
// error lists the moves that are legal from `Open` (the run-time breaker's reset ends the
// wait and probes instead).
use breaker_fsm::{Breaker, breaker};
use std::time::Duration;

fn main() {
    let open = Breaker::new((), breaker::Closed).trip(breaker::Open {
        until: Duration::from_secs(30),
        attempt: 1,
    });
    open.reset();
}
