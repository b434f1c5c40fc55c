//! The policy engine, sans I/O: times and call outcomes in, permits and state changes out.
//!
//! The engine owns the typestate machine ([`Breaker`] in whichever state it is), the
//! sliding window and the backoff. It never reads a clock, spawns a thread or touches an
//! atomic: every method takes the time as an argument, so a test can replay any
//! interleaving of calls and clock readings exactly. The thread-safe
//! [`CircuitBreaker`](crate::CircuitBreaker) puts it behind a lock and only asks it when
//! its own lock-free fast path cannot decide.
//!
//! The rules, each enforced in one place below:
//!
//! - **Closed**: a call is always admitted. After each failed or slow call the rates are
//!   evaluated: once the window holds at least `minimum_calls` calls, a failure rate or
//!   slow-call rate at or above its threshold trips the breaker. A fast success never
//!   trips it — not even when it brings the window up to `minimum_calls`, or when the
//!   window slides past old successes — since the latest call says the dependency works.
//! - **Open**: every call is rejected until the wait ends; the first call (or
//!   [`Engine::poll`]) after that moves to HalfOpen.
//! - **HalfOpen**: exactly `half_open_permits` probes are admitted; a permit comes back
//!   when its probe is ignored or abandoned. All of them succeeding closes the breaker;
//!   one failed or slow probe re-opens it with a longer wait. When the maximum wait in
//!   HalfOpen passes first, it re-opens too.
//! - **Generations**: every move starts a new generation, and an outcome reported with a
//!   permit of an earlier generation is ignored.

use core::fmt;
use std::mem;
use std::time::Duration;

use fsm_core::{History, Rejected};

use crate::backoff::Backoff;
use crate::config::Config;
use crate::error::Rejection;
use crate::machine::breaker::{self, Closed, HalfOpen, Open, Runtime, Spec, StateId};
use crate::machine::{Breaker, CallKind};
use crate::window::{Counts, Window};

/// How many transitions the engine remembers (with their times) for metrics.
pub const HISTORY: usize = 32;

/// The framework's recorder that the engine's machine keeps its breadcrumbs in.
pub type Trail = History<Spec, HISTORY>;

/// The breaker's machine in whichever state it is, with its breadcrumbs.
type Machine = Runtime<Trail>;

/// The right to make one call, handed out by [`Engine::try_acquire`].
///
/// Report it back exactly once, with [`Engine::complete`] or [`Engine::abandon`]. It is
/// tagged with the generation that issued it, so a late report after a state change is
/// ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use = "a permit must be reported back, or a half-open probe slot stays taken"]
pub struct Permit {
    generation: u64,
    kind: CallKind,
}

impl Permit {
    /// A permit for the given generation and kind, for a front end that admits calls
    /// itself (as [`CircuitBreaker`](crate::CircuitBreaker) does in Closed).
    pub fn new(generation: u64, kind: CallKind) -> Permit {
        Permit { generation, kind }
    }

    /// The generation that issued the permit.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// What kind of call it admits.
    pub fn kind(&self) -> CallKind {
        self.kind
    }
}

/// What a call's result means to the breaker, as its error predicate decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// It worked.
    Success,
    /// It failed, and the failure counts against the dependency.
    Failure,
    /// Neither: the outcome says nothing about the dependency's health.
    Ignored,
}

/// One move of the breaker's machine, from the framework's breadcrumbs, with its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Transition {
    /// The move's sequence number; the generation it started is `seq + 1`.
    pub seq: u64,
    /// The state it left.
    pub from: StateId,
    /// The event that took it.
    pub event: breaker::EventId,
    /// The state it entered.
    pub to: StateId,
    /// When, as a reading of the breaker's clock.
    pub at: Duration,
}

impl fmt::Display for Transition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Transition {
            seq,
            from,
            event,
            to,
            at,
        } = self;
        write!(f, "#{seq} at {at:?}: {from} --{event}--> {to}")
    }
}

/// Counters over the engine's whole life (or since it was made).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Lifetime {
    /// Calls whose outcome was recorded (successes and failures, not ignored ones).
    pub calls: u64,
    /// Recorded calls that failed.
    pub failures: u64,
    /// Recorded calls that were slow.
    pub slow: u64,
    /// Calls whose outcome the error predicate told the breaker to ignore.
    pub ignored: u64,
    /// Calls the engine refused.
    pub rejected: u64,
    /// Outcomes dropped because their call started in an earlier generation.
    pub stale: u64,
    /// Permits given back without an outcome (a panicked call, a dropped future).
    pub abandoned: u64,
}

