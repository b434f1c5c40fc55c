//! One deterministic test per rule of the breaker's policy, on a manual clock.
//!
//! Every test names the rule it checks. Time moves only when a test advances the
//! [`ManualClock`], so each boundary (a rate exactly at its threshold, a call exactly as
//! long as the slow-call duration, the first instant after a wait) is checked exactly.

mod common;

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use breaker_fsm::breaker::{EventId, StateId};
use breaker_fsm::clock::{ManualClock, MonotonicClock};
use breaker_fsm::config::{Config, ConfigError, RateField};
use breaker_fsm::engine::{Engine, Outcome as EngineOutcome, Transition};
use breaker_fsm::machine::CallKind;
use breaker_fsm::window::Counts;
use breaker_fsm::{CallError, CircuitBreaker, Outcome, Rejection};
use common::{Rig, block_on_ready, exact, ms, poll_once, secs};

fn counts(calls: u64, failures: u64, slow: u64) -> Counts {
    Counts {
        calls,
        failures,
        slow,
    }
}

/// Trips a rig made with [`exact`] and a minimum of at most 2 calls.
fn trip(rig: &Rig) {
    let _ = rig.fail();
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), StateId::Open);
}

// ---- Closed -------------------------------------------------------------------------

#[test]
fn closed_runs_the_call_and_returns_its_value() {
    let rig = Rig::new(exact(4, 2, 1));
    assert_eq!(rig.ok(), Ok(7));
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn the_wrapped_error_is_returned_unchanged() {
    let rig = Rig::new(exact(4, 4, 1));
    let error = rig.fail().unwrap_err();
    assert!(!error.is_rejected());
    assert_eq!(error, CallError::Inner("boom"));
    assert_eq!(error.into_inner(), Some("boom"));
}

#[test]
fn failure_rate_exactly_at_the_threshold_trips() {
    let rig = Rig::new(exact(4, 4, 1));
    for _ in 0..3 {
        rig.ok().unwrap();
    }
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), StateId::Closed, "1 of 4 is 25%");
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), StateId::Open, "2 of the last 4 is 50%");
}

#[test]
fn rates_do_not_count_below_minimum_calls() {
    let rig = Rig::new(exact(10, 4, 1));
    for _ in 0..3 {
        let _ = rig.fail();
    }
    assert_eq!(
        rig.breaker.state(),
        StateId::Closed,
        "3 failures of 3 calls, minimum 4"
    );
    assert_eq!(rig.breaker.metrics().failure_rate, None);
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), StateId::Open);
}

#[test]
fn a_success_never_trips_even_when_it_reaches_minimum_calls() {
    let rig = Rig::new(exact(10, 4, 1));
    for _ in 0..3 {
        let _ = rig.fail();
    }
    rig.ok().unwrap();
    assert_eq!(
        rig.breaker.state(),
        StateId::Closed,
        "75% but the latest call worked"
    );
    assert!(rig.breaker.metrics().over_threshold);
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), StateId::Open);
}

#[test]
fn count_window_forgets_calls_that_slid_out() {
    let rig = Rig::new(exact(4, 4, 1));
    let _ = rig.ok();
    let _ = rig.fail();
    for _ in 0..4 {
        rig.ok().unwrap();
    }
    assert_eq!(rig.breaker.metrics().window, counts(4, 0, 0));
    let _ = rig.fail();
    assert_eq!(rig.breaker.metrics().window, counts(4, 1, 0));
    assert_eq!(rig.breaker.state(), StateId::Closed);
    // Counted from the start it would be 3 of 8; over the last 4 calls it is 2 of 4.
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), StateId::Open);
}

#[test]
fn count_window_slides_a_bucket_at_a_time() {
    // 4 calls in 2 buckets of 2: the window holds 4 or 5 calls once full.
    let rig = Rig::new(
        Config::builder()
            .count_window(4, 2)
            .minimum_calls(4)
            .failure_rate_threshold(100.0),
    );
    for expected in [1, 2, 3, 4, 5, 4, 5, 4] {
        rig.ok().unwrap();
        assert_eq!(rig.breaker.metrics().window.calls, expected);
    }
}

