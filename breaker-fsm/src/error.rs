//! What a caller gets back instead of its call's result: a rejection, or its own error.
//!
//! A rejection is a value, not a panic: returning it costs about as much as a successful
//! call, which matters when a breaker sheds the load of a failing dependency.

use std::time::Duration;

/// Why the breaker refused to let a call through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Rejection {
    /// The breaker is open; probes may go through from `next_probe_at` on.
    #[error("circuit breaker is open; it lets a probe through in {retry_after:?}")]
    Open {
        /// When the wait ends, as a reading of the breaker's clock.
        next_probe_at: Duration,
        /// How long from the moment of the rejection until then.
        retry_after: Duration,
    },
    /// The breaker is half-open and every probe permit is taken.
    #[error("circuit breaker is half-open and all {permits} probe permits are taken")]
    ProbesBusy {
        /// How many probes HalfOpen admits.
        permits: u32,
    },
    /// An operator forced the breaker open.
    #[error("circuit breaker is forced open")]
    ForcedOpen,
}

impl Rejection {
    /// How long to wait before trying again, when the breaker knows.
    pub fn retry_after(&self) -> Option<Duration> {
        match *self {
            Rejection::Open { retry_after, .. } => Some(retry_after),
            Rejection::ProbesBusy { .. } | Rejection::ForcedOpen => None,
        }
    }
}

/// The error of a protected call: the breaker refused it, or it ran and failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError<E> {
    /// The breaker did not run the call.
    #[error(transparent)]
    Rejected(Rejection),
    /// The call ran and returned this error, unchanged.
    #[error(transparent)]
    Inner(E),
}

impl<E> CallError<E> {
    /// The call's own error, if it ran.
    pub fn into_inner(self) -> Option<E> {
        match self {
            CallError::Inner(error) => Some(error),
            CallError::Rejected(_) => None,
        }
    }

    /// The rejection, if the breaker refused the call.
    pub fn rejection(&self) -> Option<&Rejection> {
        match self {
            CallError::Rejected(rejection) => Some(rejection),
            CallError::Inner(_) => None,
        }
    }

    /// Whether the breaker refused the call.
    pub fn is_rejected(&self) -> bool {
        matches!(self, CallError::Rejected(_))
    }
}

impl<E> From<Rejection> for CallError<E> {
    fn from(rejection: Rejection) -> Self {
        CallError::Rejected(rejection)
    }
}
