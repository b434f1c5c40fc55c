//! A circuit breaker (Closed, Open, HalfOpen) whose Open state cannot make a call.
//!
//! This crate is a placeholder in this release. It will hold the breaker states declared
//! with [`fsm_core::machine!`], a sans-I/O policy engine (sliding windows, thresholds,
//! backoff) and a thread-safe run-time `CircuitBreaker` around it.
//! Nothing in it is usable yet.
