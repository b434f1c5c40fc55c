// A breaker that an operator forced open cannot make a call either: `ForcedOpen` has no
// `call` capability, so `admit` does not exist on it. The error names the moves that
// are legal from `ForcedOpen` (an operator must disable, reset or switch to metrics only).
use breaker_fsm::{Breaker, breaker};

fn main() {
    let mut forced = Breaker::new((), breaker::Closed).force_open();
    forced.admit();
}