fn time_window_rig() -> Rig {
    Rig::new(
        Config::builder()
            .time_window(secs(10), 10)
            .minimum_calls(2)
            .failure_rate_threshold(60.0)
            .fixed_wait(secs(10)),
    )
}

#[test]
fn time_window_counts_calls_within_its_length() {
    let rig = time_window_rig();
    let _ = rig.fail();
    rig.advance(secs(9));
    rig.ok().unwrap();
    let _ = rig.fail();
    assert_eq!(
        rig.breaker.state(),
        StateId::Open,
        "2 of 3 within 10 s is 66%"
    );
}

#[test]
fn time_window_forgets_calls_older_than_its_length() {
    let rig = time_window_rig();
    let _ = rig.fail();
    rig.advance(secs(11));
    rig.ok().unwrap();
    let _ = rig.fail();
    assert_eq!(
        rig.breaker.state(),
        StateId::Closed,
        "the first failure slid out: 50%"
    );
    assert_eq!(rig.breaker.metrics().window, counts(2, 1, 0));
}

#[test]
fn time_window_keeps_fixed_buckets_however_many_calls() {
    let rig = time_window_rig();
    for _ in 0..10_000 {
        rig.ok().unwrap();
    }
    rig.advance(ms(1500));
    let _ = rig.fail();
    assert_eq!(rig.breaker.metrics().window, counts(10_001, 1, 0));
    rig.advance(secs(11));
    rig.ok().unwrap();
    let _ = rig.fail();
    assert_eq!(rig.breaker.metrics().window, counts(2, 1, 0));
}

fn slow_rig() -> Rig {
    Rig::new(
        Config::builder()
            .count_window(4, 4)
            .minimum_calls(4)
            .slow_calls(ms(100), 50.0)
            .fixed_wait(secs(10))
            .half_open_permits(1),
    )
}

#[test]
fn slow_call_rate_exactly_at_the_threshold_trips() {
    let rig = slow_rig();
    rig.slow_ok(ms(100)).unwrap();
    rig.ok().unwrap();
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
    rig.slow_ok(ms(250)).unwrap();
    assert_eq!(
        rig.breaker.metrics().window,
        counts(0, 0, 0),
        "a new window after the trip"
    );
    assert_eq!(
        rig.breaker.state(),
        StateId::Open,
        "2 slow calls of 4 is 50%"
    );
}

#[test]
fn a_call_shorter_than_the_slow_call_duration_is_not_slow() {
    let rig = slow_rig();
    for _ in 0..4 {
        rig.slow_ok(ms(99)).unwrap();
    }
    assert_eq!(rig.breaker.state(), StateId::Closed);
    assert_eq!(rig.breaker.metrics().window, counts(4, 0, 0));
}

#[test]
fn without_slow_call_detection_long_calls_are_not_slow() {
    let rig = Rig::new(exact(4, 2, 1));
    for _ in 0..4 {
        rig.slow_ok(secs(3600)).unwrap();
    }
    assert_eq!(rig.breaker.metrics().window, counts(4, 0, 0));
}

// ---- Open ---------------------------------------------------------------------------

#[test]
fn open_rejects_without_running_the_call() {
    let rig = Rig::new(exact(4, 2, 1));
    trip(&rig);
    let ran = Cell::new(false);
    let result = rig.breaker.call(|| {
        ran.set(true);
        Ok::<_, &str>(())
    });
    assert!(!ran.get());
    assert!(result.unwrap_err().is_rejected());
    assert_eq!(rig.breaker.metrics().lifetime.rejected, 1);
}

#[test]
fn a_rejection_says_when_the_breaker_will_probe() {
    let rig = Rig::new(exact(4, 2, 1));
    rig.advance(secs(5));
    trip(&rig);
    rig.advance(secs(4));
    let rejection = *rig.ok().unwrap_err().rejection().unwrap();
    assert_eq!(
        rejection,
        Rejection::Open {
            next_probe_at: secs(15),
            retry_after: secs(6)
        }
    );
    assert_eq!(rejection.retry_after(), Some(secs(6)));
    assert!(rejection.to_string().contains("open"), "{rejection}");
}

