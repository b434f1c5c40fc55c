//! Monotonic clocks: where the breaker reads the time, so that tests can control it.
//!
//! Every time the breaker handles is a [`Duration`] since the clock's own origin. The
//! default [`MonotonicClock`] reads [`std::time::Instant`], which never steps when the
//! wall clock is set; [`ManualClock`] moves only when a test advances it.
//!
//! The engine also refuses to let time run backwards: it keeps the latest reading it has
//! seen, so a custom clock that steps back can neither end a wait early nor slide a
//! window back. It can still delay what is due: the lock-free Open path compares the
//! clock's own reading with the end of the wait, so after a step back the breaker stays
//! open until the clock reads that time again.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A source of monotonic time for a breaker.
///
/// Implementations must be cheap: the breaker reads the clock on every call that uses a
/// time-based window or slow-call detection, and on every rejection while open.
pub trait Clock: Send + Sync {
    /// The time elapsed since this clock's origin. Readings should never decrease.
    fn now(&self) -> Duration;
}

/// The system's monotonic clock, measured from the moment this value was created.
#[derive(Debug, Clone, Copy)]
pub struct MonotonicClock {
    origin: Instant,
}

impl MonotonicClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        MonotonicClock {
            origin: Instant::now(),
        }
    }
}

impl Default for MonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for MonotonicClock {
    #[inline]
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use breaker_fsm::clock::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let seen_by_breaker = clock.clone();
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(seen_by_breaker.now(), Duration::from_millis(1500));
/// ```
#[derive(Debug, Clone, Default)]
pub struct ManualClock {
    nanos: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading zero.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by`, saturating at `u64::MAX` nanoseconds.
    pub fn advance(&self, by: Duration) {
        let by = duration_to_nanos(by);
        let _ = self
            .nanos
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |now| {
                Some(now.saturating_add(by))
            });
    }

    /// Sets the clock to `at` if that is later than its reading; never moves it back.
    pub fn advance_to(&self, at: Duration) {
        self.nanos
            .fetch_max(duration_to_nanos(at), Ordering::AcqRel);
    }
}

impl Clock for ManualClock {
    #[inline]
    fn now(&self) -> Duration {
        Duration::from_nanos(self.nanos.load(Ordering::Acquire))
    }
}

impl<C: Clock + ?Sized> Clock for Arc<C> {
    #[inline]
    fn now(&self) -> Duration {
        (**self).now()
    }
}

impl<C: Clock + ?Sized> Clock for &C {
    #[inline]
    fn now(&self) -> Duration {
        (**self).now()
    }
}

/// Nanoseconds in `duration`, saturating: 2^64 ns is more than 584 years.
pub(crate) fn duration_to_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_never_moves_back() {
        let clock = ManualClock::new();
        clock.advance_to(Duration::from_secs(5));
        clock.advance_to(Duration::from_secs(2));
        assert_eq!(clock.now(), Duration::from_secs(5));
    }

    #[test]
    fn monotonic_clock_readings_do_not_decrease() {
        let clock = MonotonicClock::new();
        let first = clock.now();
        assert!(clock.now() >= first);
    }
}
