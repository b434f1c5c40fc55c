//! A property test: random call outcomes, call durations, pauses and manual controls,
//! driven through a real [`CircuitBreaker`] on a manual clock and, step by step, through
//! a reference model written here from the policy's rules alone.
//!
//! The model is deliberately naive: it keeps every recorded call since the last
//! transition in a `Vec` and recomputes the window from scratch, where the breaker keeps
//! buckets and lock-free stripes. After every step the two must agree on whether the call
//! ran, on the exact rejection, on the state, on the generation, on when the next probe
//! is due and, for count windows, on the window's totals.
//!
//! No property-testing crate: a seeded `StdRng` (already a dependency of the crate) draws
//! the cases, and a failure names the seed and step to replay.

mod common;

use std::time::Duration;

use breaker_fsm::breaker::StateId;
use breaker_fsm::config::{Config, Settings};
use breaker_fsm::window::Counts;
use breaker_fsm::{CallError, Outcome, Rejection};
use common::Rig;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CASES: u64 = 1000;
const STEPS: usize = 300;

#[derive(Debug, Clone, Copy)]
enum Win {
    Count { calls: u64, buckets: u64 },
    Time { span: u64, buckets: u64 },
}

#[derive(Debug, Clone, Copy)]
enum Wait {
    Fixed(Duration),
    Backoff {
        initial_secs: u64,
        multiplier: u64,
        max_secs: u64,
    },
}

/// The policy, as the model reads it.
#[derive(Debug, Clone, Copy)]
struct Policy {
    window: Win,
    failure_pct: u64,
    slow: Option<(Duration, u64)>,
    minimum: u64,
    wait: Wait,
    permits: u32,
    max_half_open: Option<Duration>,
}

impl Policy {
    fn random(rng: &mut StdRng) -> Policy {
        let window = if rng.random_bool(0.6) {
            let (calls, buckets) =
                [(4, 4), (6, 3), (10, 5), (10, 1), (8, 2), (20, 4)][rng.random_range(0..6)];
            Win::Count { calls, buckets }
        } else {
            let buckets = [1, 2, 5, 10][rng.random_range(0..4)];
            let span_ms = rng.random_range(100..=1000);
            Win::Time {
                span: span_ms * 1_000_000,
                buckets,
            }
        };
        let max_minimum = match window {
            Win::Count { calls, .. } => calls,
            Win::Time { .. } => 10,
        };
        let pct = |rng: &mut StdRng| [20, 34, 50, 75, 100][rng.random_range(0..5)];
        let wait = if rng.random_bool(0.5) {
            Wait::Fixed(Duration::from_millis(rng.random_range(500..=5000)))
        } else {
            let initial_secs = rng.random_range(1..=3);
            Wait::Backoff {
                initial_secs,
                multiplier: rng.random_range(1..=3),
                max_secs: initial_secs * rng.random_range(1..=8),
            }
        };
        Policy {
            window,
            failure_pct: pct(rng),
            slow: rng
                .random_bool(0.5)
                .then(|| (Duration::from_millis(rng.random_range(50..=400)), pct(rng))),
            minimum: rng.random_range(1..=max_minimum),
            wait,
            permits: rng.random_range(1..=3),
            max_half_open: rng
                .random_bool(0.5)
                .then(|| Duration::from_millis(rng.random_range(200..=4000))),
        }
    }

    fn settings(&self, seed: u64) -> Settings {
        let mut settings = Config::builder()
            .failure_rate_threshold(self.failure_pct as f64)
            .minimum_calls(self.minimum as u32)
            .half_open_permits(self.permits)
            .max_half_open_wait(self.max_half_open)
            .seed(seed);
        settings = match self.window {
            Win::Count { calls, buckets } => settings.count_window(calls as u32, buckets as u32),
            Win::Time { span, buckets } => {
                settings.time_window(Duration::from_nanos(span * buckets), buckets as u32)
            }
        };
        if let Some((duration, pct)) = self.slow {
            settings = settings.slow_calls(duration, pct as f64);
        }
        match self.wait {
            Wait::Fixed(wait) => settings.fixed_wait(wait),
            Wait::Backoff {
                initial_secs,
                multiplier,
                max_secs,
            } => settings.backoff(
                Duration::from_secs(initial_secs),
                multiplier as f64,
                Duration::from_secs(max_secs),
                0.0,
            ),
        }
    }