#[test]
fn open_lets_a_probe_through_exactly_when_the_wait_ends() {
    let rig = Rig::new(exact(4, 2, 1));
    trip(&rig);
    rig.advance(secs(10) - Duration::from_nanos(1));
    assert!(rig.ok().is_err());
    rig.advance(Duration::from_nanos(1));
    let permit = rig.breaker.acquire().unwrap();
    assert_eq!(permit.kind(), CallKind::Probe);
    assert_eq!(rig.breaker.state(), StateId::HalfOpen);
    permit.success();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn poll_moves_an_open_breaker_to_half_open_without_a_call() {
    let rig = Rig::new(exact(4, 2, 1));
    trip(&rig);
    rig.advance(secs(10));
    assert_eq!(
        rig.breaker.state(),
        StateId::Open,
        "nothing has looked at the time yet"
    );
    rig.breaker.poll();
    assert_eq!(rig.breaker.state(), StateId::HalfOpen);
}

// ---- HalfOpen -----------------------------------------------------------------------

fn half_open(permits: u32) -> Rig {
    let rig = Rig::new(exact(4, 2, permits));
    trip(&rig);
    rig.advance(secs(10));
    rig.breaker.poll();
    assert_eq!(rig.breaker.state(), StateId::HalfOpen);
    rig
}

#[test]
fn half_open_admits_exactly_its_permits() {
    let rig = half_open(3);
    let permits: Vec<_> = (0..3).map(|_| rig.breaker.acquire().unwrap()).collect();
    assert!(
        permits
            .iter()
            .all(|permit| permit.kind() == CallKind::Probe)
    );
    assert_eq!(
        rig.breaker.acquire().unwrap_err(),
        Rejection::ProbesBusy { permits: 3 }
    );
    for permit in permits {
        permit.success();
    }
}

#[test]
fn half_open_closes_only_when_every_permit_succeeded() {
    let rig = half_open(3);
    rig.ok().unwrap();
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::HalfOpen);
    assert_eq!(rig.breaker.metrics().probes.unwrap().succeeded, 2);
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn a_succeeded_probe_keeps_its_permit() {
    let rig = half_open(2);
    rig.ok().unwrap();
    let last = rig.breaker.acquire().unwrap();
    assert_eq!(
        rig.breaker.acquire().unwrap_err(),
        Rejection::ProbesBusy { permits: 2 }
    );
    last.success();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn one_failed_probe_reopens() {
    let rig = half_open(3);
    rig.ok().unwrap();
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), StateId::Open);
    assert_eq!(rig.breaker.metrics().next_probe_at, Some(secs(20)));
}

