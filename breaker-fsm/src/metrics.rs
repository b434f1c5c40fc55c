//! A snapshot of a breaker's counts, rates, state and recent transitions.

use std::time::Duration;

use crate::breaker::StateId;
use crate::engine::{Lifetime, Probes, Transition};
use crate::window::Counts;

/// What [`CircuitBreaker::metrics`](crate::CircuitBreaker::metrics) reports.
///
/// The window figures are those of the latest recorded call: reading metrics does not
/// move a time window forward, and never changes the breaker's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// The current state.
    pub state: StateId,
    /// The current generation: how many transitions the breaker has made.
    pub generation: u64,
    /// The outcomes in the sliding window.
    pub window: Counts,
    /// The window's failure rate in percent; `None` below `minimum_calls`.
    pub failure_rate: Option<f64>,
    /// The window's slow-call rate in percent; `None` below `minimum_calls`.
    pub slow_call_rate: Option<f64>,
    /// Whether a rate is at or above its threshold (in MetricsOnly: whether Closed would
    /// have tripped).
    pub over_threshold: bool,
    /// Counters over the breaker's life.
    pub lifetime: Lifetime,
    /// When an Open breaker lets its first probe through, as a clock reading.
    pub next_probe_at: Option<Duration>,
    /// The probes, while half-open.
    pub probes: Option<Probes>,
    /// The latest transitions, oldest first, from the framework's breadcrumbs.
    pub transitions: Vec<Transition>,
}
