//! How long each Open state lasts: a fixed wait, or exponential backoff with a cap and
//! seeded jitter.
//!
//! Jitter exists so that a fleet of clients whose breakers opened together do not all
//! probe together. It only ever shortens a wait, so the cap holds exactly, and it comes
//! from a seeded generator, so a test that fixes the seed sees the same waits every run.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::config::WaitConfig;

/// The waits of successive Open states.
///
/// ```
/// use std::time::Duration;
/// use breaker_fsm::backoff::Backoff;
/// use breaker_fsm::config::WaitConfig;
///
/// let secs = Duration::from_secs;
/// let config = WaitConfig::Backoff { initial: secs(1), multiplier: 2.0, max: secs(5), jitter: 0.0 };
/// let mut backoff = Backoff::new(config, 7);
/// let waits: Vec<Duration> = (1..=4).map(|attempt| backoff.wait(attempt)).collect();
/// assert_eq!(waits, [secs(1), secs(2), secs(4), secs(5)]);
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    config: WaitConfig,
    rng: StdRng,
}

impl Backoff {
    /// Waits as `config` says, with jitter drawn from a generator seeded with `seed`.
    pub fn new(config: WaitConfig, seed: u64) -> Backoff {
        Backoff {
            config,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// The wait of the `attempt`-th Open state in a row (1 for a trip from Closed).
    pub fn wait(&mut self, attempt: u32) -> Duration {
        match self.config {
            WaitConfig::Fixed { wait } => wait,
            WaitConfig::Backoff {
                initial,
                multiplier,
                max,
                jitter,
            } => {
                let base = grown(initial, multiplier, attempt, max);
                self.shortened(base, jitter)
            }
        }
    }

    /// `base` minus a uniformly drawn fraction of at most `jitter` of it.
    fn shortened(&mut self, base: Duration, jitter: f64) -> Duration {
        if jitter <= 0.0 {
            return base;
        }
        let fraction = jitter.min(1.0) * self.rng.random::<f64>();
        base.mul_f64(1.0 - fraction)
    }
}

/// `initial * multiplier^(attempt - 1)`, capped at `max`, without overflow.
fn grown(initial: Duration, multiplier: f64, attempt: u32, max: Duration) -> Duration {
    let exponent = i32::try_from(attempt.saturating_sub(1)).unwrap_or(i32::MAX);
    let seconds = initial.as_secs_f64() * multiplier.powi(exponent);
    // An infinite or unrepresentable product is past any cap.
    Duration::try_from_secs_f64(seconds).map_or(max, |wait| wait.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(jitter: f64, seed: u64) -> Backoff {
        let config = WaitConfig::Backoff {
            initial: Duration::from_millis(100),
            multiplier: 3.0,
            max: Duration::from_secs(10),
            jitter,
        };
        Backoff::new(config, seed)
    }

    #[test]
    fn backoff_grows_then_stops_at_the_cap() {
        let mut waits = backoff(0.0, 1);
        assert_eq!(waits.wait(3), Duration::from_millis(900));
        assert_eq!(waits.wait(9), Duration::from_secs(10));
        assert_eq!(waits.wait(u32::MAX), Duration::from_secs(10));
    }

    #[test]
    fn jitter_only_shortens_and_is_reproducible_with_a_seed() {
        let first: Vec<Duration> = (1..20).map(|a| backoff(0.5, 42).wait(a)).collect();
        let again: Vec<Duration> = (1..20).map(|a| backoff(0.5, 42).wait(a)).collect();
        assert_eq!(first, again);
        for (attempt, wait) in (1..20).zip(&first) {
            let base = backoff(0.0, 0).wait(attempt);
            assert!(
                *wait <= base && *wait >= base / 2,
                "{wait:?} against {base:?}"
            );
        }
    }

    #[test]
    fn fixed_wait_is_always_the_same() {
        let mut waits = Backoff::new(
            WaitConfig::Fixed {
                wait: Duration::from_secs(3),
            },
            0,
        );
        assert_eq!(waits.wait(1), waits.wait(50));
    }
}
