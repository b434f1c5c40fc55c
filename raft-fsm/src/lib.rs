//! Raft consensus whose roles (Follower, Candidate, Leader) are typestates.
//!
//! This crate is a placeholder in this release. It will hold the roles declared with
//! [`fsm_core::machine!`], a tick-driven sans-I/O node with log replication, storage
//! behind a trait, an in-memory transport and a deterministic, seeded cluster simulator
//! that checks the safety properties of the Raft paper after every step.
//! Nothing in it is usable yet.
