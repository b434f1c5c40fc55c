// An open breaker cannot close without probing. There is no `close` move from `Open`:
// it must first move to `HalfOpen` (`probe`), where enough successful probes close it.
// The error lists the moves that are legal from `Open`.
use breaker_fsm::{Breaker, breaker};
use std::time::Duration;

fn main() {
    let open = Breaker::new((), breaker::Closed).trip(breaker::Open {
        until: Duration::from_secs(30),
        attempt: 1,
    });
    open.close();
}
