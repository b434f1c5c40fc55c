//! State-change listeners: told of every transition, after the breaker's lock is released.
//!
//! A listener runs on the thread whose call or control caused the change, so it may call
//! back into the breaker. Two changes made at nearly the same moment on two threads may
//! reach listeners in either order; each [`Transition`] carries its sequence number.

use crate::engine::Transition;

/// Something told of every state change of a breaker.
///
/// Implemented for every `Fn(&Transition) + Send + Sync`.
pub trait Listener: Send + Sync {
    /// Called once per transition.
    fn on_transition(&self, transition: &Transition);
}

impl<F: Fn(&Transition) + Send + Sync> Listener for F {
    fn on_transition(&self, transition: &Transition) {
        self(transition)
    }
}