impl Lifetime {
    fn record(&mut self, counts: Counts) {
        self.calls += counts.calls;
        self.failures += counts.failures;
        self.slow += counts.slow;
    }
}

/// The failure and slow-call rates of the window, in percent; `None` until the window
/// holds `minimum_calls` calls.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Failed calls over calls.
    pub failure: Option<f64>,
    /// Slow calls over calls (0 when slow-call detection is off).
    pub slow: Option<f64>,
}

/// The state of the probes while half-open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Probes {
    /// How many probes HalfOpen admits.
    pub permits: u32,
    /// Probes out now or succeeded.
    pub issued: u32,
    /// Probes that succeeded.
    pub succeeded: u32,
}

/// The breaker's policy engine; see the [module documentation](self).
///
/// ```
/// use std::time::Duration;
/// use breaker_fsm::breaker::StateId;
/// use breaker_fsm::config::Config;
/// use breaker_fsm::engine::{Engine, Outcome};
///
/// let config = Config::builder().count_window(4, 2).minimum_calls(2).build().unwrap();
/// let mut engine = Engine::new(config, 0, Duration::ZERO);
/// for at in [1, 2] {
///     let now = Duration::from_secs(at);
///     let permit = engine.try_acquire(now).unwrap();
///     engine.complete(now, permit, Outcome::Failure, Duration::ZERO);
/// }
/// assert_eq!(engine.state(), StateId::Open);
/// assert!(engine.try_acquire(Duration::from_secs(3)).is_err());
/// ```
#[derive(Debug)]
pub struct Engine {
    config: Config,
    machine: Machine,
    window: Window,
    backoff: Backoff,
    /// The latest time seen: time handed in is never allowed to run backwards.
    now: Duration,
    /// When each remembered transition happened, indexed by `seq % HISTORY`.
    stamps: [Duration; HISTORY],
    lifetime: Lifetime,
}

