//! Circuit breakers: the cost of a protected successful call while the breaker is closed.
//!
//! What it measures: nanoseconds per call of a dependency that always succeeds, called
//!
//! - `bare`: without any breaker, the baseline;
//! - `breaker-fsm/count`: through our `CircuitBreaker` with its default policy, a
//!   failure-rate threshold over a count window of 100 calls in 10 buckets;
//! - `breaker-fsm/time`: the same over a time window of 60 s in 60 buckets, which costs
//!   one clock reading per call (`std::time::Instant`, the default clock);
//! - `breaker-fsm/time-coarse`: the same time window on `CoarseClock`
//!   (`CLOCK_MONOTONIC_COARSE`), the clock meant for such windows on a hot path;
//! - `failsafe/consecutive` and `failsafe/success-rate`: `failsafe` 1.3 with its
//!   consecutive-failures policy (3 failures) and its success-rate policy (50% over
//!   30 s, at least 20 requests);
//! - `recloser`: `recloser` 1.4 with a 50% error rate over a ring of 100 calls;
//!
//! on one thread (`1-thread`), and with two threads calling one shared breaker at the same
//! time (`2-threads`). With two threads, a sample is timed from a barrier both threads
//! leave together until the slower one has made its calls, so the figure is nanoseconds
//! per call *per thread*: two threads each making one call per iteration, in parallel.
//!
//! Why: a breaker sits in front of every call to its dependency, so its closed path must
//! cost next to nothing, and it is shared by every thread that calls that dependency, so
//! it must not turn into a point of contention.
//!
//! Every variant is first checked, untimed, to admit the calls and return their results;
//! ours is also checked to have counted every call made from two threads, so that a fast
//! path that dropped outcomes could not look fast.

use std::hint::black_box;
use std::sync::Barrier;
use std::thread;
use std::time::{Duration, Instant};

use breaker_fsm::CircuitBreaker;
use breaker_fsm::clock::CoarseClock;
use breaker_fsm::config::Config;
use criterion::{Criterion, criterion_group, criterion_main};
use failsafe::CircuitBreaker as _;

/// The dependency's error; it never happens in this benchmark.
#[derive(Debug)]
struct Unavailable;

/// The dependency: always succeeds, and cannot be optimised away.
#[inline(never)]
fn dependency(i: u64) -> Result<u64, Unavailable> {
    Ok(black_box(i))
}

/// One way of protecting the dependency.
trait Variant: Sync {
    /// Name in the benchmark output.
    const NAME: &'static str;
    /// Calls the dependency through the breaker; `None` if the breaker refused.
    fn call(&self, i: u64) -> Option<u64>;
}

struct Bare;

impl Variant for Bare {
    const NAME: &'static str = "bare";
    fn call(&self, i: u64) -> Option<u64> {
        dependency(i).ok()
    }
}

struct Ours(CircuitBreaker);

impl Variant for Ours {
    const NAME: &'static str = "breaker-fsm/count";
    fn call(&self, i: u64) -> Option<u64> {
        self.0.call(|| dependency(i)).ok()
    }
}

struct OursTimed(CircuitBreaker);

impl Variant for OursTimed {
    const NAME: &'static str = "breaker-fsm/time";
    fn call(&self, i: u64) -> Option<u64> {
        self.0.call(|| dependency(i)).ok()
    }
}

struct OursCoarse(CircuitBreaker<CoarseClock>);

impl Variant for OursCoarse {
    const NAME: &'static str = "breaker-fsm/time-coarse";
    fn call(&self, i: u64) -> Option<u64> {
        self.0.call(|| dependency(i)).ok()
    }
}

struct Consecutive<P: failsafe::failure_policy::FailurePolicy>(failsafe::StateMachine<P, ()>);

impl<P: failsafe::failure_policy::FailurePolicy + Send + Sync> Variant for Consecutive<P> {
    const NAME: &'static str = "failsafe/consecutive";
    fn call(&self, i: u64) -> Option<u64> {
        self.0.call(|| dependency(i)).ok()
    }
}

struct SuccessRate<P: failsafe::failure_policy::FailurePolicy>(failsafe::StateMachine<P, ()>);

