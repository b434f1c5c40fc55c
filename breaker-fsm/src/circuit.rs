//! The run-time breaker: `Send + Sync`, lock-free while closed, the engine behind a lock.
//!
//! The state, its generation, the end of the Open wait and the end of a time window's
//! bucket are published in one read-mostly cache line. A call in Closed reads that line,
//! runs, and adds its outcome to its thread's stripe; it takes the engine's lock only to
//! flush, when the call failed or was slow (the rates must be evaluated) or a time
//! window's bucket has ended. Successes never need the engine: a count window takes them
//! in one batch at the next flush and spreads them over its buckets exactly. Open
//! rejects without the lock until its wait is over. Everything else — probes, transitions, manual
//! controls — goes through the [`Engine`] under a mutex, and every transition re-tags
//! the stripes and republishes the line before the lock is released.

use core::fmt;
use core::mem::ManuallyDrop;
use std::hash::{BuildHasher, RandomState};
use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::Duration;

use crate::breaker::StateId;
use crate::classify::{Classify, EveryError, outcome_of};
use crate::clock::{Clock, MonotonicClock, duration_to_nanos};
use crate::config::{Config, WindowConfig};
use crate::engine::{self, Engine, Outcome, Permit, Trail, Transition};
use crate::error::{CallError, Rejection};
use crate::listener::Listener;
use crate::machine::CallKind;
use crate::metrics::Metrics;
use crate::stripes::{Added, Stripes};
use crate::window::Counts;

/// The state codes in the low bits of the published state word; the generation is above.
const STATE_BITS: u32 = 3;
const STATE_MASK: u64 = (1 << STATE_BITS) - 1;
const CLOSED: u64 = 0;
const OPEN: u64 = 1;
const HALF_OPEN: u64 = 2;
const DISABLED: u64 = 3;
const FORCED_OPEN: u64 = 4;
const METRICS_ONLY: u64 = 5;

/// At most this many transitions are reported to listeners per locked operation; one
/// operation makes at most two (an Open wait ends, then the probe decides).
const NEWS: usize = 4;

fn state_code(state: StateId) -> u64 {
    match state {
        StateId::Closed => CLOSED,
        StateId::Open => OPEN,
        StateId::HalfOpen => HALF_OPEN,
        StateId::Disabled => DISABLED,
        StateId::ForcedOpen => FORCED_OPEN,
        StateId::MetricsOnly => METRICS_ONLY,
    }
}

fn state_of(code: u64) -> StateId {
    match code {
        CLOSED => StateId::Closed,
        OPEN => StateId::Open,
        HALF_OPEN => StateId::HalfOpen,
        DISABLED => StateId::Disabled,
        FORCED_OPEN => StateId::ForcedOpen,
        _ => StateId::MetricsOnly,
    }
}

/// What every call reads, on a cache line of its own. Written only under the engine's
/// lock, and only when a value changes.
#[repr(align(128))]
#[derive(Debug)]
struct Header {
    /// `generation << STATE_BITS | state code`; stored last, with `Release`.
    state: AtomicU64,
    /// The end of the Open wait, in clock nanoseconds.
    open_until: AtomicU64,
    /// The end of a time window's current bucket, in clock nanoseconds.
    deadline: AtomicU64,
    /// The slow-call duration, if slow-call detection is on.
    slow: Option<Duration>,
    /// Whether the window is time-based, so that each call needs the time it ended.
    time_window: bool,
}

/// A circuit breaker to share between threads; see the [crate documentation](crate).
///
/// ```
/// use breaker_fsm::CircuitBreaker;
/// use breaker_fsm::config::Config;
///
/// let breaker = CircuitBreaker::new(Config::default());
/// let answer: Result<u32, breaker_fsm::CallError<std::io::Error>> = breaker.call(|| Ok(42));
/// assert_eq!(answer.unwrap(), 42);
/// ```
pub struct CircuitBreaker<C: Clock = MonotonicClock> {
    header: Header,
    stripes: Stripes,
    engine: Mutex<Engine>,
    clock: C,
    listeners: Box<[Box<dyn Listener>]>,
}

/// Builds a [`CircuitBreaker`] with a clock, listeners or a stripe count of your own.
pub struct Builder<C: Clock = MonotonicClock> {
    config: Config,
    clock: C,
    listeners: Vec<Box<dyn Listener>>,
    stripes: usize,
}

