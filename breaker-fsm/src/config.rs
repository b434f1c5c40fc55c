//! The breaker's policy settings: written in code or read with serde, then validated.
//!
//! [`Settings`] is the raw form, with public fields, builder methods and serde support;
//! [`Settings::build`] checks it and returns a [`Config`], which can only hold valid
//! values, or a typed [`ConfigError`]. `Config` itself deserializes through `Settings`,
//! so a bad file is rejected when it is read. In files, durations are whole milliseconds
//! in fields whose names end in `_ms`.
//!
//! ```
//! use breaker_fsm::config::{ConfigError, RateField, Settings};
//!
//! let json = r#"{ "window": { "count": { "calls": 50, "buckets": 5 } },
//!                 "failure_rate_threshold": 120.0 }"#;
//! let settings: Settings = serde_json::from_str(json).unwrap();
//! assert_eq!(
//!     settings.build().unwrap_err(),
//!     ConfigError::RateOutOfRange { field: RateField::FailureRate, value: 120.0 },
//! );
//! ```

use core::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The most buckets a window may have: every evaluation sums them all.
pub const MAX_BUCKETS: u32 = 1000;

/// The shortest bucket of a time window.
pub const MIN_BUCKET: Duration = Duration::from_millis(1);

/// How the sliding window that the rates are computed over is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WindowConfig {
    /// The last `calls` calls, in `buckets` buckets of `calls / buckets` calls each. The
    /// window slides a bucket at a time, so it holds between `calls` and
    /// `calls + calls / buckets - 1` calls once it is full.
    Count {
        /// How many calls the window holds.
        calls: u32,
        /// How many buckets it slides by; must divide `calls`.
        buckets: u32,
    },
    /// The calls of the last `length`, in `buckets` buckets of `length / buckets` each,
    /// plus the bucket being filled.
    Time {
        /// How long the window lasts.
        #[serde(rename = "length_ms", with = "millis")]
        length: Duration,
        /// How many buckets it slides by.
        buckets: u32,
    },
}

/// How long the breaker stays open before it lets probes through.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum WaitConfig {
    /// Always the same wait.
    Fixed {
        /// The wait.
        #[serde(rename = "wait_ms", with = "millis")]
        wait: Duration,
    },
    /// `initial`, then `multiplier` times longer each time the breaker re-opens without
    /// having closed in between, never longer than `max`; each wait is then shortened by
    /// a random fraction of at most `jitter` (0 to 1), from a seeded generator.
    Backoff {
        /// The first wait.
        #[serde(rename = "initial_ms", with = "millis")]
        initial: Duration,
        /// The growth factor, at least 1.
        multiplier: f64,
        /// The cap.
        #[serde(rename = "max_ms", with = "millis")]
        max: Duration,
        /// The largest fraction a wait may be shortened by, from 0 to 1.
        jitter: f64,
    },
}

/// Which rate a [`ConfigError::RateOutOfRange`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateField {
    /// `failure_rate_threshold`.
    FailureRate,
    /// `slow_call_rate_threshold`.
    SlowCallRate,
}

impl fmt::Display for RateField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RateField::FailureRate => "failure_rate_threshold",
            RateField::SlowCallRate => "slow_call_rate_threshold",
        })
    }
}

