// A half-open breaker re-opens with `reopen`, not `trip`: `trip` is the move from
// `Closed` (the rates reached a threshold), and a failed probe is a different event with
// its own backoff. The error lists the moves that are legal from `HalfOpen`.
use breaker_fsm::{Breaker, breaker};
use std::time::Duration;

fn main() {
    let half_open = Breaker::new((), breaker::Closed)
        .trip(breaker::Open {
            until: Duration::from_secs(30),
            attempt: 1,
        })
        .probe(breaker::HalfOpen::after(1, Duration::from_secs(30), 1));
    half_open.trip(breaker::Open {
        until: Duration::from_secs(60),
        attempt: 2,
    });
}
