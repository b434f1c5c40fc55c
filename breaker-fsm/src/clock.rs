//! Monotonic clocks: where the breaker reads the time, so that tests can control it.
//!
//! Every time the breaker handles is a [`Duration`] since the clock's own origin. The
//! default [`MonotonicClock`] reads [`std::time::Instant`], which never steps when the
//! wall clock is set; [`ManualClock`] moves only when a test advances it; on Linux,
//! [`CoarseClock`] trades resolution (a few milliseconds) for a reading that costs a few
//! nanoseconds, for time-based windows on hot paths.
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

/// Linux's coarse monotonic clock (`CLOCK_MONOTONIC_COARSE`), measured from the moment
/// this value was created.
///
/// It is read from the kernel's last timer tick rather than from the hardware counter, so
/// a reading costs a few nanoseconds instead of the tens that [`MonotonicClock`] can cost
/// in a virtual machine, and advances in steps of [`CoarseClock::resolution`] (1 to 4 ms,
/// depending on the kernel's tick rate). Like `Instant` it never steps when the wall
/// clock is set.
///
/// Use it with a time-based window, whose buckets are far wider than a tick. It is a poor
/// fit for slow-call detection with a `slow_call_duration` near the tick: a call's
/// duration is measured to within one tick.
#[cfg(target_os = "linux")]
#[derive(Debug, Clone, Copy)]
pub struct CoarseClock {
    origin: Duration,
}

#[cfg(target_os = "linux")]
impl CoarseClock {
    /// A clock whose origin is now.
    pub fn new() -> Self {
        CoarseClock {
            origin: coarse::read(libc::CLOCK_MONOTONIC_COARSE),
        }
    }

    /// How far apart two different readings are at least: the kernel's tick.
    pub fn resolution() -> Duration {
        coarse::resolution(libc::CLOCK_MONOTONIC_COARSE)
    }
}

#[cfg(target_os = "linux")]
impl Default for CoarseClock {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(target_os = "linux")]
impl Clock for CoarseClock {
    #[inline]
    fn now(&self) -> Duration {
        coarse::read(libc::CLOCK_MONOTONIC_COARSE).saturating_sub(self.origin)
    }
}

#[cfg(target_os = "linux")]
mod coarse {
    use std::time::Duration;

    /// The current reading of `clock`. `clock_gettime` fails only for an unknown clock
    /// id or a bad pointer, neither of which can happen here; a zero reading would then
    /// only make the breaker see time stand still, never run backwards (the engine keeps
    /// its latest reading).
    #[inline]
    pub(super) fn read(clock: libc::clockid_t) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `timespec` for the duration of the call.
        unsafe { libc::clock_gettime(clock, &mut ts) };
        to_duration(&ts)
    }

    pub(super) fn resolution(clock: libc::clockid_t) -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: as in `read`.
        unsafe { libc::clock_getres(clock, &mut ts) };
        to_duration(&ts)
    }

    fn to_duration(ts: &libc::timespec) -> Duration {
        let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
        let nanos = u32::try_from(ts.tv_nsec).unwrap_or(0);
        Duration::new(secs, nanos)
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

    #[cfg(target_os = "linux")]
    #[test]
    fn coarse_clock_advances_in_ticks_and_never_back() {
        let resolution = CoarseClock::resolution();
        assert!(resolution > Duration::ZERO && resolution <= Duration::from_millis(10));
        let clock = CoarseClock::new();
        let first = clock.now();
        std::thread::sleep(3 * resolution);
        let later = clock.now();
        assert!(later > first, "{later:?} is not after {first:?}");
        assert!(clock.now() >= later);
    }

    #[test]
    fn monotonic_clock_readings_do_not_decrease() {
        let clock = MonotonicClock::new();
        let first = clock.now();
        assert!(clock.now() >= first);
    }
}