/// A value that [`Settings::build`] refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A count window of zero calls, or a time window of zero length.
    #[error("the sliding window is empty: it must hold at least one call or last some time")]
    ZeroWindow,
    /// A window with no bucket.
    #[error("the sliding window needs at least one bucket")]
    ZeroBuckets,
    /// More than [`MAX_BUCKETS`] buckets.
    #[error("the sliding window may have at most {max} buckets, not {buckets}")]
    TooManyBuckets {
        /// The number asked for.
        buckets: u32,
        /// [`MAX_BUCKETS`].
        max: u32,
    },
    /// A count window whose calls do not split evenly into its buckets.
    #[error("a count window of {calls} calls does not split into {buckets} equal buckets")]
    UnevenBuckets {
        /// The window's size.
        calls: u32,
        /// The number of buckets.
        buckets: u32,
    },
    /// A time window whose buckets would last less than [`MIN_BUCKET`].
    #[error("a time window of {length:?} in {buckets} buckets has buckets shorter than 1 ms")]
    BucketTooShort {
        /// The window's length.
        length: Duration,
        /// The number of buckets.
        buckets: u32,
    },
    /// A rate threshold that is not above 0% and at most 100% (or is not a number).
    #[error("{field} must be above 0 and at most 100 (percent), not {value}")]
    RateOutOfRange {
        /// Which threshold.
        field: RateField,
        /// The value given.
        value: f64,
    },
    /// `minimum_calls` of zero.
    #[error("minimum_calls must be at least 1")]
    ZeroMinimumCalls,
    /// More minimum calls than a count window can hold: the rates would never count.
    #[error("minimum_calls ({minimum}) is more than the {window} calls the window holds")]
    MinimumCallsAboveWindow {
        /// `minimum_calls`.
        minimum: u32,
        /// The count window's size.
        window: u32,
    },
    /// A slow-call duration of zero: every call would be slow.
    #[error("slow_call_duration must be longer than zero")]
    ZeroSlowCallDuration,
    /// A wait in Open of zero.
    #[error("the wait in Open must be longer than zero")]
    ZeroWait,
    /// A backoff multiplier below 1, infinite or not a number.
    #[error("the backoff multiplier must be a finite number of at least 1, not {0}")]
    BackoffMultiplier(f64),
    /// A backoff cap shorter than the first wait.
    #[error("the backoff cap ({max:?}) is shorter than its first wait ({initial:?})")]
    BackoffCapBelowInitial {
        /// The first wait.
        initial: Duration,
        /// The cap.
        max: Duration,
    },
    /// A jitter outside 0 to 1.
    #[error("the backoff jitter must be between 0 and 1, not {0}")]
    Jitter(f64),
    /// No probe permit in HalfOpen: the breaker could never close again.
    #[error("half_open_permits must be at least 1")]
    ZeroProbes,
    /// A maximum wait in HalfOpen of zero.
    #[error("max_half_open_wait must be longer than zero")]
    ZeroHalfOpenWait,
}

/// Raw breaker settings: every field public, builder methods, serde; see [`Settings::build`].
///
/// Missing fields take the defaults of [`Settings::default`]; unknown fields are an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// The sliding window. Default: a count window of 100 calls in 10 buckets.
    pub window: WindowConfig,
    /// The failure rate, in percent, at or above which the breaker trips. Default: 50.
    pub failure_rate_threshold: f64,
    /// A call at least this long is slow; `None` (the default) turns slow-call detection
    /// off, and with it the two clock readings per call that it costs.
    #[serde(rename = "slow_call_duration_ms", with = "opt_millis")]
    pub slow_call_duration: Option<Duration>,
    /// The slow-call rate, in percent, at or above which the breaker trips. Default: 100.
    pub slow_call_rate_threshold: f64,
    /// How many calls the window must hold before the rates count. Default: 20.
    pub minimum_calls: u32,
    /// The wait in Open. Default: a fixed 30 s.
    pub wait: WaitConfig,
    /// How many probes HalfOpen admits; all must succeed for it to close. Default: 5.
    pub half_open_permits: u32,
    /// How long HalfOpen may wait for its probes before it re-opens; `None` waits for
    /// ever. Default: 60 s.
    #[serde(rename = "max_half_open_wait_ms", with = "opt_millis")]
    pub max_half_open_wait: Option<Duration>,
    /// The seed of the jitter's generator; `None` lets the breaker pick one per instance.
    pub seed: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window: WindowConfig::Count {
                calls: 100,
                buckets: 10,
            },
            failure_rate_threshold: 50.0,
            slow_call_duration: None,
            slow_call_rate_threshold: 100.0,
            minimum_calls: 20,
            wait: WaitConfig::Fixed {
                wait: Duration::from_secs(30),
            },
            half_open_permits: 5,
            max_half_open_wait: Some(Duration::from_secs(60)),
            seed: None,
        }
    }
}

impl Settings {
    /// Uses a count window of the last `calls` calls, sliding by `buckets` buckets.
    pub fn count_window(mut self, calls: u32, buckets: u32) -> Self {
        self.window = WindowConfig::Count { calls, buckets };
        self
    }

    /// Uses a time window of the last `length`, sliding by `buckets` buckets.
    pub fn time_window(mut self, length: Duration, buckets: u32) -> Self {
        self.window = WindowConfig::Time { length, buckets };
        self
    }

    /// Sets the failure-rate threshold, in percent.
    pub fn failure_rate_threshold(mut self, percent: f64) -> Self {
        self.failure_rate_threshold = percent;
        self
    }

