//! Per-thread counters that buffer Closed-state outcomes between visits to the engine.
//!
//! One shared counter written by every call is where other breakers fall over with two
//! threads: the cache line holding it ping-pongs between cores. Here each thread writes
//! to one of several cache-line-sized stripes, picked once per thread, and the engine
//! sees the sum when a call fails or is slow (the rates must be evaluated), when a
//! time window's bucket ends, or when the breaker changes state.
//!
//! A stripe is one `u64`: calls (32 bits), failures (8), slow calls (8) and a 16-bit tag
//! of the generation it counts for. A thread adds with a compare-and-swap that checks the
//! tag, so a call that began before a state change can never land in the new state's
//! counts: the change re-tags every stripe before it is published.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::window::Counts;

const CALLS_MASK: u64 = (1 << 32) - 1;
const FAILURE_SHIFT: u32 = 32;
const SLOW_SHIFT: u32 = 40;
const SMALL_MASK: u64 = 0xff;
const TAG_SHIFT: u32 = 48;

/// A stripe asks for a flush before its call counter could overflow.
const CALLS_LIMIT: u64 = 1 << 31;

/// One stripe, alone on its cache line (128 bytes covers adjacent-line prefetching).
#[repr(align(128))]
#[derive(Debug, Default)]
struct Stripe {
    /// Calls, failures, slow calls and the generation tag, packed.
    word: AtomicU64,
    /// Calls rejected without the engine, over the breaker's life.
    rejected: AtomicU64,
    /// Calls whose outcome was ignored without the engine, over the breaker's life.
    ignored: AtomicU64,
}

/// What [`Stripes::add`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Added {
    /// Counted.
    Counted,
    /// Not counted: the call began in an earlier generation.
    Stale,
    /// Not counted: a counter is full, so the caller must flush first.
    Full,
}

/// What a flush took out of the stripes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Harvest {
    /// Outcomes counted for the generation asked about.
    pub current: Counts,
    /// Outcomes counted for an earlier generation and not yet flushed.
    pub earlier: Counts,
}

/// The stripes of one breaker.
#[derive(Debug)]
pub(crate) struct Stripes {
    stripes: Box<[Stripe]>,
    mask: usize,
}