impl Engine {
    /// A closed breaker at `now`, with jitter seeded by `seed`.
    pub fn new(config: Config, seed: u64, now: Duration) -> Engine {
        Engine {
            window: Window::new(config.window(), now),
            backoff: Backoff::new(config.wait(), seed),
            machine: fresh_machine(),
            config,
            now,
            stamps: [Duration::ZERO; HISTORY],
            lifetime: Lifetime::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The current state.
    pub fn state(&self) -> StateId {
        self.machine.state_id()
    }

    /// The current generation: how many moves the machine has made.
    pub fn generation(&self) -> u64 {
        self.machine.history().total()
    }

    /// The latest time the engine has seen.
    pub fn now(&self) -> Duration {
        self.now
    }

    /// Lets a call through, or says why not. Applies the time rules first, so an Open
    /// breaker whose wait is over moves to HalfOpen and this call becomes a probe.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] when the breaker is open or forced open, or half-open with every
    /// probe permit taken.
    pub fn try_acquire(&mut self, now: Duration) -> Result<Permit, Rejection> {
        let now = self.observe(now);
        let generation = self.generation();
        let admitted = match &mut self.machine {
            Runtime::Closed(machine) => machine.admit(),
            Runtime::HalfOpen(machine) => machine.admit(),
            Runtime::Disabled(machine) => machine.admit(),
            Runtime::MetricsOnly(machine) => machine.admit(),
            Runtime::Open(_) | Runtime::ForcedOpen(_) => None,
        };
        match admitted {
            Some(kind) => Ok(Permit { generation, kind }),
            None => Err(self.rejection(now)),
        }
    }

    /// Reports the outcome of a permitted call that took `elapsed`.
    pub fn complete(&mut self, now: Duration, permit: Permit, outcome: Outcome, elapsed: Duration) {
        let now = self.observe(now);
        if !self.is_current(permit) {
            return;
        }
        let slow = self.config.is_slow(elapsed);
        match (permit.kind, outcome) {
            (CallKind::Unrecorded, _) => {}
            (_, Outcome::Ignored) => self.ignore(permit),
            (CallKind::Counted, _) => {
                let counts = Counts::one(outcome == Outcome::Failure, slow);
                self.record_batch(now, Counts::ZERO, counts);
            }
            (CallKind::Probe, _) => self.judge_probe(now, outcome == Outcome::Success && !slow),
        }
    }

    /// Gives back a permit whose call will never report: it panicked, or its future was
    /// dropped. A probe's permit becomes free for another caller.
    pub fn abandon(&mut self, now: Duration, permit: Permit) {
        self.observe(now);
        if !self.is_current(permit) {
            return;
        }
        self.lifetime.abandoned += 1;
        self.return_permit(permit);
    }

    /// Records outcomes gathered by a front end in Closed or MetricsOnly: `buffered`
    /// goes into the current bucket, then the window moves to `now`, then `own` goes in.
    /// The rates are evaluated when any of them failed or was slow.
    ///
    /// Outcomes that reach the engine in any other state are counted as stale.
    pub fn record_batch(&mut self, now: Duration, buffered: Counts, own: Counts) {
        let now = self.observe(now);
        let all = buffered.plus(own);
        if !matches!(self.state(), StateId::Closed | StateId::MetricsOnly) {
            self.lifetime.stale += all.calls;
            return;
        }
        self.lifetime.record(all);
        self.window.add(buffered);
        self.window.advance(now);
        self.window.add(own);
        if all.has_bad() {
            self.evaluate(now);
        }
    }

    /// Applies the time rules at `now` without a call: an Open breaker whose wait is over
    /// moves to HalfOpen, and a HalfOpen one past its maximum wait re-opens.
    pub fn poll(&mut self, now: Duration) {
        self.observe(now);
    }

    /// Switches the breaker off: every call goes through, nothing is recorded.
    pub fn disable(&mut self, now: Duration) {
        let now = self.observe(now);
        self.fire(now, breaker::Event::Disable);
    }

    /// Forces the breaker open: every call is rejected until another manual change.
    pub fn force_open(&mut self, now: Duration) {
        let now = self.observe(now);
        self.fire(now, breaker::Event::ForceOpen);
    }

    /// Records calls but never changes state on its own.
    pub fn metrics_only(&mut self, now: Duration) {
        let now = self.observe(now);
        self.fire(now, breaker::Event::MetricsOnly);
    }

    /// Starts afresh: Closed with an empty window and no backoff history, from any state
    /// but Open. An Open breaker cannot close without a successful probe, so for it a
    /// reset ends the wait instead: the next calls are probes.
    pub fn reset(&mut self, now: Duration) {
        let now = self.observe(now);
        if self.state() == StateId::Open {
            self.begin_probing(now, 0);
        } else {
            self.fire(now, breaker::Event::Reset);
        }
    }

    /// The outcomes in the sliding window.
    pub fn window_totals(&self) -> Counts {
        self.window.totals()
    }

    /// The outcomes the sliding window would hold with `buffered` added, without adding
    /// them: a count window slides exactly as [`record_batch`](Self::record_batch) would
    /// make it. Clones the window, so it allocates.
    pub fn window_with(&self, buffered: Counts) -> Counts {
        let mut window = self.window.clone();
        window.add(buffered);
        window.totals()
    }

    /// How many more calls the current bucket of a count window takes.
    pub fn window_room(&self) -> u64 {
        self.window.room()
    }

    /// When the current bucket of a time window ends.
    pub fn window_deadline(&self) -> Option<Duration> {
        self.window.deadline()
    }

    /// The window's failure and slow-call rates, in percent.
    pub fn rates(&self) -> Rates {
        rates_of(&self.config, self.window.totals())
    }

    /// Whether the window's rates are at or above a threshold now (in MetricsOnly, what
    /// Closed would have done).
    pub fn over_threshold(&self) -> bool {
        over_threshold(&self.config, self.window.totals())
    }

    /// When an Open breaker lets its first probe through.
    pub fn next_probe_at(&self) -> Option<Duration> {
        match &self.machine {
            Runtime::Open(machine) => Some(machine.state().until),
            _ => None,
        }
    }

    /// The probes, while half-open.
    pub fn probes(&self) -> Option<Probes> {
        match &self.machine {
            Runtime::HalfOpen(machine) => {
                let state = machine.state();
                Some(Probes {
                    permits: state.permits,
                    issued: state.issued,
                    succeeded: state.succeeded,
                })
            }
            _ => None,
        }
    }

    /// The counters over the engine's life.
    pub fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// Counts calls that a front end rejected without asking the engine.
    pub fn add_rejected(&mut self, calls: u64) {
        self.lifetime.rejected += calls;
    }

    /// Counts outcomes of an earlier generation that a front end had buffered when the
    /// state changed: they happened, so the lifetime totals include them, but they are
    /// too late for any window.
    pub fn record_late(&mut self, counts: Counts) {
        self.lifetime.record(counts);
    }

    /// Counts outcomes that a front end dropped as stale without asking the engine.
    pub fn add_stale(&mut self, calls: u64) {
        self.lifetime.stale += calls;
    }

    /// The framework's breadcrumbs: the last [`HISTORY`] moves, oldest first.
    pub fn history(&self) -> &Trail {
        self.machine.history()
    }

    /// The last [`HISTORY`] moves with their times, oldest first.
    pub fn transitions(&self) -> impl DoubleEndedIterator<Item = Transition> + '_ {
        self.history().iter().map(|crumb| Transition {
            seq: crumb.seq,
            from: crumb.from,
            event: crumb.event,
            to: crumb.to,
            at: self.stamps[stamp_slot(crumb.seq)],
        })
    }

    /// The remembered moves with a sequence number of at least `seq`.
    pub fn transitions_since(&self, seq: u64) -> impl Iterator<Item = Transition> + '_ {
        self.transitions()
            .filter(move |transition| transition.seq >= seq)
    }