    /// Turns on slow-call detection: calls of at least `duration` are slow, and the
    /// breaker trips when `percent` of the window's calls are slow.
    pub fn slow_calls(mut self, duration: Duration, percent: f64) -> Self {
        self.slow_call_duration = Some(duration);
        self.slow_call_rate_threshold = percent;
        self
    }

    /// Sets how many calls the window must hold before the rates count.
    pub fn minimum_calls(mut self, calls: u32) -> Self {
        self.minimum_calls = calls;
        self
    }

    /// Waits `wait` in Open, every time.
    pub fn fixed_wait(mut self, wait: Duration) -> Self {
        self.wait = WaitConfig::Fixed { wait };
        self
    }

    /// Waits with exponential backoff in Open; see [`WaitConfig::Backoff`].
    pub fn backoff(
        mut self,
        initial: Duration,
        multiplier: f64,
        max: Duration,
        jitter: f64,
    ) -> Self {
        self.wait = WaitConfig::Backoff {
            initial,
            multiplier,
            max,
            jitter,
        };
        self
    }

    /// Sets how many probes HalfOpen admits.
    pub fn half_open_permits(mut self, permits: u32) -> Self {
        self.half_open_permits = permits;
        self
    }

    /// Sets how long HalfOpen may wait for its probes (`None`: for ever).
    pub fn max_half_open_wait(mut self, wait: Option<Duration>) -> Self {
        self.max_half_open_wait = wait;
        self
    }

    /// Seeds the jitter's generator, for reproducible waits.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Checks every value and returns the valid configuration.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found, checking the window, the thresholds, the wait and
    /// the half-open settings in that order.
    pub fn build(self) -> Result<Config, ConfigError> {
        let checked = check_window(&self.window)
            .and_then(|()| check_rates(&self))
            .and_then(|()| check_minimum_calls(&self))
            .and_then(|()| check_wait(&self.wait))
            .and_then(|()| check_half_open(&self));
        if let Err(error) = &checked {
            tracing::debug!(%error, "breaker settings rejected");
        }
        checked.map(|()| Config { settings: self })
    }
}

fn check_window(window: &WindowConfig) -> Result<(), ConfigError> {
    let buckets = match *window {
        WindowConfig::Count { calls, buckets } => {
            if calls == 0 {
                return Err(ConfigError::ZeroWindow);
            }
            if buckets != 0 && calls % buckets != 0 {
                return Err(ConfigError::UnevenBuckets { calls, buckets });
            }
            buckets
        }
        WindowConfig::Time { length, buckets } => {
            if length.is_zero() {
                return Err(ConfigError::ZeroWindow);
            }
            if buckets != 0 && length / buckets < MIN_BUCKET {
                return Err(ConfigError::BucketTooShort { length, buckets });
            }
            buckets
        }
    };
    match buckets {
        0 => Err(ConfigError::ZeroBuckets),
        b if b > MAX_BUCKETS => Err(ConfigError::TooManyBuckets {
            buckets: b,
            max: MAX_BUCKETS,
        }),
        _ => Ok(()),
    }
}

fn check_rate(field: RateField, value: f64) -> Result<(), ConfigError> {
    // Written so that NaN fails too: every comparison with NaN is false.
    if value > 0.0 && value <= 100.0 {
        Ok(())
    } else {
        Err(ConfigError::RateOutOfRange { field, value })
    }
}

fn check_rates(settings: &Settings) -> Result<(), ConfigError> {
    check_rate(RateField::FailureRate, settings.failure_rate_threshold)?;
    check_rate(RateField::SlowCallRate, settings.slow_call_rate_threshold)?;
    match settings.slow_call_duration {
        Some(duration) if duration.is_zero() => Err(ConfigError::ZeroSlowCallDuration),
        _ => Ok(()),
    }
}

fn check_minimum_calls(settings: &Settings) -> Result<(), ConfigError> {
    let minimum = settings.minimum_calls;
    if minimum == 0 {
        return Err(ConfigError::ZeroMinimumCalls);
    }
    match settings.window {
        WindowConfig::Count { calls, .. } if minimum > calls => {
            Err(ConfigError::MinimumCallsAboveWindow {
                minimum,
                window: calls,
            })
        }
        _ => Ok(()),
    }
}