#[test]
fn a_slow_probe_reopens() {
    let rig = slow_rig();
    for _ in 0..4 {
        rig.slow_ok(ms(100)).unwrap();
    }
    assert_eq!(rig.breaker.state(), StateId::Open);
    rig.advance(secs(10));
    rig.slow_ok(ms(100)).unwrap();
    assert_eq!(rig.breaker.state(), StateId::Open);
    rig.advance(secs(10));
    rig.slow_ok(ms(99)).unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn a_dropped_probe_permit_is_returned() {
    let rig = half_open(1);
    let permit = rig.breaker.acquire().unwrap();
    assert!(rig.breaker.acquire().is_err());
    drop(permit);
    assert_eq!(rig.breaker.metrics().lifetime.abandoned, 1);
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn a_panicking_probe_returns_its_permit() {
    let rig = half_open(1);
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        rig.breaker
            .call(|| -> Result<(), &str> { panic!("probe crashed") })
    }));
    assert!(panicked.is_err());
    assert_eq!(rig.breaker.state(), StateId::HalfOpen);
    assert_eq!(rig.breaker.metrics().probes.unwrap().issued, 0);
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn a_dropped_probe_future_returns_its_permit() {
    let rig = half_open(1);
    {
        let mut future = Box::pin(
            rig.breaker
                .call_future(std::future::pending::<Result<(), &str>>()),
        );
        assert!(poll_once(future.as_mut()).is_pending());
        assert!(
            rig.breaker.acquire().is_err(),
            "the pending future holds the permit"
        );
    }
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn an_ignored_probe_returns_its_permit() {
    let rig = half_open(1);
    let ignore = |_: &&str| Outcome::Ignored;
    let result = rig
        .breaker
        .call_with(&ignore, || Err::<(), _>("bad request"));
    assert_eq!(result.unwrap_err().into_inner(), Some("bad request"));
    assert_eq!(rig.breaker.state(), StateId::HalfOpen);
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn max_half_open_wait_reopens_when_a_probe_never_reports() {
    let rig = Rig::new(exact(4, 2, 1).max_half_open_wait(Some(secs(5))));
    trip(&rig);
    rig.advance(secs(10));
    std::mem::forget(rig.breaker.acquire().unwrap());
    rig.advance(secs(5) - Duration::from_nanos(1));
    assert_eq!(
        rig.breaker.acquire().unwrap_err(),
        Rejection::ProbesBusy { permits: 1 }
    );
    rig.advance(Duration::from_nanos(1));
    rig.breaker.poll();
    assert_eq!(rig.breaker.state(), StateId::Open);
    assert_eq!(rig.breaker.metrics().next_probe_at, Some(secs(25)));
}

// ---- Waits in Open ------------------------------------------------------------------

fn retry_after(rig: &Rig) -> Duration {
    rig.ok()
        .unwrap_err()
        .rejection()
        .unwrap()
        .retry_after()
        .unwrap()
}

#[test]
fn backoff_grows_with_each_reopen_and_stops_at_the_cap() {
    let rig = Rig::new(exact(4, 2, 1).backoff(secs(1), 2.0, secs(5), 0.0));
    trip(&rig);
    let mut waits = vec![retry_after(&rig)];
    for _ in 0..4 {
        rig.advance(*waits.last().unwrap());
        let _ = rig.fail();
        waits.push(retry_after(&rig));
    }
    assert_eq!(waits, [secs(1), secs(2), secs(4), secs(5), secs(5)]);
}

#[test]
fn backoff_starts_over_after_the_breaker_closes() {
    let rig = Rig::new(exact(4, 2, 1).backoff(secs(1), 2.0, secs(5), 0.0));
    trip(&rig);
    rig.advance(secs(1));
    let _ = rig.fail();
    assert_eq!(retry_after(&rig), secs(2));
    rig.advance(secs(2));
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
    trip(&rig);
    assert_eq!(retry_after(&rig), secs(1));
}

fn jittered_waits(seed: u64) -> Vec<Duration> {
    let rig = Rig::new(
        exact(4, 2, 1)
            .backoff(secs(1), 2.0, secs(60), 0.5)
            .seed(seed),
    );
    trip(&rig);
    let mut waits = Vec::new();
    for _ in 0..6 {
        let wait = retry_after(&rig);
        waits.push(wait);
        rig.advance(wait);
        let _ = rig.fail();
    }
    waits
}

#[test]
fn jitter_is_reproducible_with_a_seed_and_only_shortens_waits() {
    let waits = jittered_waits(42);
    assert_eq!(waits, jittered_waits(42));
    assert_ne!(waits, jittered_waits(43));
    for (attempt, wait) in waits.iter().enumerate() {
        let base = secs(1 << attempt);
        assert!(*wait <= base && *wait >= base / 2, "{wait:?} for {base:?}");
    }
}

// ---- Predicates ---------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ApiError {
    BadRequest,
    NotFound,
    Unavailable,
}

fn classify(error: &ApiError) -> Outcome {
    match error {
        ApiError::BadRequest => Outcome::Ignored,
        ApiError::NotFound => Outcome::Success,
        ApiError::Unavailable => Outcome::Failure,
    }
}

#[test]
fn ignored_errors_leave_the_rates_alone() {
    let rig = Rig::new(exact(4, 2, 1));
    for _ in 0..5 {
        let error = rig
            .breaker
            .call_with(&classify, || Err::<(), _>(ApiError::BadRequest))
            .unwrap_err();
        assert_eq!(error, CallError::Inner(ApiError::BadRequest));
    }
    let metrics = rig.breaker.metrics();
    assert_eq!(metrics.state, StateId::Closed);
    assert_eq!(metrics.window, counts(0, 0, 0));
    assert_eq!(metrics.lifetime.ignored, 5);
}

#[test]
fn a_predicate_can_count_an_error_as_a_success() {
    let rig = Rig::new(exact(4, 2, 1));
    for _ in 0..4 {
        let _ = rig
            .breaker
            .call_with(&classify, || Err::<(), _>(ApiError::NotFound));
    }
    assert_eq!(rig.breaker.metrics().window, counts(4, 0, 0));
    for _ in 0..2 {
        let _ = rig
            .breaker
            .call_with(&classify, || Err::<(), _>(ApiError::Unavailable));
    }
    assert_eq!(rig.breaker.state(), StateId::Open);
}

// ---- Manual controls ----------------------------------------------------------------

#[test]
fn disabled_lets_every_call_through_and_records_nothing() {
    let rig = Rig::new(exact(4, 2, 1));
    rig.breaker.disable();
    for _ in 0..10 {
        assert_eq!(rig.fail(), Err(CallError::Inner("boom")));
    }
    let metrics = rig.breaker.metrics();
    assert_eq!(metrics.state, StateId::Disabled);
    assert_eq!(metrics.window, counts(0, 0, 0));
    assert_eq!(metrics.lifetime.calls, 0);
}

#[test]
fn forced_open_rejects_every_call_until_changed() {
    let rig = Rig::new(exact(4, 2, 1));
    rig.breaker.force_open();
    assert_eq!(
        rig.ok().unwrap_err(),
        CallError::Rejected(Rejection::ForcedOpen)
    );
    rig.advance(secs(24 * 3600));
    assert_eq!(
        rig.ok().unwrap_err(),
        CallError::Rejected(Rejection::ForcedOpen)
    );
    rig.breaker.reset();
    assert_eq!(rig.ok(), Ok(7));
}

#[test]
fn metrics_only_records_but_never_trips() {
    let rig = Rig::new(exact(4, 2, 1));
    rig.breaker.metrics_only();
    for _ in 0..10 {
        let _ = rig.fail();
    }
    let metrics = rig.breaker.metrics();
    assert_eq!(metrics.state, StateId::MetricsOnly);
    assert_eq!(metrics.window, counts(4, 4, 0));
    assert_eq!(metrics.failure_rate, Some(100.0));
    assert!(metrics.over_threshold, "Closed would have tripped");
}

#[test]
fn reset_closes_the_breaker_with_an_empty_window() {
    let rig = Rig::new(exact(4, 3, 1));
    let _ = rig.fail();
    let _ = rig.fail();
    rig.breaker.reset();
    assert_eq!(rig.breaker.metrics().window, counts(0, 0, 0));
    let _ = rig.fail();
    let _ = rig.fail();
    assert_eq!(rig.breaker.state(), StateId::Closed, "2 calls, minimum 3");
}

#[test]
fn reset_of_an_open_breaker_ends_the_wait_but_still_probes() {
    let rig = Rig::new(exact(4, 2, 1));
    trip(&rig);
    rig.breaker.reset();
    assert_eq!(
        rig.breaker.state(),
        StateId::HalfOpen,
        "no move leads from Open to Closed"
    );
    rig.ok().unwrap();
    assert_eq!(rig.breaker.state(), StateId::Closed);
}

#[test]
fn a_manual_change_to_the_current_state_changes_nothing() {
    let rig = Rig::new(exact(4, 2, 1));
    rig.breaker.disable();
    let generation = rig.breaker.metrics().generation;
    rig.breaker.disable();
    assert_eq!(rig.breaker.metrics().generation, generation);
}

#[test]
fn manual_controls_move_between_every_manual_state() {
    let rig = Rig::new(exact(4, 2, 1));
    rig.breaker.force_open();
    rig.breaker.metrics_only();
    rig.breaker.disable();
    rig.breaker.force_open();
    rig.breaker.reset();
    let moves = rig.moves();
    use StateId::*;
    assert_eq!(
        moves,
        [
            (Closed, ForcedOpen),
            (ForcedOpen, MetricsOnly),
            (MetricsOnly, Disabled),
            (Disabled, ForcedOpen),
            (ForcedOpen, Closed)
        ]
    );
}

// ---- Generations --------------------------------------------------------------------

#[test]
fn an_outcome_from_an_earlier_generation_is_ignored() {
    let rig = Rig::new(exact(4, 1, 1));
    let early = rig.breaker.acquire().unwrap();
    rig.breaker.force_open();
    rig.breaker.reset();
    early.failure();
    let metrics = rig.breaker.metrics();
    assert_eq!(
        metrics.state,
        StateId::Closed,
        "one failure with minimum 1 would trip"
    );
    assert_eq!(metrics.window, counts(0, 0, 0));
    assert_eq!(metrics.lifetime.stale, 1);
}

#[test]
fn a_late_probe_after_a_reopen_is_ignored() {
    let rig = half_open(2);
    let first = rig.breaker.acquire().unwrap();
    let second = rig.breaker.acquire().unwrap();
    first.failure();
    assert_eq!(rig.breaker.state(), StateId::Open);
    second.success();
    assert_eq!(rig.breaker.state(), StateId::Open);
    assert_eq!(rig.breaker.metrics().lifetime.stale, 1);
}

// ---- Time ---------------------------------------------------------------------------

#[test]
fn time_that_runs_backwards_neither_ends_a_wait_early_nor_slides_a_window_back() {
    let config = exact(4, 2, 1).build().unwrap();
    let mut engine = Engine::new(config, 0, secs(100));
    for _ in 0..2 {
        let permit = engine.try_acquire(secs(100)).unwrap();
        engine.complete(secs(100), permit, EngineOutcome::Failure, Duration::ZERO);
    }
    assert_eq!(engine.next_probe_at(), Some(secs(110)));
    engine.poll(secs(108));
    // A reading of 0 after one of 108 s is taken as 108 s.
    let rejection = engine.try_acquire(Duration::ZERO).unwrap_err();
    assert_eq!(rejection.retry_after(), Some(secs(2)));
    assert_eq!(engine.now(), secs(108));
    assert_eq!(engine.state(), StateId::Open);
}

#[test]
fn the_default_clock_is_the_monotonic_one() {
    let breaker = CircuitBreaker::new(Config::default());
    let _: &MonotonicClock = breaker.clock();
    let clock = ManualClock::new();
    let manual = CircuitBreaker::builder(Config::default())
        .clock(clock.clone())
        .build();
    clock.advance(secs(3));
    use breaker_fsm::clock::Clock;
    assert_eq!(manual.clock().now(), secs(3));
}

#[cfg(target_os = "linux")]
#[test]
fn a_time_window_trips_on_the_coarse_clock() {
    let config = Config::builder()
        .time_window(secs(60), 60)
        .minimum_calls(2)
        .failure_rate_threshold(50.0)
        .build()
        .unwrap();
    let breaker = CircuitBreaker::builder(config)
        .clock(breaker_fsm::clock::CoarseClock::new())
        .build();
    assert_eq!(breaker.call(|| Ok::<_, &str>(1)).unwrap(), 1);
    let _ = breaker.call(|| Err::<u32, _>("down"));
    assert_eq!(breaker.state(), StateId::Open);
    assert!(matches!(
        breaker.call(|| Ok::<_, &str>(1)),
        Err(CallError::Rejected(Rejection::Open { .. }))
    ));
}

// ---- Listeners and metrics ----------------------------------------------------------

#[test]
fn listeners_hear_every_transition_in_order_with_its_time() {
    let heard = Arc::new(Mutex::new(Vec::<Transition>::new()));
    let sink = Arc::clone(&heard);
    let clock = ManualClock::new();
    let breaker = CircuitBreaker::builder(exact(4, 2, 1).build().unwrap())
        .clock(clock.clone())
        .listener(move |t: &Transition| sink.lock().unwrap().push(*t))
        .build();
    let _ = breaker.call(|| Err::<(), _>(()));
    let _ = breaker.call(|| Err::<(), _>(()));
    clock.advance(secs(10));
    let _ = breaker.call(|| Ok::<_, ()>(()));
    let heard = heard.lock().unwrap();
    let summary: Vec<(u64, StateId, EventId, StateId, Duration)> = heard
        .iter()
        .map(|t| (t.seq, t.from, t.event, t.to, t.at))
        .collect();
    assert_eq!(
        summary,
        [
            (0, StateId::Closed, EventId::Trip, StateId::Open, secs(0)),
            (
                1,
                StateId::Open,
                EventId::Probe,
                StateId::HalfOpen,
                secs(10)
            ),
            (
                2,
                StateId::HalfOpen,
                EventId::Close,
                StateId::Closed,
                secs(10)
            ),
        ]
    );
}

#[test]
fn metrics_report_counts_rates_and_state() {
    let rig = Rig::new(exact(10, 2, 1));
    rig.ok().unwrap();
    rig.ok().unwrap();
    let _ = rig.fail();
    let metrics = rig.breaker.metrics();
    assert_eq!(metrics.state, StateId::Closed);
    assert_eq!(metrics.window, counts(3, 1, 0));
    assert_eq!(metrics.failure_rate, Some(100.0 / 3.0));
    assert_eq!(metrics.slow_call_rate, Some(0.0));
    assert!(!metrics.over_threshold);
    assert_eq!(metrics.lifetime.calls, 3);
    assert_eq!(metrics.lifetime.failures, 1);
    assert_eq!(metrics.next_probe_at, None);
    assert!(metrics.transitions.is_empty());
}

#[test]
fn metrics_history_comes_from_the_breadcrumbs() {
    let rig = Rig::new(exact(4, 2, 1));
    trip(&rig);
    rig.advance(secs(10));
    let _ = rig.fail();
    let metrics = rig.breaker.metrics();
    assert_eq!(metrics.generation, 3);
    let lines: Vec<String> = metrics
        .transitions
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "#0 at 0ns: Closed --trip--> Open",
            "#1 at 10s: Open --probe--> HalfOpen",
            "#2 at 10s: HalfOpen --reopen--> Open",
        ]
    );
    let crumbs = rig.breaker.breadcrumbs();
    assert_eq!(crumbs.total(), 3);
    let events: Vec<EventId> = crumbs.iter().map(|crumb| crumb.event).collect();
    assert_eq!(events, [EventId::Trip, EventId::Probe, EventId::Reopen]);
    assert!(
        crumbs.to_string().contains("HalfOpen --reopen--> Open"),
        "{crumbs}"
    );
}