    /// Takes in a clock reading, keeping the latest one seen, and applies the time rules.
    fn observe(&mut self, now: Duration) -> Duration {
        self.now = self.now.max(now);
        let now = self.now;
        self.apply_time_rules(now);
        now
    }

    fn apply_time_rules(&mut self, now: Duration) {
        match &self.machine {
            Runtime::Open(machine) if now >= machine.state().until => {
                let attempt = machine.state().attempt;
                self.begin_probing(now, attempt);
            }
            Runtime::HalfOpen(machine) if self.half_open_expired(machine.state(), now) => {
                tracing::debug!("half-open probes did not report in time; re-opening");
                self.reopen(now);
            }
            _ => {}
        }
    }

    fn half_open_expired(&self, state: &HalfOpen, now: Duration) -> bool {
        self.config
            .max_half_open_wait()
            .is_some_and(|wait| now >= state.since.saturating_add(wait))
    }

    fn rejection(&mut self, now: Duration) -> Rejection {
        self.lifetime.rejected += 1;
        match &self.machine {
            Runtime::Open(machine) => {
                let until = machine.state().until;
                Rejection::Open {
                    next_probe_at: until,
                    retry_after: until.saturating_sub(now),
                }
            }
            Runtime::HalfOpen(machine) => Rejection::ProbesBusy {
                permits: machine.state().permits,
            },
            _ => Rejection::ForcedOpen,
        }
    }

    fn is_current(&mut self, permit: Permit) -> bool {
        if permit.generation == self.generation() {
            return true;
        }
        tracing::trace!(
            permit = permit.generation,
            now = self.generation(),
            "stale outcome"
        );
        self.lifetime.stale += 1;
        false
    }

    fn ignore(&mut self, permit: Permit) {
        self.lifetime.ignored += 1;
        self.return_permit(permit);
    }

    fn return_permit(&mut self, permit: Permit) {
        if let (CallKind::Probe, Runtime::HalfOpen(machine)) = (permit.kind, &mut self.machine) {
            machine.state_mut().return_permit();
        }
    }

    fn judge_probe(&mut self, now: Duration, good: bool) {
        self.lifetime.record(Counts::one(!good, false));
        let Runtime::HalfOpen(machine) = &mut self.machine else {
            return;
        };
        if !good {
            self.reopen(now);
        } else if machine.state_mut().record_success() {
            self.close(now);
        }
    }

    fn evaluate(&mut self, now: Duration) {
        if self.state() == StateId::Closed && self.over_threshold() {
            self.trip(now);
        }
    }

    fn trip(&mut self, now: Duration) {
        let until = now.saturating_add(self.backoff.wait(1));
        tracing::debug!(?until, totals = ?self.window.totals(), "tripping");
        self.step(now, |machine| match machine {
            Runtime::Closed(m) => m.trip(Open { until, attempt: 1 }).into(),
            other => other,
        });
    }

    fn begin_probing(&mut self, now: Duration, attempt: u32) {
        let half_open = HalfOpen::after(attempt, now, self.config.half_open_permits());
        self.step(now, |machine| match machine {
            Runtime::Open(m) => m.probe(half_open).into(),
            other => other,
        });
    }