impl Builder<MonotonicClock> {
    fn new(config: Config) -> Self {
        // Four stripes per core keeps two busy threads off one stripe most of the time.
        let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        Builder {
            config,
            clock: MonotonicClock::new(),
            listeners: Vec::new(),
            stripes: (cores * 4).clamp(4, 64),
        }
    }
}

impl<C: Clock> Builder<C> {
    /// Reads time from `clock` instead of the system's monotonic clock.
    pub fn clock<D: Clock>(self, clock: D) -> Builder<D> {
        Builder {
            config: self.config,
            clock,
            listeners: self.listeners,
            stripes: self.stripes,
        }
    }

    /// Tells `listener` of every state change.
    pub fn listener(mut self, listener: impl Listener + 'static) -> Self {
        self.listeners.push(Box::new(listener));
        self
    }

    /// Uses `stripes` per-thread counters (rounded up to a power of two, at most 1024)
    /// instead of four per core.
    pub fn stripes(mut self, stripes: usize) -> Self {
        self.stripes = stripes;
        self
    }

    /// The breaker, closed.
    pub fn build(self) -> CircuitBreaker<C> {
        let seed = self.config.settings().seed.unwrap_or_else(random_seed);
        let header = Header {
            state: AtomicU64::new(CLOSED),
            open_until: AtomicU64::new(0),
            deadline: AtomicU64::new(u64::MAX),
            slow: self.config.slow_call_duration(),
            time_window: matches!(self.config.window(), WindowConfig::Time { .. }),
        };
        let engine = Engine::new(self.config, seed, self.clock.now());
        let breaker = CircuitBreaker {
            header,
            stripes: Stripes::new(self.stripes, engine.generation()),
            engine: Mutex::new(engine),
            clock: self.clock,
            listeners: self.listeners.into_boxed_slice(),
        };
        breaker.publish(&breaker.lock());
        breaker
    }
}

/// A seed for the jitter that differs between breakers: std's hasher keys are random per
/// process and change with every `RandomState`.
fn random_seed() -> u64 {
    RandomState::new().hash_one(0_u8)
}

impl CircuitBreaker<MonotonicClock> {
    /// A closed breaker with the system's monotonic clock.
    pub fn new(config: Config) -> Self {
        Self::builder(config).build()
    }

    /// A builder, for a clock, listeners or a stripe count of your own.
    pub fn builder(config: Config) -> Builder<MonotonicClock> {
        Builder::new(config)
    }
}

impl<C: Clock> CircuitBreaker<C> {
    /// Runs `f` if the breaker lets it through; every error counts as a failure.
    ///
    /// # Errors
    ///
    /// [`CallError::Rejected`] when the breaker refused the call (open, forced open, or
    /// half-open without a free probe permit), and `f`'s own error, unchanged, as
    /// [`CallError::Inner`].
    #[inline]
    pub fn call<T, E>(&self, f: impl FnOnce() -> Result<T, E>) -> Result<T, CallError<E>> {
        self.call_with(&EveryError, f)
    }

    /// Runs `f` if the breaker lets it through; `classify` says what its error means.
    ///
    /// If `f` panics, the call is not counted and a probe permit is returned.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    #[inline]
    pub fn call_with<T, E, P>(
        &self,
        classify: &P,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, CallError<E>>
    where
        P: Classify<E> + ?Sized,
    {
        let permit = self.acquire()?;
        let result = f();
        permit.record(outcome_of(classify, &result));
        result.map_err(CallError::Inner)
    }

    /// Awaits `future` if the breaker lets it through; every error counts as a failure.
    /// Works with any executor: it only awaits `future`.
    ///
    /// The permit is taken when the returned future is first polled.
    ///
    /// # Cancel safety
    ///
    /// Dropping the returned future before it completes abandons the call: it is not
    /// counted, and a probe permit goes back to the breaker.
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn call_future<T, E, F>(&self, future: F) -> Result<T, CallError<E>>
    where
        F: Future<Output = Result<T, E>>,
    {
        self.call_future_with(&EveryError, future).await
    }

    /// Awaits `future` if the breaker lets it through; `classify` says what its error
    /// means. Cancel safety as for [`call_future`](Self::call_future).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub async fn call_future_with<T, E, F, P>(
        &self,
        classify: &P,
        future: F,
    ) -> Result<T, CallError<E>>
    where
        F: Future<Output = Result<T, E>>,
        P: Classify<E> + ?Sized,
    {
        let permit = self.acquire()?;
        let result = future.await;
        permit.record(outcome_of(classify, &result));
        result.map_err(CallError::Inner)
    }