// ---- Configuration ------------------------------------------------------------------

#[test]
fn config_from_json_equals_the_same_config_in_code() {
    let json = r#"{
        "window": { "time": { "length_ms": 60000, "buckets": 12 } },
        "failure_rate_threshold": 25.0,
        "slow_call_duration_ms": 2000,
        "slow_call_rate_threshold": 80.0,
        "minimum_calls": 10,
        "wait": { "backoff": { "initial_ms": 1000, "multiplier": 2.0, "max_ms": 60000, "jitter": 0.2 } },
        "half_open_permits": 3,
        "max_half_open_wait_ms": null,
        "seed": 9
    }"#;
    let from_file: Config = serde_json::from_str(json).unwrap();
    let in_code = Config::builder()
        .time_window(secs(60), 12)
        .failure_rate_threshold(25.0)
        .slow_calls(secs(2), 80.0)
        .minimum_calls(10)
        .backoff(secs(1), 2.0, secs(60), 0.2)
        .half_open_permits(3)
        .max_half_open_wait(None)
        .seed(9)
        .build()
        .unwrap();
    assert_eq!(from_file, in_code);
    let round_trip: Config =
        serde_json::from_str(&serde_json::to_string(&in_code).unwrap()).unwrap();
    assert_eq!(round_trip, in_code);
}

