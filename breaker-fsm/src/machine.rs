//! The typestate layer: the breaker's states and legal moves, declared once with `machine!`.
//!
//! Everything else in the crate is written against these types. The compiler, not a code
//! review, keeps the policy honest: a call can only be admitted where the `call`
//! capability holds (Closed, a HalfOpen probe permit, and the manual Disabled and
//! MetricsOnly states), and no edge leads from `Open` to `Closed` — an open breaker closes
//! only after its probes succeed.

use core::time::Duration;

use fsm_core::Recorder;

fsm_core::machine! {
    /// A circuit breaker's state machine.
    ///
    /// Times in the states are readings of the breaker's [`Clock`](crate::clock::Clock):
    /// durations since the clock's own origin, never wall-clock time.
    pub Breaker {
        initial: Closed,
        states: {
            /// Calls go through, and their outcomes fill the sliding window.
            Closed,
            /// Calls are rejected until `until`; then probes may go through.
            Open {
                /// When the wait ends and the first probe may go through.
                until: Duration,
                /// How many times in a row the breaker has opened (1 for a trip from
                /// Closed); the backoff grows with it.
                attempt: u32,
            },
            /// At most `permits` probe calls go through; their outcomes decide.
            HalfOpen {
                /// When the breaker entered this state (for the maximum wait).
                since: Duration,
                /// The attempt of the `Open` state this one follows.
                attempt: u32,
                /// How many probes may be out or have succeeded at once.
                permits: u32,
                /// Probes handed out and not returned: out now, or succeeded.
                issued: u32,
                /// Probes that reported success.
                succeeded: u32,
            },
            /// Manual: every call goes through, and nothing is recorded.
            Disabled,
            /// Manual: every call is rejected.
            ForcedOpen,
            /// Manual: every call goes through and is recorded, but the breaker never
            /// changes state on its own.
            MetricsOnly,
        },
        edges: {
            /// The failure rate or the slow-call rate reached its threshold.
            Closed + trip => Open,
            /// The wait is over (or an operator reset the breaker): probes may go through.
            Open + probe => HalfOpen,
            /// Every permitted probe succeeded.
            HalfOpen + close => Closed,
            /// A probe failed or was slow, or the half-open state outlived its maximum wait.
            HalfOpen + reopen => Open,
            /// An operator switched the breaker off.
            Closed | Open | HalfOpen | ForcedOpen | MetricsOnly + disable => Disabled,
            /// An operator forced the breaker open.
            Closed | Open | HalfOpen | Disabled | MetricsOnly + force_open => ForcedOpen,
            /// An operator asked for metrics only.
            Closed | Open | HalfOpen | Disabled | ForcedOpen + metrics_only => MetricsOnly,
            /// An operator reset the breaker. Not from `Open`: an open breaker must probe.
            Closed | HalfOpen | Disabled | ForcedOpen | MetricsOnly + reset => Closed,
        },
        capabilities: {
            /// The states in which a protected call may be admitted.
            call: [Closed, HalfOpen, Disabled, MetricsOnly],
        },
    }
}

use breaker::{BreakerState, Closed, Disabled, ForcedOpen, HalfOpen, MetricsOnly, Open};

/// What kind of call a state admitted, which decides how its outcome is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// A call in `Closed` or `MetricsOnly`: its outcome goes into the sliding window.
    Counted,
    /// A probe in `HalfOpen`: it holds one of the state's permits until it reports.
    Probe,
    /// A call in `Disabled`: nothing is recorded.
    Unrecorded,
}

/// How each state admits a call. Implemented for every state so that the only bound a
/// caller of [`Breaker::admit`] can miss is the `call` capability, whose error names the
/// states that allow it.
pub trait Admission {
    /// Admits one call, or `None` when the state has no room for it now.
    #[doc(hidden)]
    fn admit_in(&mut self) -> Option<CallKind>;
}

impl Admission for Closed {
    fn admit_in(&mut self) -> Option<CallKind> {
        Some(CallKind::Counted)
    }
}

impl Admission for MetricsOnly {
    fn admit_in(&mut self) -> Option<CallKind> {
        Some(CallKind::Counted)
    }
}

impl Admission for Disabled {
    fn admit_in(&mut self) -> Option<CallKind> {
        Some(CallKind::Unrecorded)
    }
}

impl Admission for HalfOpen {
    /// A permit is free while fewer than `permits` probes are out or have succeeded: the
    /// state admits exactly `permits` successful probes before it closes.
    fn admit_in(&mut self) -> Option<CallKind> {
        if self.issued >= self.permits {
            return None;
        }
        self.issued += 1;
        Some(CallKind::Probe)
    }
}

// `admit` is bounded by `cap::CanCall`, so these two are never reached; they exist only so
// that `Admission` holds for every state and the capability error is the one reported.
impl Admission for Open {
    fn admit_in(&mut self) -> Option<CallKind> {
        None
    }
}

impl Admission for ForcedOpen {
    fn admit_in(&mut self) -> Option<CallKind> {
        None
    }
}