    /// Asks to make one call, for code that cannot be wrapped in a closure or a future.
    /// Report its outcome on the permit; dropping the permit abandons the call.
    ///
    /// # Errors
    ///
    /// A [`Rejection`] when the breaker refuses the call.
    #[inline]
    pub fn acquire(&self) -> Result<CallPermit<'_, C>, Rejection> {
        let word = self.header.state.load(Ordering::Acquire);
        let kind = match word & STATE_MASK {
            CLOSED | METRICS_ONLY => CallKind::Counted,
            DISABLED => CallKind::Unrecorded,
            OPEN => return self.acquire_open(),
            FORCED_OPEN => {
                self.stripes.add_rejected();
                return Err(Rejection::ForcedOpen);
            }
            _ => return self.acquire_locked(),
        };
        Ok(self.permit(Permit::new(word >> STATE_BITS, kind)))
    }

    /// The current state, as last published.
    pub fn state(&self) -> StateId {
        state_of(self.header.state.load(Ordering::Acquire) & STATE_MASK)
    }

    /// Applies the time rules now, without a call: see [`Engine::poll`].
    pub fn poll(&self) {
        let now = self.clock.now();
        self.with_engine(|engine| engine.poll(now));
    }

    /// Switches the breaker off: every call goes through and nothing is recorded.
    pub fn disable(&self) {
        let now = self.clock.now();
        self.with_engine(|engine| engine.disable(now));
    }

    /// Forces the breaker open until another manual change.
    pub fn force_open(&self) {
        let now = self.clock.now();
        self.with_engine(|engine| engine.force_open(now));
    }

    /// Keeps recording calls but never changes state on its own.
    pub fn metrics_only(&self) {
        let now = self.clock.now();
        self.with_engine(|engine| engine.metrics_only(now));
    }

    /// Starts afresh, as [`Engine::reset`]: Closed from any state but Open, whose wait
    /// ends instead.
    pub fn reset(&self) {
        let now = self.clock.now();
        self.with_engine(|engine| engine.reset(now));
    }

    /// A snapshot of counts, rates, state and recent transitions. Allocates (for the
    /// transitions), and takes the engine's lock briefly.
    pub fn metrics(&self) -> Metrics {
        let engine = self.lock();
        let generation = engine.generation();
        let buffered = self.stripes.peek(generation);
        let window = engine.window_with(buffered);
        let rates = engine::rates_of(engine.config(), window);
        let (rejected, ignored) = self.stripes.rejected_and_ignored();
        let mut lifetime = engine.lifetime();
        lifetime.calls += buffered.calls;
        lifetime.failures += buffered.failures;
        lifetime.slow += buffered.slow;
        lifetime.rejected += rejected;
        lifetime.ignored += ignored;
        Metrics {
            state: engine.state(),
            generation,
            window,
            failure_rate: rates.failure,
            slow_call_rate: rates.slow,
            over_threshold: engine::over_threshold(engine.config(), window),
            lifetime,
            next_probe_at: engine.next_probe_at(),
            probes: engine.probes(),
            transitions: engine.transitions().collect(),
        }
    }

    /// The framework's breadcrumbs of the last moves, oldest first; its `Display` prints
    /// one `#seq From --event--> To` per line.
    pub fn breadcrumbs(&self) -> Trail {
        self.lock().history().clone()
    }

    /// The configuration.
    pub fn config(&self) -> Config {
        self.lock().config().clone()
    }

    /// The clock the breaker reads.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    #[inline]
    fn permit(&self, permit: Permit) -> CallPermit<'_, C> {
        let timed = self.header.slow.is_some() && permit.kind() != CallKind::Unrecorded;
        let started = timed.then(|| self.clock.now());
        CallPermit {
            breaker: self,
            permit,
            started,
        }
    }

    #[cold]
    #[inline(never)]
    fn acquire_open(&self) -> Result<CallPermit<'_, C>, Rejection> {
        let until = self.header.open_until.load(Ordering::Acquire);
        let now = self.clock.now();
        let now_nanos = duration_to_nanos(now);
        if now_nanos >= until {
            return self.acquire_locked();
        }
        self.stripes.add_rejected();
        Err(Rejection::Open {
            next_probe_at: Duration::from_nanos(until),
            retry_after: Duration::from_nanos(until - now_nanos),
        })
    }

    #[cold]
    #[inline(never)]
    fn acquire_locked(&self) -> Result<CallPermit<'_, C>, Rejection> {
        let now = self.clock.now();
        let permit = self.with_engine(|engine| engine.try_acquire(now))?;
        Ok(self.permit(permit))
    }

    #[inline]
    fn complete(&self, permit: Permit, outcome: Outcome, started: Option<Duration>) {
        match permit.kind() {
            CallKind::Counted => self.record_counted(permit.generation(), outcome, started),
            CallKind::Probe => self.complete_locked(permit, outcome, started),
            CallKind::Unrecorded => {}
        }
    }

    /// The Closed fast path: one compare-and-swap on this thread's stripe, unless the
    /// outcome is bad or a time window's bucket has ended.
    #[inline]
    fn record_counted(&self, generation: u64, outcome: Outcome, started: Option<Duration>) {
        if outcome == Outcome::Ignored {
            self.stripes.add_ignored();
            return;
        }
        let failed = outcome == Outcome::Failure;
        let (slow, now) = self.measure(started);
        if self.header.time_window && self.bucket_ended(now) {
            // This call belongs to the next bucket: the buffered ones go first.
            return self.flush(generation, Counts::one(failed, slow), now);
        }
        match self.stripes.add(generation, failed, slow) {
            Added::Counted => {
                if failed || slow {
                    self.flush(generation, Counts::ZERO, now);
                }
            }
            Added::Stale => self.with_engine(|engine| engine.add_stale(1)),
            Added::Full => self.flush(generation, Counts::one(failed, slow), now),
        }
    }

    /// Whether the call was slow, and the time it ended if the breaker needs it.
    #[inline]
    fn measure(&self, started: Option<Duration>) -> (bool, Option<Duration>) {
        if self.header.slow.is_none() && !self.header.time_window {
            return (false, None);
        }
        let now = self.clock.now();
        let slow = match (started, self.header.slow) {
            (Some(started), Some(limit)) => now.saturating_sub(started) >= limit,
            _ => false,
        };
        (slow, Some(now))
    }

    #[inline]
    fn bucket_ended(&self, now: Option<Duration>) -> bool {
        now.is_some_and(|now| {
            duration_to_nanos(now) >= self.header.deadline.load(Ordering::Relaxed)
        })
    }

    /// Hands the stripes' outcomes, then `own`, to the engine.
    #[cold]
    #[inline(never)]
    fn flush(&self, generation: u64, own: Counts, now: Option<Duration>) {
        let now = now.unwrap_or_else(|| self.clock.now());
        self.with_engine(|engine| {
            if engine.generation() != generation {
                engine.add_stale(own.calls);
                return;
            }
            let harvest = self.stripes.harvest(generation);
            engine.record_late(harvest.earlier);
            engine.record_batch(now, harvest.current, own);
        });
    }

    #[cold]
    #[inline(never)]
    fn complete_locked(&self, permit: Permit, outcome: Outcome, started: Option<Duration>) {
        let now = self.clock.now();
        let elapsed = started.map_or(Duration::ZERO, |started| now.saturating_sub(started));
        self.with_engine(|engine| engine.complete(now, permit, outcome, elapsed));
    }

    #[cold]
    #[inline(never)]
    fn abandon(&self, permit: Permit) {
        if permit.kind() == CallKind::Unrecorded {
            return;
        }
        let now = self.clock.now();
        self.with_engine(|engine| engine.abandon(now, permit));
    }

    fn lock(&self) -> MutexGuard<'_, Engine> {
        // The engine does not panic while the lock is held, and listeners run after it
        // is released; a poisoned lock can only come from an allocation failure, and its
        // data is still consistent, so it is used as it is.
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `act` on the engine under the lock; if the state changed, re-tags the
    /// stripes and tells the listeners once the lock is released.
    fn with_engine<R>(&self, act: impl FnOnce(&mut Engine) -> R) -> R {
        let mut engine = self.lock();
        let before = engine.generation();
        let result = act(&mut engine);
        let mut news: [Option<Transition>; NEWS] = [None; NEWS];
        if engine.generation() != before {
            self.retag(&mut engine);
            for (slot, transition) in news.iter_mut().zip(engine.transitions_since(before)) {
                *slot = Some(transition);
            }
        }
        self.publish(&engine);
        drop(engine);
        self.tell(&news);
        result
    }

    /// Starts the stripes on the new generation; what they held arrived too late for
    /// the old one's window but still counts in the lifetime totals.
    fn retag(&self, engine: &mut Engine) {
        let harvest = self.stripes.harvest(engine.generation());
        engine.record_late(harvest.earlier.plus(harvest.current));
    }

    /// Writes what the fast path reads; the state word last, so that a thread that sees
    /// a new generation also sees its stripes re-tagged and its deadlines.
    fn publish(&self, engine: &Engine) {
        let header = &self.header;
        let until = engine.next_probe_at().map_or(0, duration_to_nanos);
        let deadline = engine.window_deadline().map_or(u64::MAX, duration_to_nanos);
        let word = engine.generation() << STATE_BITS | state_code(engine.state());
        store_if_changed(&header.open_until, until);
        store_if_changed(&header.deadline, deadline);
        store_if_changed(&header.state, word);
    }

    fn tell(&self, news: &[Option<Transition>]) {
        for transition in news.iter().flatten() {
            for listener in self.listeners.iter() {
                listener.on_transition(transition);
            }
        }
    }
}