#[test]
fn bad_config_values_give_typed_errors() {
    let base = Config::builder;
    let cases = [
        (base().count_window(0, 1), ConfigError::ZeroWindow),
        (
            base().time_window(Duration::ZERO, 1),
            ConfigError::ZeroWindow,
        ),
        (base().count_window(10, 0), ConfigError::ZeroBuckets),
        (
            base().count_window(10, 3),
            ConfigError::UnevenBuckets {
                calls: 10,
                buckets: 3,
            },
        ),
        (
            base().time_window(ms(10), 20),
            ConfigError::BucketTooShort {
                length: ms(10),
                buckets: 20,
            },
        ),
        (
            base().failure_rate_threshold(100.5),
            ConfigError::RateOutOfRange {
                field: RateField::FailureRate,
                value: 100.5,
            },
        ),
        (
            base().failure_rate_threshold(0.0),
            ConfigError::RateOutOfRange {
                field: RateField::FailureRate,
                value: 0.0,
            },
        ),
        (
            base().slow_calls(secs(1), 120.0),
            ConfigError::RateOutOfRange {
                field: RateField::SlowCallRate,
                value: 120.0,
            },
        ),
        (
            base().slow_calls(Duration::ZERO, 50.0),
            ConfigError::ZeroSlowCallDuration,
        ),
        (base().minimum_calls(0), ConfigError::ZeroMinimumCalls),
        (
            base().count_window(10, 5).minimum_calls(11),
            ConfigError::MinimumCallsAboveWindow {
                minimum: 11,
                window: 10,
            },
        ),
        (base().fixed_wait(Duration::ZERO), ConfigError::ZeroWait),
        (
            base().backoff(secs(1), 0.5, secs(9), 0.0),
            ConfigError::BackoffMultiplier(0.5),
        ),
        (
            base().backoff(secs(10), 2.0, secs(9), 0.0),
            ConfigError::BackoffCapBelowInitial {
                initial: secs(10),
                max: secs(9),
            },
        ),
        (
            base().backoff(secs(1), 2.0, secs(9), 1.5),
            ConfigError::Jitter(1.5),
        ),
        (base().half_open_permits(0), ConfigError::ZeroProbes),
        (
            base().max_half_open_wait(Some(Duration::ZERO)),
            ConfigError::ZeroHalfOpenWait,
        ),
    ];
    for (settings, expected) in cases {
        assert_eq!(settings.clone().build(), Err(expected), "{settings:?}");
    }
    let nan = base().failure_rate_threshold(f64::NAN).build();
    assert!(matches!(
        nan,
        Err(ConfigError::RateOutOfRange {
            field: RateField::FailureRate,
            ..
        })
    ));
}

