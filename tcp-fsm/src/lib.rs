//! A userspace TCP (RFC 9293) whose connection states are typestates.
//!
//! This crate is a placeholder in this release. It will hold the eleven RFC 9293
//! connection states declared with [`fsm_core::machine!`], a sans-I/O connection engine
//! (segments and user calls in, segments out, time passed in explicitly), and TUN,
//! raw-socket and in-memory drivers that interoperate with the Linux kernel's TCP.
//! Nothing in it is usable yet.