thread_local! {
    /// This thread's stripe, before masking; `usize::MAX` until first use.
    static THREAD_INDEX: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// Hands out thread indices in order, so that threads started together get different
/// stripes.
static NEXT_INDEX: AtomicUsize = AtomicUsize::new(0);

#[inline]
fn thread_index() -> usize {
    THREAD_INDEX.with(|index| {
        let mut value = index.get();
        if value == usize::MAX {
            value = NEXT_INDEX.fetch_add(1, Ordering::Relaxed) % (usize::MAX - 1);
            index.set(value);
        }
        value
    })
}

fn tag(generation: u64) -> u64 {
    (generation & 0xffff) << TAG_SHIFT
}

fn decode(word: u64) -> Counts {
    Counts {
        calls: word & CALLS_MASK,
        failures: (word >> FAILURE_SHIFT) & SMALL_MASK,
        slow: (word >> SLOW_SHIFT) & SMALL_MASK,
    }
}

impl Stripes {
    /// `count` stripes (rounded up to a power of two), tagged for `generation`.
    pub(crate) fn new(count: usize, generation: u64) -> Stripes {
        let count = count.clamp(1, 1024).next_power_of_two();
        let stripes: Box<[Stripe]> = (0..count).map(|_| Stripe::default()).collect();
        for stripe in &stripes {
            stripe.word.store(tag(generation), Ordering::Relaxed);
        }
        Stripes {
            stripes,
            mask: count - 1,
        }
    }

    /// How many stripes there are.
    pub(crate) fn len(&self) -> usize {
        self.stripes.len()
    }

    #[inline]
    fn mine(&self) -> &Stripe {
        // Masking keeps the index in bounds, so the lookup never fails.
        &self.stripes[thread_index() & self.mask]
    }

    /// Counts one call for `generation` in this thread's stripe.
    #[inline]
    pub(crate) fn add(&self, generation: u64, failed: bool, slow: bool) -> Added {
        let stripe = self.mine();
        let increment = 1 + (u64::from(failed) << FAILURE_SHIFT) + (u64::from(slow) << SLOW_SHIFT);
        let mut word = stripe.word.load(Ordering::Relaxed);
        loop {
            if word & !((1 << TAG_SHIFT) - 1) != tag(generation) {
                return Added::Stale;
            }
            let counts = decode(word);
            let full = counts.calls >= CALLS_LIMIT
                || (failed && counts.failures == SMALL_MASK)
                || (slow && counts.slow == SMALL_MASK);
            if full {
                return Added::Full;
            }
            // Relaxed is enough: only the sum matters, and a read-modify-write on one
            // location never loses an update.
            match stripe.word.compare_exchange_weak(
                word,
                word + increment,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Added::Counted,
                Err(actual) => word = actual,
            }
        }
    }

    /// Empties every stripe and tags it for `generation`.
    pub(crate) fn harvest(&self, generation: u64) -> Harvest {
        let fresh = tag(generation);
        let mut harvest = Harvest::default();
        for stripe in self.stripes.iter() {
            // Reading first leaves idle stripes, and the cache lines of other threads,
            // alone: a swap would take each line away from its owner.
            if stripe.word.load(Ordering::Relaxed) == fresh {
                continue;
            }
            let word = stripe.word.swap(fresh, Ordering::AcqRel);
            let counts = decode(word);
            if counts.calls == 0 {
                continue;
            }
            if word & !((1 << TAG_SHIFT) - 1) == fresh {
                harvest.current = harvest.current.plus(counts);
            } else {
                harvest.earlier = harvest.earlier.plus(counts);
            }
        }
        harvest
    }

    /// The outcomes buffered for `generation`, left in place.
    pub(crate) fn peek(&self, generation: u64) -> Counts {
        self.stripes
            .iter()
            .map(|stripe| stripe.word.load(Ordering::Acquire))
            .filter(|word| word & !((1 << TAG_SHIFT) - 1) == tag(generation))
            .fold(Counts::ZERO, |sum, word| sum.plus(decode(word)))
    }

    /// Counts a call rejected without the engine.
    #[inline]
    pub(crate) fn add_rejected(&self) {
        self.mine().rejected.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a call whose outcome was ignored without the engine.
    #[inline]
    pub(crate) fn add_ignored(&self) {
        self.mine().ignored.fetch_add(1, Ordering::Relaxed);
    }

    /// Calls rejected and ignored without the engine, over the breaker's life.
    pub(crate) fn rejected_and_ignored(&self) -> (u64, u64) {
        self.stripes
            .iter()
            .fold((0, 0), |(rejected, ignored), stripe| {
                (
                    rejected + stripe.rejected.load(Ordering::Relaxed),
                    ignored + stripe.ignored.load(Ordering::Relaxed),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_are_counted_for_their_generation_only() {
        let stripes = Stripes::new(4, 7);
        assert_eq!(stripes.add(7, true, false), Added::Counted);
        assert_eq!(stripes.add(7, false, true), Added::Counted);
        assert_eq!(stripes.add(6, false, false), Added::Stale);
        let expected = Counts {
            calls: 2,
            failures: 1,
            slow: 1,
        };
        assert_eq!(stripes.peek(7), expected);
        let harvest = stripes.harvest(7);
        assert_eq!(harvest.current, expected);
        assert_eq!(stripes.peek(7), Counts::ZERO);
    }

    #[test]
    fn retagging_separates_the_earlier_generation() {
        let stripes = Stripes::new(2, 1);
        stripes.add(1, false, false);
        let harvest = stripes.harvest(2);
        assert_eq!(harvest.current, Counts::ZERO);
        assert_eq!(harvest.earlier.calls, 1);
        assert_eq!(stripes.add(1, false, false), Added::Stale);
    }

    #[test]
    fn a_full_failure_counter_asks_for_a_flush() {
        let stripes = Stripes::new(1, 0);
        for _ in 0..255 {
            stripes.add(0, true, false);
        }
        assert_eq!(stripes.add(0, true, false), Added::Full);
        assert_eq!(stripes.add(0, false, false), Added::Counted);
    }
}
