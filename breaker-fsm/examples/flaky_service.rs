//! A circuit breaker in front of a simulated flaky service, on a simulated clock.
//!
//! The service answers well for 10 seconds, then has an outage of 20 seconds (most
//! requests fail, many hang for a second first), then recovers. A client sends a request
//! every 100 ms through the breaker. The breaker's listener prints each state change as it
//! happens; at the end the example prints the breadcrumbs (the state history) and the
//! metrics snapshot.
//!
//! Everything is deterministic: time is a `ManualClock` that the service advances by the
//! time each request takes, and the service's luck comes from a seeded generator.
//!
//! Run it with `cargo run -p breaker-fsm --example flaky_service`.

use std::fmt;
use std::time::Duration;

use breaker_fsm::clock::{Clock, ManualClock};
use breaker_fsm::config::{Config, ConfigError};
use breaker_fsm::engine::Transition;
use breaker_fsm::{CallError, CircuitBreaker, Rejection};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What the service can go wrong with.
#[derive(Debug)]
enum ServiceError {
    /// It answered with an error.
    Unavailable,
    /// It did not answer in time.
    Timeout,
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServiceError::Unavailable => "503 unavailable",
            ServiceError::Timeout => "timed out",
        })
    }
}

/// A service whose health depends on the (simulated) time.
struct FlakyService {
    clock: ManualClock,
    luck: StdRng,
}

impl FlakyService {
    /// The chance that a request fails at `now`, and the chance that a failure hangs.
    fn health(now: Duration) -> (f64, f64) {
        match now.as_secs() {
            0..10 => (0.05, 0.0),
            10..30 => (0.9, 0.5),
            _ => (0.02, 0.0),
        }
    }

    fn request(&mut self, id: u32) -> Result<String, ServiceError> {
        let (failure, hang) = Self::health(self.clock.now());
        if !self.luck.random_bool(failure) {
            self.clock.advance(Duration::from_millis(20));
            return Ok(format!("reply #{id}"));
        }
        if self.luck.random_bool(hang) {
            self.clock.advance(Duration::from_secs(1));
            return Err(ServiceError::Timeout);
        }
        self.clock.advance(Duration::from_millis(5));
        Err(ServiceError::Unavailable)
    }
}

/// What the client saw, request by request.
#[derive(Debug, Default)]
struct Tally {
    answered: u32,
    failed: u32,
    rejected: u32,
}

fn print_transition(transition: &Transition) {
    println!(
        "  [{:>7.3}s] {} --{}--> {}",
        transition.at.as_secs_f64(),
        transition.from,
        transition.event,
        transition.to
    );
}

fn main() -> Result<(), ConfigError> {
    let config = Config::builder()
        .count_window(20, 4)
        .failure_rate_threshold(50.0)
        .slow_calls(Duration::from_millis(800), 50.0)
        .minimum_calls(10)
        .backoff(Duration::from_secs(2), 2.0, Duration::from_secs(8), 0.25)
        .half_open_permits(3)
        .seed(7)
        .build()?;
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::builder(config)
        .clock(clock.clone())
        .listener(print_transition)
        .build();
    let mut service = FlakyService {
        clock: clock.clone(),
        luck: StdRng::seed_from_u64(2024),
    };

    println!("state changes, as the listener hears them:");
    let mut tally = Tally::default();
    for id in 0..450 {
        clock.advance(Duration::from_millis(100));
        match breaker.call(|| service.request(id)) {
            Ok(_) => tally.answered += 1,
            Err(CallError::Inner(_)) => tally.failed += 1,
            Err(CallError::Rejected(rejection)) => {
                tally.rejected += 1;
                // One refusal in 25 is enough to show what a caller is told.
                if matches!(rejection, Rejection::Open { .. }) && tally.rejected % 25 == 1 {
                    println!("  (request #{id} refused: {rejection})");
                }
            }
        }
    }

    println!("\nbreadcrumbs (the state history kept by the machine):");
    print!("{}", breaker.breadcrumbs());
    let metrics = breaker.metrics();
    println!("\nclient: {tally:?}");
    println!(
        "breaker: {:?}, lifetime {:?}",
        metrics.state, metrics.lifetime
    );
    Ok(())
}