impl<P: failsafe::failure_policy::FailurePolicy + Send + Sync> Variant for SuccessRate<P> {
    const NAME: &'static str = "failsafe/success-rate";
    fn call(&self, i: u64) -> Option<u64> {
        self.0.call(|| dependency(i)).ok()
    }
}

struct Recloser(recloser::Recloser);

impl Variant for Recloser {
    const NAME: &'static str = "recloser";
    fn call(&self, i: u64) -> Option<u64> {
        self.0.call(|| dependency(i)).ok()
    }
}

fn ours() -> Ours {
    Ours(CircuitBreaker::new(Config::default()))
}

fn time_window() -> Config {
    Config::builder()
        .time_window(Duration::from_secs(60), 60)
        .build()
        .expect("a valid configuration")
}

fn ours_timed() -> OursTimed {
    OursTimed(CircuitBreaker::new(time_window()))
}

fn ours_coarse() -> OursCoarse {
    let breaker = CircuitBreaker::builder(time_window())
        .clock(CoarseClock::new())
        .build();
    OursCoarse(breaker)
}

fn failsafe_consecutive() -> Consecutive<impl failsafe::failure_policy::FailurePolicy> {
    let backoff = failsafe::backoff::constant(Duration::from_secs(30));
    let policy = failsafe::failure_policy::consecutive_failures(3, backoff);
    Consecutive(failsafe::Config::new().failure_policy(policy).build())
}

fn failsafe_success_rate() -> SuccessRate<impl failsafe::failure_policy::FailurePolicy> {
    let backoff = failsafe::backoff::constant(Duration::from_secs(30));
    let window = Duration::from_secs(30);
    let policy = failsafe::failure_policy::success_rate_over_time_window(0.5, 20, window, backoff);
    SuccessRate(failsafe::Config::new().failure_policy(policy).build())
}

fn recloser() -> Recloser {
    Recloser(
        recloser::Recloser::custom()
            .error_rate(0.5)
            .closed_len(100)
            .half_open_len(10)
            .open_wait(Duration::from_secs(30))
            .build(),
    )
}

/// The timed loop, the same for every variant.
#[inline(never)]
fn run<V: Variant>(variant: &V, iters: u64) -> u64 {
    let mut sum = 0_u64;
    for i in 0..iters {
        sum = sum.wrapping_add(variant.call(i).unwrap_or(0));
    }
    sum
}

/// `iters` calls on each of `threads` threads at once; the time until the slowest is done.
fn run_parallel<V: Variant>(variant: &V, threads: usize, iters: u64) -> Duration {
    let start = Barrier::new(threads);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    let began = Instant::now();
                    black_box(run(variant, iters));
                    began.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a bench thread panicked"))
            .max()
            .unwrap_or_default()
    })
}

/// Untimed: the variant admits the calls and returns their results.
fn check<V: Variant>(variant: &V) {
    let expected: u64 = (0..1000).sum();
    assert_eq!(
        run(variant, 1000),
        expected,
        "{} refused or altered calls",
        V::NAME
    );
}

/// Untimed: two threads' calls through our breaker are all counted.
fn check_counts() {
    let variant = ours();
    run_parallel(&variant, 2, 100_000);
    let metrics = variant.0.metrics();
    assert_eq!(
        metrics.lifetime.calls, 200_000,
        "calls were lost: {metrics:?}"
    );
}

fn bench_variant<V: Variant>(c: &mut Criterion, variant: V) {
    check(&variant);
    let mut group = c.benchmark_group("breaker");
    group.bench_function(format!("1-thread/{}", V::NAME), |b| {
        b.iter_custom(|iters| {
            let began = Instant::now();
            black_box(run(&variant, iters));
            began.elapsed()
        });
    });
    group.bench_function(format!("2-threads/{}", V::NAME), |b| {
        b.iter_custom(|iters| run_parallel(&variant, 2, iters));
    });
    group.finish();
}

fn breakers(c: &mut Criterion) {
    check_counts();
    bench_variant(c, Bare);
    bench_variant(c, ours());
    bench_variant(c, ours_timed());
    bench_variant(c, ours_coarse());
    bench_variant(c, failsafe_consecutive());
    bench_variant(c, failsafe_success_rate());
    bench_variant(c, recloser());
}

criterion_group!(benches, breakers);
criterion_main!(benches);