    /// The wait of the `attempt`-th Open in a row, in whole arithmetic.
    fn wait(&self, attempt: u32) -> Duration {
        match self.wait {
            Wait::Fixed(wait) => wait,
            Wait::Backoff {
                initial_secs,
                multiplier,
                max_secs,
            } => {
                let mut secs = initial_secs;
                for _ in 1..attempt.max(1) {
                    secs = (secs * multiplier).min(max_secs);
                }
                Duration::from_secs(secs.min(max_secs))
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum State {
    Closed,
    Open {
        until: Duration,
        attempt: u32,
    },
    HalfOpen {
        since: Duration,
        attempt: u32,
        succeeded: u32,
    },
    Disabled,
    ForcedOpen,
    MetricsOnly,
}

impl State {
    fn id(&self) -> StateId {
        match self {
            State::Closed => StateId::Closed,
            State::Open { .. } => StateId::Open,
            State::HalfOpen { .. } => StateId::HalfOpen,
            State::Disabled => StateId::Disabled,
            State::ForcedOpen => StateId::ForcedOpen,
            State::MetricsOnly => StateId::MetricsOnly,
        }
    }
}

/// One recorded call: when it ended, whether it failed, whether it was slow.
#[derive(Debug, Clone, Copy)]
struct Record {
    ended: Duration,
    failed: bool,
    slow: bool,
}

#[derive(Debug)]
struct Model {
    policy: Policy,
    state: State,
    /// Every call recorded since the last transition, in order.
    records: Vec<Record>,
    transitions: Vec<(StateId, StateId)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Success,
    Failure,
    Ignored,
}

impl Model {
    fn new(policy: Policy) -> Model {
        Model {
            policy,
            state: State::Closed,
            records: Vec::new(),
            transitions: Vec::new(),
        }
    }

    fn go(&mut self, to: State) {
        self.transitions.push((self.state.id(), to.id()));
        self.state = to;
        self.records.clear();
    }

    fn open(&mut self, now: Duration, attempt: u32) {
        let until = now + self.policy.wait(attempt);
        self.go(State::Open { until, attempt });
    }

    /// The rules that depend on time alone.
    fn time_rules(&mut self, now: Duration) {
        match self.state {
            State::Open { until, attempt } if now >= until => self.go(State::HalfOpen {
                since: now,
                attempt,
                succeeded: 0,
            }),
            State::HalfOpen { since, attempt, .. }
                if self
                    .policy
                    .max_half_open
                    .is_some_and(|max| now >= since + max) =>
            {
                self.open(now, attempt + 1)
            }
            _ => {}
        }
    }

    /// The recorded calls still in the window when the latest one ended.
    fn window(&self) -> Counts {
        let Some(last) = self.records.last() else {
            return Counts::ZERO;
        };
        // Whether the record at an index is in the window: count windows go by position,
        // time windows by the time the call ended.
        let in_window = |index: usize, record: &Record| match self.policy.window {
            Win::Count { calls, buckets } => {
                let size = calls / buckets;
                let epoch = self.records.len() as u64 / size;
                index as u64 / size + buckets >= epoch
            }
            Win::Time { span, buckets } => {
                let epoch = last.ended.as_nanos() as u64 / span;
                record.ended.as_nanos() as u64 / span + buckets >= epoch
            }
        };
        let mut counts = Counts::ZERO;
        for (index, record) in self.records.iter().enumerate() {
            if in_window(index, record) {
                counts.calls += 1;
                counts.failures += u64::from(record.failed);
                counts.slow += u64::from(record.slow);
            }
        }
        counts
    }

    fn over_threshold(&self) -> bool {
        let window = self.window();
        if window.calls < self.policy.minimum {
            return false;
        }
        window.failures * 100 >= self.policy.failure_pct * window.calls
            || self
                .policy
                .slow
                .is_some_and(|(_, pct)| window.slow * 100 >= pct * window.calls)
    }

    /// A call asked at `start`: `Ok(probe)` if it runs, or the rejection.
    fn admit(&mut self, start: Duration) -> Result<bool, Rejection> {
        self.time_rules(start);
        match self.state {
            State::Closed | State::MetricsOnly | State::Disabled => Ok(false),
            State::HalfOpen { .. } => Ok(true),
            State::ForcedOpen => Err(Rejection::ForcedOpen),
            State::Open { until, .. } => Err(Rejection::Open {
                next_probe_at: until,
                retry_after: until - start,
            }),
        }
    }

    /// The call admitted at `start` ended at `end` as `kind`.
    fn finish(&mut self, probe: bool, start: Duration, end: Duration, kind: Kind) {
        let slow = self
            .policy
            .slow
            .is_some_and(|(limit, _)| end - start >= limit);
        if probe {
            self.time_rules(end);
            let State::HalfOpen {
                since,
                attempt,
                succeeded,
            } = self.state
            else {
                return; // The probe's generation is over: its outcome is stale.
            };
            match kind {
                Kind::Ignored => {}
                Kind::Failure => self.open(end, attempt + 1),
                Kind::Success if slow => self.open(end, attempt + 1),
                Kind::Success if succeeded + 1 == self.policy.permits => self.go(State::Closed),
                Kind::Success => {
                    self.state = State::HalfOpen {
                        since,
                        attempt,
                        succeeded: succeeded + 1,
                    }
                }
            }
            return;
        }
        if kind == Kind::Ignored || self.state == State::Disabled {
            return;
        }
        let failed = kind == Kind::Failure;
        self.records.push(Record {
            ended: end,
            failed,
            slow,
        });
        if (failed || slow) && self.state == State::Closed && self.over_threshold() {
            self.open(end, 1);
        }
    }

    fn manual(&mut self, now: Duration, to: State) {
        self.time_rules(now);
        if self.state.id() != to.id() {
            self.go(to);
        }
    }

    fn reset(&mut self, now: Duration) {
        self.time_rules(now);
        match self.state {
            State::Open { .. } => self.go(State::HalfOpen {
                since: now,
                attempt: 0,
                succeeded: 0,
            }),
            _ => self.go(State::Closed),
        }
    }
}

fn classify(error: &Kind) -> Outcome {
    match error {
        Kind::Ignored => Outcome::Ignored,
        _ => Outcome::Failure,
    }
}

/// What a failed assertion prints: enough to replay the case.
fn describe(seed: u64, step: usize, model: &Model) -> String {
    format!("seed {seed}, step {step}, model {model:?}")
}

/// Runs one case and returns the moves the model made, for the coverage check.
fn run_case(seed: u64) -> Vec<(StateId, StateId)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let policy = Policy::random(&mut rng);
    let rig = Rig::new(policy.settings(seed));
    let mut model = Model::new(policy);
    for step in 0..STEPS {
        let pause = match rng.random_range(0..10) {
            0..=5 => rng.random_range(0..200),
            6..=8 => rng.random_range(0..2000),
            _ => rng.random_range(0..8000),
        };
        rig.advance(Duration::from_millis(pause));
        let now = rig.clock_now();
        match rng.random_range(0..100) {
            0 => {
                rig.breaker.disable();
                model.manual(now, State::Disabled);
            }
            1 => {
                rig.breaker.force_open();
                model.manual(now, State::ForcedOpen);
            }
            2 => {
                rig.breaker.metrics_only();
                model.manual(now, State::MetricsOnly);
            }
            3..=4 => {
                rig.breaker.reset();
                model.reset(now);
            }
            5..=7 => {
                rig.breaker.poll();
                model.time_rules(now);
            }
            _ => {
                let kind = match rng.random_range(0..10) {
                    0..=5 => Kind::Success,
                    6..=8 => Kind::Failure,
                    _ => Kind::Ignored,
                };
                let took = Duration::from_millis(match rng.random_range(0..4) {
                    0 => 0,
                    1 | 2 => rng.random_range(0..100),
                    _ => rng.random_range(0..600),
                });
                let mut ran = false;
                let result = rig.breaker.call_with(&classify, || {
                    ran = true;
                    rig.advance(took);
                    if kind == Kind::Success {
                        Ok(())
                    } else {
                        Err(kind)
                    }
                });
                match model.admit(now) {
                    Ok(probe) => {
                        assert!(
                            ran,
                            "the call should have run: {}",
                            describe(seed, step, &model)
                        );
                        model.finish(probe, now, now + took, kind);
                        if kind != Kind::Success {
                            assert_eq!(
                                result,
                                Err(CallError::Inner(kind)),
                                "{}",
                                describe(seed, step, &model)
                            );
                        }
                    }
                    Err(rejection) => {
                        assert!(
                            !ran,
                            "the call should not have run: {}",
                            describe(seed, step, &model)
                        );
                        assert_eq!(
                            result,
                            Err(CallError::Rejected(rejection)),
                            "{}",
                            describe(seed, step, &model)
                        );
                    }
                }
            }
        }
        let metrics = rig.breaker.metrics();
        assert_eq!(
            metrics.state,
            model.state.id(),
            "{}",
            describe(seed, step, &model)
        );
        assert_eq!(
            metrics.generation,
            model.transitions.len() as u64,
            "{}",
            describe(seed, step, &model)
        );
        let until = match model.state {
            State::Open { until, .. } => Some(until),
            _ => None,
        };
        assert_eq!(
            metrics.next_probe_at,
            until,
            "{}",
            describe(seed, step, &model)
        );
        if let State::HalfOpen { succeeded, .. } = model.state {
            assert_eq!(
                metrics.probes.map(|p| p.succeeded),
                Some(succeeded),
                "{}",
                describe(seed, step, &model)
            );
        }
        let recording = matches!(model.state, State::Closed | State::MetricsOnly);
        if recording && matches!(policy.window, Win::Count { .. }) {
            assert_eq!(
                metrics.window,
                model.window(),
                "{}",
                describe(seed, step, &model)
            );
        }
    }
    let moves = rig.moves();
    let expected = &model.transitions[model.transitions.len().saturating_sub(moves.len())..];
    assert_eq!(moves, expected, "seed {seed}");
    model.transitions
}

#[test]
fn the_breaker_agrees_with_a_naive_model_on_random_calls_and_times() {
    let first = std::env::var("BREAKER_MODEL_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or(0);
    let mut seen = std::collections::HashSet::new();
    let mut moves = 0;
    for seed in first..first + CASES {
        let transitions = run_case(seed);
        moves += transitions.len();
        seen.extend(transitions);
    }
    // The cases must reach every policy move, or the agreement above proves little.
    use StateId::*;
    for pair in [
        (Closed, Open),
        (Open, HalfOpen),
        (HalfOpen, Closed),
        (HalfOpen, Open),
    ] {
        assert!(seen.contains(&pair), "no case made the move {pair:?}");
    }
    assert!(
        seen.len() >= 20,
        "only {} kinds of move in {moves} moves",
        seen.len()
    );
}
