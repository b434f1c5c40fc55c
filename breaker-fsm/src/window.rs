//! Sliding windows of call outcomes, in buckets: counts in, totals out, no clock inside.
//!
//! A window keeps `buckets + 1` buckets: the full ones it slides over and the one being
//! filled. A count window moves to a fresh bucket when the current one holds its share
//! of calls; a time window when the time handed to it enters the next bucket's span.
//! Memory is fixed when the window is made, whatever the call rate — one bucket holds
//! three counters, not one entry per call.

use std::time::Duration;

use crate::clock::duration_to_nanos;
use crate::config::WindowConfig;

/// Outcomes of some calls: how many there were, failed, and were slow.
///
/// A call can be both failed and slow; `failures` and `slow` never exceed `calls`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counts {
    /// Calls recorded.
    pub calls: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Calls that were slow.
    pub slow: u64,
}

impl Counts {
    /// No call at all.
    pub const ZERO: Counts = Counts {
        calls: 0,
        failures: 0,
        slow: 0,
    };

    /// One call.
    pub fn one(failed: bool, slow: bool) -> Counts {
        Counts {
            calls: 1,
            failures: u64::from(failed),
            slow: u64::from(slow),
        }
    }

    /// Whether any of the calls failed or was slow: only those can raise a rate.
    pub fn has_bad(&self) -> bool {
        self.failures > 0 || self.slow > 0
    }

    /// The sum of both, saturating.
    pub fn plus(self, other: Counts) -> Counts {
        Counts {
            calls: self.calls.saturating_add(other.calls),
            failures: self.failures.saturating_add(other.failures),
            slow: self.slow.saturating_add(other.slow),
        }
    }
}

/// How a window moves from one bucket to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// After this many calls.
    Count { bucket_calls: u64 },
    /// After this many nanoseconds of clock time.
    Time { bucket_nanos: u64 },
}

/// A sliding window over call outcomes, in buckets.
///
/// ```
/// use std::time::Duration;
/// use breaker_fsm::config::WindowConfig;
/// use breaker_fsm::window::{Counts, Window};
///
/// // The last 4 calls, sliding 2 at a time.
/// let mut window = Window::new(WindowConfig::Count { calls: 4, buckets: 2 }, Duration::ZERO);
/// window.add(Counts::one(true, false));
/// window.add(Counts { calls: 5, failures: 0, slow: 0 });
/// // The first bucket (with the failure) has slid out.
/// assert_eq!(window.totals(), Counts { calls: 4, failures: 0, slow: 0 });
/// ```
#[derive(Debug, Clone)]
pub struct Window {
    shape: Shape,
    /// `buckets + 1` buckets; the current one is `epoch % len`.
    slots: Box<[Counts]>,
    /// The sequence number of the current bucket: calls so far divided by the bucket
    /// size for a count window, the clock reading divided by the bucket span for a time
    /// window.
    epoch: u64,
}

impl Window {
    /// An empty window of the given shape, starting at `now`.
    ///
    /// `config` is expected to be valid (as in a [`Config`](crate::config::Config)); a
    /// zero size or bucket count is raised to 1 rather than divided by.
    pub fn new(config: WindowConfig, now: Duration) -> Window {
        let (shape, buckets) = match config {
            WindowConfig::Count { calls, buckets } => {
                let buckets = buckets.max(1);
                let bucket_calls = u64::from((calls / buckets).max(1));
                (Shape::Count { bucket_calls }, buckets)
            }
            WindowConfig::Time { length, buckets } => {
                let buckets = buckets.max(1);
                let bucket_nanos = (duration_to_nanos(length) / u64::from(buckets)).max(1);
                (Shape::Time { bucket_nanos }, buckets)
            }
        };
        let len = buckets as usize + 1;
        let mut window = Window {
            shape,
            slots: vec![Counts::ZERO; len].into_boxed_slice(),
            epoch: 0,
        };
        window.clear(now);
        window
    }

