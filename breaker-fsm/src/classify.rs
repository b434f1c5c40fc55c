//! Error predicates: which errors count as failures, which as successes, which not at all.
//!
//! The breaker asks only about errors; an `Ok` is always a success. An error that says
//! nothing about the dependency's health (a validation error of the caller's own input,
//! say) should be [`Outcome::Ignored`]: it is returned to the caller unchanged and leaves
//! the rates alone, and in HalfOpen its probe permit goes to the next caller.

use crate::engine::Outcome;

/// Decides what an error means to the breaker.
///
/// Implemented for every `Fn(&E) -> Outcome`:
///
/// ```
/// use breaker_fsm::{CircuitBreaker, Outcome};
/// use breaker_fsm::config::Config;
///
/// #[derive(Debug)]
/// enum ApiError { BadRequest, Unavailable }
///
/// let classify = |error: &ApiError| match error {
///     ApiError::BadRequest => Outcome::Ignored,
///     ApiError::Unavailable => Outcome::Failure,
/// };
/// let breaker = CircuitBreaker::new(Config::default());
/// let result = breaker.call_with(&classify, || Err::<(), _>(ApiError::BadRequest));
/// assert!(matches!(result.unwrap_err().into_inner(), Some(ApiError::BadRequest)));
/// assert_eq!(breaker.metrics().lifetime.ignored, 1);
/// ```
pub trait Classify<E: ?Sized> {
    /// What `error` means: a failure, a success, or nothing to record.
    fn classify(&self, error: &E) -> Outcome;
}

impl<E: ?Sized, F: Fn(&E) -> Outcome> Classify<E> for F {
    #[inline]
    fn classify(&self, error: &E) -> Outcome {
        self(error)
    }
}

/// The default predicate: every error is a failure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct EveryError;

impl<E: ?Sized> Classify<E> for EveryError {
    #[inline]
    fn classify(&self, _: &E) -> Outcome {
        Outcome::Failure
    }
}

/// The outcome of `result` under `classify`.
#[inline]
pub(crate) fn outcome_of<T, E, P: Classify<E> + ?Sized>(
    classify: &P,
    result: &Result<T, E>,
) -> Outcome {
    match result {
        Ok(_) => Outcome::Success,
        Err(error) => classify.classify(error),
    }
}
