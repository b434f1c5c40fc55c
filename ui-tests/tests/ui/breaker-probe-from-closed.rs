// A closed breaker cannot start probing: `probe` leads from `Open` only, so a breaker
// has to trip (and wait) before it can be half-open. The error lists the moves that are
// legal from `Closed`.
use breaker_fsm::{Breaker, breaker};
use std::time::Duration;

fn main() {
    let closed = Breaker::new((), breaker::Closed);
    closed.probe(breaker::HalfOpen::after(1, Duration::ZERO, 1));
}
