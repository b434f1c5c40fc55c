//! The breaker-fsm part of the demonstration: a circuit breaker trips, refuses calls while
//! open, probes after its wait and closes again, on a manual clock so that every run
//! prints the same lines.

use std::time::Duration;

use breaker_fsm::breaker::{self, StateId};
use breaker_fsm::clock::{Clock, ManualClock};
use breaker_fsm::config::Config;
use breaker_fsm::engine::Transition;
use breaker_fsm::{Breaker, CallError, CircuitBreaker};

/// Runs this part of the demonstration.
pub fn run() {
    println!("\n== circuit breaker: the typestate layer");
    let open = Breaker::new((), breaker::Closed).trip(breaker::Open {
        until: Duration::from_secs(5),
        attempt: 1,
    });
    // open.admit();  // compile error: an open breaker cannot make a call
    // open.close();  // compile error: `Breaker` has no `close` move from state `Open`
    let mut half_open = open.probe(breaker::HalfOpen::after(1, Duration::from_secs(5), 1));
    println!(
        "Closed -> Open -> HalfOpen; a probe permit: {:?}, a second one: {:?}",
        half_open.admit(),
        half_open.admit()
    );

    println!("\n== circuit breaker: in front of a dependency, on a manual clock");
    let config = Config::builder()
        .count_window(10, 10)
        .failure_rate_threshold(50.0)
        .minimum_calls(4)
        .fixed_wait(Duration::from_secs(5))
        .half_open_permits(2)
        .build()
        .expect("the demonstration's settings are valid");
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::builder(config)
        .clock(clock.clone())
        .listener(|t: &Transition| {
            println!("       listener: {} --{}--> {}", t.from, t.event, t.to)
        })
        .build();
    println!("window: last 10 calls; trips at 50% failures from 4 calls; waits 5 s; 2 probes");

    // Whether each call works, and how many seconds pass before it.
    let script = [
        (true, 1),
        (true, 1),
        (false, 1),
        (true, 1),
        (false, 1),
        (false, 1),
    ];
    let probes = [(true, 2), (true, 5), (true, 0)];
    println!("time   state after the call, and its outcome");
    for (works, wait) in script.into_iter().chain(probes) {
        clock.advance(Duration::from_secs(wait));
        let result = breaker.call(|| if works { Ok("pong") } else { Err("timeout") });
        let shown = match &result {
            Ok(reply) => format!("ok: {reply}"),
            Err(CallError::Inner(error)) => format!("failed: {error}"),
            Err(CallError::Rejected(rejection)) => format!("refused: {rejection}"),
        };
        let now = clock.now().as_secs();
        println!("t={now:>2}s  {:<9} {shown}", breaker.state().to_string());
    }
    assert_eq!(breaker.state(), StateId::Closed);

    println!("breadcrumbs:");
    print!("{}", breaker.breadcrumbs());
    let metrics = breaker.metrics();
    println!(
        "lifetime: {} calls, {} failed, {} refused",
        metrics.lifetime.calls, metrics.lifetime.failures, metrics.lifetime.rejected
    );
}
