// An open breaker cannot make a call. Admitting a call needs the `call` capability,
// which the breaker's declaration grants to `Closed`, `HalfOpen`, `Disabled` and
// `MetricsOnly` only, so code that holds a `Breaker<Open>` has no way to let a call
// through. The error says where a call is allowed and which moves are legal from `Open`.
use breaker_fsm::{Breaker, breaker};
use std::time::Duration;

fn main() {
    let mut open = Breaker::new((), breaker::Closed).trip(breaker::Open {
        until: Duration::from_secs(30),
        attempt: 1,
    });
    open.admit();
}