    /// Forgets every outcome; the window starts again at `now`.
    pub fn clear(&mut self, now: Duration) {
        self.slots.fill(Counts::ZERO);
        self.epoch = match self.shape {
            Shape::Count { .. } => 0,
            Shape::Time { bucket_nanos } => duration_to_nanos(now) / bucket_nanos,
        };
    }

    /// Moves a time window to the bucket of `now`, emptying the buckets that slid out.
    /// Returns whether it slid. A count window, or an earlier `now`, changes nothing.
    pub fn advance(&mut self, now: Duration) -> bool {
        let Shape::Time { bucket_nanos } = self.shape else {
            return false;
        };
        let target = duration_to_nanos(now) / bucket_nanos;
        if target <= self.epoch {
            return false;
        }
        // Past `len` steps every bucket is empty anyway, so the loop is bounded.
        let steps = (target - self.epoch).min(self.slots.len() as u64);
        for step in 1..=steps {
            let slot = self.slot_of(target - steps + step);
            self.slots[slot] = Counts::ZERO;
        }
        self.epoch = target;
        true
    }

    /// Adds the outcomes of a batch of calls.
    ///
    /// A time window puts them all in the current bucket. A count window fills its
    /// buckets in call order, moving to a fresh bucket whenever one is full; since a
    /// batch does not say in which order its outcomes came, its successes are taken to
    /// come first and its failed or slow calls last. A front end that flushes right
    /// after every failed or slow call (as [`CircuitBreaker`](crate::CircuitBreaker)
    /// does) makes that order the true one on a single thread.
    pub fn add(&mut self, counts: Counts) {
        let Shape::Count { bucket_calls } = self.shape else {
            let current = self.slot_of(self.epoch);
            self.slots[current] = self.slots[current].plus(counts);
            return;
        };
        let bad_calls = counts.failures.max(counts.slow).min(counts.calls);
        self.add_successes(counts.calls - bad_calls, bucket_calls);
        let bad = Counts {
            calls: bad_calls,
            ..counts
        };
        let current = self.slot_of(self.epoch);
        self.slots[current] = self.slots[current].plus(bad);
        if self.slots[current].calls >= bucket_calls {
            self.start_bucket(Counts::ZERO);
        }
    }

    /// Adds `successes` successful calls to a count window, bucket by bucket.
    fn add_successes(&mut self, successes: u64, bucket_calls: u64) {
        let current = self.slot_of(self.epoch);
        let room = bucket_calls.saturating_sub(self.slots[current].calls);
        if successes < room {
            self.slots[current].calls += successes;
            return;
        }
        self.slots[current].calls += room;
        let rest = successes - room;
        let full = rest / bucket_calls;
        // Past `len` full buckets every slot is overwritten with the same content, so
        // the loop is bounded however large the batch.
        let written = full.min(self.slots.len() as u64);
        self.epoch += full - written;
        let full_bucket = Counts {
            calls: bucket_calls,
            ..Counts::ZERO
        };
        for _ in 0..written {
            self.start_bucket(full_bucket);
        }
        self.start_bucket(Counts {
            calls: rest % bucket_calls,
            ..Counts::ZERO
        });
    }

    /// Moves a count window to the next bucket, which starts out holding `counts`.
    fn start_bucket(&mut self, counts: Counts) {
        self.epoch += 1;
        let next = self.slot_of(self.epoch);
        self.slots[next] = counts;
    }

    /// The outcomes in the window: every bucket, including the one being filled.
    pub fn totals(&self) -> Counts {
        self.slots
            .iter()
            .fold(Counts::ZERO, |sum, slot| sum.plus(*slot))
    }

    /// How many more calls the current bucket of a count window takes before it is full;
    /// `u64::MAX` for a time window.
    pub fn room(&self) -> u64 {
        match self.shape {
            Shape::Count { bucket_calls } => {
                bucket_calls.saturating_sub(self.slots[self.slot_of(self.epoch)].calls)
            }
            Shape::Time { .. } => u64::MAX,
        }
    }