fn check_wait(wait: &WaitConfig) -> Result<(), ConfigError> {
    match *wait {
        WaitConfig::Fixed { wait } if wait.is_zero() => Err(ConfigError::ZeroWait),
        WaitConfig::Fixed { .. } => Ok(()),
        WaitConfig::Backoff {
            initial,
            multiplier,
            max,
            jitter,
        } => {
            if initial.is_zero() {
                return Err(ConfigError::ZeroWait);
            }
            if !(multiplier.is_finite() && multiplier >= 1.0) {
                return Err(ConfigError::BackoffMultiplier(multiplier));
            }
            if max < initial {
                return Err(ConfigError::BackoffCapBelowInitial { initial, max });
            }
            if !(0.0..=1.0).contains(&jitter) {
                return Err(ConfigError::Jitter(jitter));
            }
            Ok(())
        }
    }
}

fn check_half_open(settings: &Settings) -> Result<(), ConfigError> {
    if settings.half_open_permits == 0 {
        return Err(ConfigError::ZeroProbes);
    }
    match settings.max_half_open_wait {
        Some(wait) if wait.is_zero() => Err(ConfigError::ZeroHalfOpenWait),
        _ => Ok(()),
    }
}

/// A valid breaker configuration, made by [`Settings::build`].
///
/// It serializes as its [`Settings`] and deserializes through [`Settings::build`], so a
/// configuration file with a bad value fails to load.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Settings", into = "Settings")]
pub struct Config {
    settings: Settings,
}

impl Config {
    /// Default settings to adjust and [`build`](Settings::build).
    pub fn builder() -> Settings {
        Settings::default()
    }

    /// The settings this configuration was built from.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The sliding window.
    pub fn window(&self) -> WindowConfig {
        self.settings.window
    }

    /// The wait in Open.
    pub fn wait(&self) -> WaitConfig {
        self.settings.wait
    }

    /// The slow-call duration, if slow-call detection is on.
    pub fn slow_call_duration(&self) -> Option<Duration> {
        self.settings.slow_call_duration
    }

    /// How many probes HalfOpen admits.
    pub fn half_open_permits(&self) -> u32 {
        self.settings.half_open_permits
    }

    /// How long HalfOpen may wait for its probes.
    pub fn max_half_open_wait(&self) -> Option<Duration> {
        self.settings.max_half_open_wait
    }

    /// How many calls the window must hold before the rates count.
    pub fn minimum_calls(&self) -> u32 {
        self.settings.minimum_calls
    }

    /// The failure-rate threshold in hundredths of a percent (basis points), which is how
    /// the engine compares it: with integers, so a boundary case never depends on
    /// floating-point rounding.
    pub fn failure_threshold_bp(&self) -> u64 {
        basis_points(self.settings.failure_rate_threshold)
    }

    /// The slow-call-rate threshold in basis points.
    pub fn slow_threshold_bp(&self) -> u64 {
        basis_points(self.settings.slow_call_rate_threshold)
    }

    /// Whether a call that took `elapsed` counts as slow.
    #[inline]
    pub fn is_slow(&self, elapsed: Duration) -> bool {
        self.settings
            .slow_call_duration
            .is_some_and(|limit| elapsed >= limit)
    }
}

impl TryFrom<Settings> for Config {
    type Error = ConfigError;

    fn try_from(settings: Settings) -> Result<Self, ConfigError> {
        settings.build()
    }
}

impl From<Config> for Settings {
    fn from(config: Config) -> Settings {
        config.settings
    }
}

/// A validated percentage (0, 100] in basis points, 1 to 10 000.
fn basis_points(percent: f64) -> u64 {
    // The cast saturates and the value is already checked to be in range.
    (percent * 100.0).round().clamp(1.0, 10_000.0) as u64
}

/// Durations as whole milliseconds.
mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Duration, out: S) -> Result<S::Ok, S::Error> {
        out.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Duration, D::Error> {
        u64::deserialize(input).map(Duration::from_millis)
    }
}

/// Optional durations as whole milliseconds, `null` for none.
mod opt_millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(
        value: &Option<Duration>,
        out: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(duration) => super::millis::serialize(duration, out),
            None => out.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        input: D,
    ) -> Result<Option<Duration>, D::Error> {
        Option::<u64>::deserialize(input).map(|ms| ms.map(Duration::from_millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_are_valid() {
        assert_eq!(Settings::default().build(), Ok(Config::default()));
    }

    #[test]
    fn thresholds_become_basis_points() {
        let config = Config::builder()
            .failure_rate_threshold(33.335)
            .build()
            .unwrap();
        assert_eq!(config.failure_threshold_bp(), 3334);
        assert_eq!(config.slow_threshold_bp(), 10_000);
    }
}