/// The states in which a protected call may be admitted: exactly those with the `call`
/// capability of the declaration (the supertrait makes any other impl fail to compile).
///
/// It exists for its compile error. A bound on the generated `CanCall` alone would say
/// where a call is allowed; this one also names the moves that are legal from the two
/// states without it, so that code holding an open breaker learns what it can do instead.
/// `the_call_error_names_the_legal_moves` keeps that note equal to the declaration.
#[diagnostic::on_unimplemented(
    message = "an open breaker cannot make a call: `{Self}` has no `call` capability",
    label = "no call can go through `{Self}`",
    note = "a call is admitted in `Closed`, `HalfOpen` (one per probe permit), `Disabled` and `MetricsOnly`",
    note = "legal moves from `Open`: (probe, disable, force_open, metrics_only); from `ForcedOpen`: (disable, metrics_only, reset)"
)]
pub trait CallAllowed: breaker::cap::CanCall + Admission {}

impl CallAllowed for Closed {}
impl CallAllowed for HalfOpen {}
impl CallAllowed for Disabled {}
impl CallAllowed for MetricsOnly {}

impl<S: BreakerState + Admission, H: Recorder<breaker::Spec>> Breaker<S, H> {
    /// Admits one protected call, if the state has room for it.
    ///
    /// Exists only in the states with the `call` capability: `Closed`, `HalfOpen`,
    /// `Disabled` and `MetricsOnly`. In `HalfOpen` it takes one probe permit and returns
    /// `None` once all are taken. `Open` and `ForcedOpen` have no such method, so code
    /// that handles an open breaker cannot let a call through by mistake.
    pub fn admit(&mut self) -> Option<CallKind>
    where
        S: CallAllowed,
    {
        self.state_mut().admit_in()
    }
}

impl HalfOpen {
    /// The first half-open state after an `Open` wait of the given `attempt`.
    pub fn after(attempt: u32, since: Duration, permits: u32) -> Self {
        HalfOpen {
            since,
            attempt,
            permits,
            issued: 0,
            succeeded: 0,
        }
    }

    /// Gives back a permit whose probe will never report (ignored, panicked, dropped).
    pub fn return_permit(&mut self) {
        self.issued = self.issued.saturating_sub(1).max(self.succeeded);
    }

    /// Records a successful probe; true once every permit has succeeded.
    pub fn record_success(&mut self) -> bool {
        self.succeeded = (self.succeeded + 1).min(self.issued);
        self.succeeded >= self.permits
    }
}

#[cfg(test)]
mod tests {
    use super::breaker::{self, Closed, HalfOpen, Open};
    use super::*;
    use fsm_core::Machine;

    fn open() -> Breaker<Open> {
        Breaker::new((), Closed).trip(Open {
            until: Duration::from_secs(1),
            attempt: 1,
        })
    }

    #[test]
    fn closed_admits_counted_calls() {
        let mut closed = Breaker::new((), Closed);
        assert_eq!(closed.admit(), Some(CallKind::Counted));
    }

    #[test]
    fn half_open_admits_exactly_its_permits() {
        let mut half = open().probe(HalfOpen::after(1, Duration::from_secs(1), 2));
        assert_eq!(half.admit(), Some(CallKind::Probe));
        assert_eq!(half.admit(), Some(CallKind::Probe));
        assert_eq!(half.admit(), None);
        half.state_mut().return_permit();
        assert_eq!(half.admit(), Some(CallKind::Probe));
    }

    #[test]
    fn half_open_closes_after_every_permit_succeeds() {
        let mut half = open().probe(HalfOpen::after(1, Duration::ZERO, 2));
        half.admit();
        half.admit();
        assert!(!half.state_mut().record_success());
        assert!(half.state_mut().record_success());
        assert_eq!(half.close().state_id(), breaker::StateId::Closed);
    }

    /// The moves legal from `state`, as the compiler prints them: `(a, b, c)`.
    fn moves_from(state: breaker::StateId) -> String {
        use fsm_core::Id;
        let table = breaker::Spec::TABLE;
        let events: Vec<&str> = table
            .edges_from(state.index())
            .map(|edge| table.events[edge.event])
            .collect();
        format!("({})", events.join(", "))
    }

    #[test]
    fn the_call_error_names_the_legal_moves() {
        let source = include_str!("machine.rs");
        let expected = format!(
            "legal moves from `Open`: {}; from `ForcedOpen`: {}",
            moves_from(breaker::StateId::Open),
            moves_from(breaker::StateId::ForcedOpen)
        );
        assert!(
            source.contains(&expected),
            "update the note on `CallAllowed` to: {expected}"
        );
    }

    #[test]
    fn no_edge_leads_from_open_to_closed() {
        use fsm_core::Id;
        let table = breaker::Spec::TABLE;
        let open = breaker::StateId::Open.index();
        let closed = breaker::StateId::Closed.index();
        assert!(table.edges_from(open).all(|edge| edge.to != closed));
    }
}