    fn reopen(&mut self, now: Duration) {
        let Runtime::HalfOpen(machine) = &self.machine else {
            return;
        };
        let attempt = machine.state().attempt.saturating_add(1);
        let until = now.saturating_add(self.backoff.wait(attempt));
        self.step(now, |machine| match machine {
            Runtime::HalfOpen(m) => m.reopen(Open { until, attempt }).into(),
            other => other,
        });
    }

    fn close(&mut self, now: Duration) {
        self.step(now, |machine| match machine {
            Runtime::HalfOpen(m) => m.close().into(),
            other => other,
        });
    }

    /// A manual move through the framework's run-time bridge; an event that is not legal
    /// in the current state (disabling a disabled breaker, say) changes nothing.
    fn fire(&mut self, now: Duration, event: breaker::Event) {
        self.step(now, |machine| {
            machine.fire(event).unwrap_or_else(Rejected::into_machine)
        });
    }

    /// Moves the machine with `move_it`; if it moved, stamps the move and starts the new
    /// generation with an empty window.
    fn step(&mut self, now: Duration, move_it: impl FnOnce(Machine) -> Machine) {
        let before = self.generation();
        let machine = mem::replace(&mut self.machine, fresh_machine());
        self.machine = move_it(machine);
        if self.generation() == before {
            return;
        }
        self.stamps[stamp_slot(before)] = now;
        self.window.clear(now);
        if let Some(crumb) = self.history().last() {
            tracing::debug!(%crumb, ?now, "circuit breaker changed state");
        }
    }
}

/// The failure and slow-call rates of `totals`, in percent, as `config` counts them.
pub fn rates_of(config: &Config, totals: Counts) -> Rates {
    if totals.calls < u64::from(config.minimum_calls()) {
        return Rates {
            failure: None,
            slow: None,
        };
    }
    let percent = |part: u64| part as f64 * 100.0 / totals.calls as f64;
    Rates {
        failure: Some(percent(totals.failures)),
        slow: Some(percent(totals.slow)),
    }
}

/// Whether `totals` trip a breaker configured by `config`: at least `minimum_calls`
/// calls, and a failure rate or (with slow-call detection on) a slow-call rate at or
/// above its threshold. Compared in integers, so the boundary is exact.
pub fn over_threshold(config: &Config, totals: Counts) -> bool {
    if totals.calls < u64::from(config.minimum_calls()) {
        return false;
    }
    let over = |part: u64, threshold_bp: u64| {
        u128::from(part) * 10_000 >= u128::from(threshold_bp) * u128::from(totals.calls)
    };
    over(totals.failures, config.failure_threshold_bp())
        || (config.slow_call_duration().is_some() && over(totals.slow, config.slow_threshold_bp()))
}

/// A closed machine with an empty history.
fn fresh_machine() -> Machine {
    Breaker::with_history((), Closed, Trail::new()).into()
}

fn stamp_slot(seq: u64) -> usize {
    // Lossless: the remainder is below `HISTORY`.
    (seq % HISTORY as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn engine() -> Engine {
        let config = Config::builder()
            .count_window(4, 2)
            .minimum_calls(2)
            .fixed_wait(secs(10))
            .half_open_permits(2)
            .build()
            .unwrap();
        Engine::new(config, 0, Duration::ZERO)
    }

    fn call(engine: &mut Engine, at: u64, outcome: Outcome) {
        let permit = engine.try_acquire(secs(at)).unwrap();
        engine.complete(secs(at), permit, outcome, Duration::ZERO);
    }

    #[test]
    fn transitions_carry_their_times() {
        let mut engine = engine();
        call(&mut engine, 1, Outcome::Failure);
        call(&mut engine, 2, Outcome::Failure);
        engine.poll(secs(12));
        let moves: Vec<String> = engine.transitions().map(|t| t.to_string()).collect();
        assert_eq!(
            moves,
            [
                "#0 at 2s: Closed --trip--> Open",
                "#1 at 12s: Open --probe--> HalfOpen"
            ]
        );
    }

    #[test]
    fn a_moved_machine_starts_a_new_generation() {
        let mut engine = engine();
        let early = engine.try_acquire(secs(0)).unwrap();
        engine.force_open(secs(1));
        engine.reset(secs(2));
        engine.complete(secs(3), early, Outcome::Failure, Duration::ZERO);
        assert_eq!(engine.generation(), 2);
        assert_eq!(engine.lifetime().stale, 1);
        assert_eq!(engine.window_totals(), Counts::ZERO);
    }
}