#[test]
fn a_config_file_with_a_bad_value_fails_to_load() {
    let error = serde_json::from_str::<Config>(r#"{ "failure_rate_threshold": 150 }"#).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("failure_rate_threshold must be above 0"),
        "{error}"
    );
    let error = serde_json::from_str::<Config>(
        r#"{ "window": { "count": { "calls": 0, "buckets": 1 } } }"#,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("sliding window is empty"),
        "{error}"
    );
    let error = serde_json::from_str::<Config>(r#"{ "failure_threshold": 50 }"#).unwrap_err();
    assert!(error.to_string().contains("unknown field"), "{error}");
}

// ---- Threads and futures ------------------------------------------------------------

#[test]
fn the_breaker_and_its_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    let breaker = CircuitBreaker::new(Config::default());
    send_sync(&breaker);
    let rig = Rig::new(exact(4, 2, 1));
    send_sync(&rig.breaker);
    let future = breaker.call_future(async { Ok::<_, std::io::Error>(1) });
    send(&future);
}

#[test]
fn a_future_call_needs_no_async_runtime() {
    let rig = Rig::new(exact(4, 3, 1));
    let value = block_on_ready(rig.breaker.call_future(async { Ok::<_, &str>(5) }));
    assert_eq!(value, Ok(5));
    for _ in 0..2 {
        let error = block_on_ready(rig.breaker.call_future(async { Err::<u32, _>("down") }));
        assert_eq!(error, Err(CallError::Inner("down")));
    }
    assert_eq!(rig.breaker.state(), StateId::Open);
    let mut rejected = Box::pin(rig.breaker.call_future(async { Ok::<_, &str>(5) }));
    assert!(matches!(
        poll_once(rejected.as_mut()),
        Poll::Ready(Err(CallError::Rejected(Rejection::Open { .. })))
    ));
}

#[test]
fn a_future_call_is_classified_by_its_predicate() {
    let rig = Rig::new(exact(4, 2, 1));
    for _ in 0..3 {
        let result = block_on_ready(
            rig.breaker
                .call_future_with(&classify, async { Err::<(), _>(ApiError::BadRequest) }),
        );
        assert_eq!(result, Err(CallError::Inner(ApiError::BadRequest)));
    }
    assert_eq!(rig.breaker.metrics().lifetime.ignored, 3);
    assert_eq!(rig.breaker.state(), StateId::Closed);
}