/// Stores `value` unless it is already there: a store would take the cache line away
/// from every reader even when nothing changed.
fn store_if_changed(cell: &AtomicU64, value: u64) {
    if cell.load(Ordering::Relaxed) != value {
        cell.store(value, Ordering::Release);
    }
}

impl<C: Clock> fmt::Debug for CircuitBreaker<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = self.header.state.load(Ordering::Acquire);
        f.debug_struct("CircuitBreaker")
            .field("state", &state_of(word & STATE_MASK))
            .field("generation", &(word >> STATE_BITS))
            .field("stripes", &self.stripes.len())
            .field("listeners", &self.listeners.len())
            .finish_non_exhaustive()
    }
}

impl<C: Clock> fmt::Debug for Builder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("config", &self.config)
            .field("listeners", &self.listeners.len())
            .field("stripes", &self.stripes)
            .finish_non_exhaustive()
    }
}

/// The right to make one call through a [`CircuitBreaker`], from
/// [`CircuitBreaker::acquire`].
///
/// Report the outcome with [`record`](Self::record) (or `success`, `failure`, `ignore`).
/// Dropping it unreported abandons the call: nothing is counted, and a probe permit goes
/// back to the breaker.
#[must_use = "dropping a permit abandons the call"]
pub struct CallPermit<'a, C: Clock = MonotonicClock> {
    breaker: &'a CircuitBreaker<C>,
    permit: Permit,
    started: Option<Duration>,
}

impl<C: Clock> CallPermit<'_, C> {
    /// What kind of call this is: counted in Closed, a probe in HalfOpen, unrecorded
    /// when the breaker is disabled.
    pub fn kind(&self) -> CallKind {
        self.permit.kind()
    }

    /// Reports the call's outcome.
    #[inline]
    pub fn record(self, outcome: Outcome) {
        // Reported: the abandoning `Drop` must not run.
        let this = ManuallyDrop::new(self);
        this.breaker.complete(this.permit, outcome, this.started);
    }

    /// Reports a success.
    pub fn success(self) {
        self.record(Outcome::Success);
    }

    /// Reports a failure.
    pub fn failure(self) {
        self.record(Outcome::Failure);
    }

    /// Reports an outcome that says nothing about the dependency.
    pub fn ignore(self) {
        self.record(Outcome::Ignored);
    }
}

impl<C: Clock> Drop for CallPermit<'_, C> {
    fn drop(&mut self) {
        self.breaker.abandon(self.permit);
    }
}

impl<C: Clock> fmt::Debug for CallPermit<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallPermit")
            .field("permit", &self.permit)
            .field("started", &self.started)
            .finish_non_exhaustive()
    }
}
