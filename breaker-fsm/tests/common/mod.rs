//! Helpers shared by the integration tests: a breaker on a manual clock, and one-line calls.

#![allow(dead_code)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use breaker_fsm::breaker::StateId;
use breaker_fsm::clock::ManualClock;
use breaker_fsm::config::{Config, Settings};
use breaker_fsm::{CallError, CircuitBreaker};

/// A breaker whose time moves only when the test says so.
pub struct Rig {
    pub clock: ManualClock,
    pub breaker: CircuitBreaker<ManualClock>,
}

impl Rig {
    /// Every transition the breaker has made, as (from, to), oldest first.
    pub fn moves(&self) -> Vec<(StateId, StateId)> {
        self.breaker
            .metrics()
            .transitions
            .iter()
            .map(|t| (t.from, t.to))
            .collect()
    }

    pub fn new(settings: Settings) -> Rig {
        let config = settings.build().expect("test settings are valid");
        Rig::with_config(config)
    }

    pub fn with_config(config: Config) -> Rig {
        let clock = ManualClock::new();
        let breaker = CircuitBreaker::builder(config).clock(clock.clone()).build();
        Rig { clock, breaker }
    }

    /// A successful call.
    pub fn ok(&self) -> Result<u32, CallError<&'static str>> {
        self.breaker.call(|| Ok(7))
    }

    /// A failed call.
    pub fn fail(&self) -> Result<u32, CallError<&'static str>> {
        self.breaker.call(|| Err("boom"))
    }

    /// A successful call that takes `took` of clock time.
    pub fn slow_ok(&self, took: Duration) -> Result<u32, CallError<&'static str>> {
        self.breaker.call(|| {
            self.clock.advance(took);
            Ok(7)
        })
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    pub fn clock_now(&self) -> Duration {
        use breaker_fsm::clock::Clock;
        self.clock.now()
    }
}

/// Settings for exact tests: a window of exactly the last `calls` calls (one call per
/// bucket), a 50% failure threshold counted from `minimum` calls, a fixed 10 s wait, and
/// `permits` probes.
pub fn exact(calls: u32, minimum: u32, permits: u32) -> Settings {
    Config::builder()
        .count_window(calls, calls)
        .failure_rate_threshold(50.0)
        .minimum_calls(minimum)
        .fixed_wait(secs(10))
        .half_open_permits(permits)
        .max_half_open_wait(None)
        .seed(1)
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

pub fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

/// Polls `future` once with a waker that does nothing: no executor needed.
pub fn poll_once<F: Future>(future: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs a future that is ready at once to completion, with no executor.
pub fn block_on_ready<F: Future>(future: F) -> F::Output {
    let future = pin!(future);
    match poll_once(future) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("the future was expected to be ready at once"),
    }
}
