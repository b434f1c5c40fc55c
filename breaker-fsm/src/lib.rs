//! A circuit breaker whose Open state cannot make a call.
//!
//! Put a [`CircuitBreaker`] in front of a dependency that may fail. While the dependency
//! is healthy the breaker is **Closed** and calls go through; when too many of them fail
//! (or are too slow) it trips **Open** and rejects calls at once, without touching the
//! dependency, for a while; then it goes **HalfOpen** and lets a few probe calls through,
//! which close it again if they all succeed or re-open it if one fails.
//!
//! ```
//! use std::time::Duration;
//! use breaker_fsm::{CallError, CircuitBreaker, Rejection};
//! use breaker_fsm::breaker::StateId;
//! use breaker_fsm::clock::ManualClock;
//! use breaker_fsm::config::Config;
//!
//! let config = Config::builder()
//!     .count_window(10, 5)          // the last 10 calls, sliding 2 at a time
//!     .failure_rate_threshold(50.0) // trip at 50% failures...
//!     .minimum_calls(4)             // ...once at least 4 calls are in the window
//!     .fixed_wait(Duration::from_secs(30))
//!     .half_open_permits(1)
//!     .build()?;
//! let clock = ManualClock::new();
//! let breaker = CircuitBreaker::builder(config).clock(clock.clone()).build();
//!
//! let flaky = |fail: bool| if fail { Err("timeout") } else { Ok("pong") };
//! for fail in [false, true, false, true] {
//!     let _ = breaker.call(|| flaky(fail));
//! }
//! assert_eq!(breaker.state(), StateId::Open);
//!
//! // Open: the call is not made, and the error says when the breaker will probe.
//! let refused = breaker.call(|| flaky(false)).unwrap_err();
//! assert!(matches!(
//!     refused,
//!     CallError::Rejected(Rejection::Open { retry_after, .. }) if retry_after == Duration::from_secs(30)
//! ));
//!
//! // After the wait, one successful probe closes it again.
//! clock.advance(Duration::from_secs(30));
//! assert_eq!(breaker.call(|| flaky(false)).unwrap(), "pong");
//! assert_eq!(breaker.state(), StateId::Closed);
//! # Ok::<(), breaker_fsm::config::ConfigError>(())
//! ```
//!
//! # The states
//!
//! The states and their legal moves are declared once with [`fsm_core::machine!`], in
//! [`machine`]; each state is a type, and the compiler enforces the rules that matter
//! most: a call can only be admitted in a state with the `call` capability (Closed, a
//! HalfOpen probe permit, and the manual Disabled and MetricsOnly), and there is no move
//! from Open to Closed — an open breaker closes only after its probes succeed. Code that
//! tries either does not compile, and the error names the moves that are legal instead.
//! The diagram, generated from that declaration (a test keeps this copy equal to
//! `breaker::Spec::MERMAID`):
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> Closed
//!     Closed --> Open: trip
//!     Open --> HalfOpen: probe
//!     HalfOpen --> Closed: close
//!     HalfOpen --> Open: reopen
//!     Closed --> Disabled: disable
//!     Open --> Disabled: disable
//!     HalfOpen --> Disabled: disable
//!     ForcedOpen --> Disabled: disable
//!     MetricsOnly --> Disabled: disable
//!     Closed --> ForcedOpen: force_open
//!     Open --> ForcedOpen: force_open
//!     HalfOpen --> ForcedOpen: force_open
//!     Disabled --> ForcedOpen: force_open
//!     MetricsOnly --> ForcedOpen: force_open
//!     Closed --> MetricsOnly: metrics_only
//!     Open --> MetricsOnly: metrics_only
//!     HalfOpen --> MetricsOnly: metrics_only
//!     Disabled --> MetricsOnly: metrics_only
//!     ForcedOpen --> MetricsOnly: metrics_only
//!     Closed --> Closed: reset
//!     HalfOpen --> Closed: reset
//!     Disabled --> Closed: reset
//!     ForcedOpen --> Closed: reset
//!     MetricsOnly --> Closed: reset
//! ```
//!
//! # Layers
//!
//! - [`machine`]: the typestate declaration ([`Breaker`] and its states).
//! - [`engine`]: the policy, sans I/O — times and outcomes in, permits and transitions
//!   out — built on [`window`] (sliding windows in buckets) and [`backoff`] (Open waits).
//! - [`CircuitBreaker`]: the thread-safe front end, with a lock-free Closed path.
//! - [`config`] (settings, serde, typed errors), [`clock`] (monotonic, injectable),
//!   [`classify`] (error predicates), [`listener`] and [`metrics`].
//!
//! # Known limits
//!
//! - A time-based window reads the clock once per call, and slow-call detection twice;
//!   with a count window and no slow-call detection a Closed call reads no clock at all.
//! - A success never trips the breaker: the rates are evaluated after each failed or
//!   slow call only.
//! - With several threads, the few failed calls that land in other threads' counters
//!   while one thread is flushing are placed at the end of that batch in a count window,
//!   not at their exact position.
//! - Outcomes are tagged with their generation modulo 2^16 in the lock-free counters: a
//!   call that stays in flight across exactly a multiple of 65 536 state changes would
//!   be counted in the wrong generation.
//! - Listeners may see two transitions made at nearly the same moment on two threads in
//!   either order; each carries its sequence number.
//! - [`CircuitBreaker::reset`] of an Open breaker does not close it: no edge leads from
//!   Open to Closed, so the reset ends the wait and the next calls are probes.
//! - Reading [`metrics`](CircuitBreaker::metrics) does not move a time window forward:
//!   its window figures are those of the latest recorded call.
//!
//! The user guide, with the policy table and the concurrency design, is
//! `docs/breaker.md` in the repository; `examples/flaky_service.rs` shows the breaker in
//! front of a simulated flaky service.

#![deny(missing_docs)]

pub mod backoff;
mod circuit;
pub mod classify;
pub mod clock;
pub mod config;
pub mod engine;
pub mod error;
pub mod listener;
pub mod machine;
pub mod metrics;
mod stripes;
pub mod window;

pub use circuit::{Builder, CallPermit, CircuitBreaker};
pub use engine::Outcome;
pub use error::{CallError, Rejection};
pub use machine::{Breaker, breaker};