    /// When the current bucket of a time window ends; `None` for a count window.
    pub fn deadline(&self) -> Option<Duration> {
        match self.shape {
            Shape::Count { .. } => None,
            Shape::Time { bucket_nanos } => {
                let end = self.epoch.saturating_add(1).saturating_mul(bucket_nanos);
                Some(Duration::from_nanos(end))
            }
        }
    }

    fn slot_of(&self, epoch: u64) -> usize {
        // Lossless: the remainder is below the slot count, which is a `usize`.
        (epoch % self.slots.len() as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAIL: Counts = Counts {
        calls: 1,
        failures: 1,
        slow: 0,
    };
    const OK: Counts = Counts {
        calls: 1,
        failures: 0,
        slow: 0,
    };

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn count_window_slides_one_bucket_when_the_current_fills() {
        let mut window = Window::new(
            WindowConfig::Count {
                calls: 4,
                buckets: 2,
            },
            secs(0),
        );
        for counts in [FAIL, FAIL, OK, OK, OK] {
            window.add(counts);
        }
        assert_eq!(window.totals().calls, 5);
        window.add(OK);
        assert_eq!(
            window.totals(),
            Counts {
                calls: 4,
                failures: 0,
                slow: 0
            }
        );
    }

    #[test]
    fn count_window_splits_a_batch_of_successes_across_buckets() {
        let config = WindowConfig::Count {
            calls: 4,
            buckets: 2,
        };
        let mut one_by_one = Window::new(config, secs(0));
        let mut batched = Window::new(config, secs(0));
        for counts in [FAIL, OK, OK, OK, OK, OK, FAIL] {
            one_by_one.add(counts);
        }
        batched.add(FAIL);
        batched.add(Counts {
            calls: 6,
            failures: 1,
            slow: 0,
        });
        assert_eq!(batched.totals(), one_by_one.totals());
        assert_eq!(batched.room(), one_by_one.room());
    }

    #[test]
    fn count_window_takes_a_huge_batch_in_bounded_time() {
        let mut window = Window::new(
            WindowConfig::Count {
                calls: 10,
                buckets: 5,
            },
            secs(0),
        );
        window.add(FAIL);
        window.add(Counts {
            calls: u64::MAX / 2,
            ..Counts::ZERO
        });
        let totals = window.totals();
        assert_eq!(totals.failures, 0);
        assert!((10..12).contains(&totals.calls), "{totals:?}");
    }

    #[test]
    fn count_window_room_is_what_the_current_bucket_lacks() {
        let mut window = Window::new(
            WindowConfig::Count {
                calls: 30,
                buckets: 3,
            },
            secs(0),
        );
        window.add(Counts {
            calls: 4,
            ..Counts::ZERO
        });
        assert_eq!(window.room(), 6);
        assert_eq!(window.deadline(), None);
    }

    #[test]
    fn time_window_keeps_buckets_plus_the_current_one() {
        let config = WindowConfig::Time {
            length: secs(10),
            buckets: 10,
        };
        let mut window = Window::new(config, secs(0));
        window.add(FAIL);
        assert!(window.advance(secs(10)));
        window.add(OK);
        assert_eq!(
            window.totals().calls,
            2,
            "bucket 0 is still within 10 buckets of 10"
        );
        assert!(window.advance(secs(11)));
        assert_eq!(window.totals(), OK);
    }

    #[test]
    fn time_window_empties_everything_after_a_long_silence() {
        let config = WindowConfig::Time {
            length: secs(3),
            buckets: 3,
        };
        let mut window = Window::new(config, secs(5));
        window.add(FAIL);
        assert!(window.advance(secs(1_000_000)));
        assert_eq!(window.totals(), Counts::ZERO);
        assert_eq!(window.deadline(), Some(secs(1_000_001)));
    }

    #[test]
    fn time_window_ignores_time_going_backwards() {
        let config = WindowConfig::Time {
            length: secs(3),
            buckets: 3,
        };
        let mut window = Window::new(config, secs(5));
        window.add(FAIL);
        assert!(!window.advance(secs(1)));
        assert_eq!(window.totals(), FAIL);
    }
}
