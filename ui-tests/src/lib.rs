//! Example machines for the compile-fail cases of `fsm_core::machine!`.
//!
//! The cases in `tests/ui` (each must fail to compile, with the error kept beside it in a
//! `.stderr` file) and `tests/pass` (each must compile) use the machines declared here, so
//! that every case can stay a few lines long and break exactly one rule. The machines are
//! small and model familiar things, so that their errors read as sentences about them:
//!
//! - [`Door`]: cannot open while locked, cannot be locked while open, and stays demolished;
//! - [`Connection`]: a TCP-style connection that cannot send before its handshake is done,
//!   cannot skip the handshake, and must pass through `Closed` before it connects again;
//! - [`Role`]: a Raft server's role, where a follower cannot become leader without first
//!   standing (and winning) as a candidate;
//! - [`Payment`]: a machine whose moves are `pub(crate)`, so that other crates can move it
//!   only through the checked methods written here.
//!
//! Next to each machine are consuming methods written with the `transition` primitive:
//! that is how a method takes a payload, checks a guard or updates the context on the way.
//!
//! The page `docs/compile-fail.md` lists every case with its error; `tests/docs.rs`
//! renders it from the case files.

use fsm_core::{Recorder, machine};

machine! {
    /// A door that can be locked with a code, and finally demolished.
    ///
    /// The context counts the knocks the door has heard.
    pub Door {
        context: u32,
        initial: Closed,
        final: Gone,
        states: {
            /// Open: it can be closed, or demolished.
            Open,
            /// Closed: it can be opened, locked or demolished.
            Closed,
            /// Locked with a code: it must be unlocked before anything else happens.
            Locked { code: u16 },
            /// Demolished: nothing leaves this state.
            Gone,
        },
        edges: {
            Closed + open => Open,
            Open + close => Closed,
            Closed + lock => Locked,
            Locked + unlock => Closed,
            Open | Closed + demolish => Gone,
        },
        capabilities: {
            /// Knocking makes sense only on a shut door.
            knock: [Closed, Locked],
        },
    }
}

impl<H: Recorder<door::Spec>> Door<door::Closed, H> {
    /// Locks the door with `code`: the generated `lock` takes the whole state value, this
    /// takes the payload and builds the state with `transition`.
    pub fn lock_with(self, code: u16) -> Door<door::Locked, H> {
        self.transition(door::event::lock, door::Locked { code })
    }
}

impl<H: Recorder<door::Spec>> Door<door::Locked, H> {
    /// Unlocks the door if `code` is right; otherwise hands it back, still locked.
    ///
    /// # Errors
    ///
    /// The locked door, unchanged, when `code` is wrong.
    pub fn unlock_with(self, code: u16) -> Result<Door<door::Closed, H>, Self> {
        if self.state().code == code {
            Ok(self.transition(door::event::unlock, door::Closed))
        } else {
            Err(self)
        }
    }
}

impl<S: door::DoorState, H> Door<S, H> {
    /// Knocks on the door, which must be shut ([`door::cap::CanKnock`]); returns how many
    /// knocks it has heard so far.
    ///
    /// The capability is a bound on the method rather than on the `impl`, so that a call
    /// in a state without it is reported with the capability's own message.
    pub fn knock(&mut self) -> u32
    where
        S: door::cap::CanKnock,
    {
        *self.context_mut() += 1;
        *self.context()
    }
}

machine! {
    /// A TCP-style connection, cut down to an active open and an active close.
    ///
    /// The context counts the bytes sent.
    pub Connection {
        context: u64,
        initial: Closed,
        states: {
            /// No connection.
            Closed,
            /// A SYN went out with the initial send sequence number `iss`; waiting for the
            /// peer's SYN-ACK.
            SynSent { iss: u32 },
            /// The handshake is done: data may flow.
            Established,
            /// Our FIN went out; waiting for the peer to acknowledge it.
            FinWait,
        },
        edges: {
            Closed + connect => SynSent,
            SynSent + syn_ack => Established,
            SynSent + timeout => Closed,
            Established + close => FinWait,
            FinWait + fin_ack => Closed,
        },
        capabilities: {
            /// Data goes out only on an established connection.
            send: [Established],
        },
    }
}

impl<H: Recorder<connection::Spec>> Connection<connection::Closed, H> {
    /// Starts the handshake with the initial sequence number `iss`.
    pub fn dial(self, iss: u32) -> Connection<connection::SynSent, H> {
        self.transition(connection::event::connect, connection::SynSent { iss })
    }
}

impl<S: connection::ConnectionState, H> Connection<S, H> {
    /// Sends `bytes` ([`connection::cap::CanSend`]: only when established); returns how
    /// many were taken.
    pub fn send(&mut self, bytes: &[u8]) -> usize
    where
        S: connection::cap::CanSend,
    {
        *self.context_mut() += bytes.len() as u64;
        bytes.len()
    }
}

machine! {
    /// The role of a Raft server.
    ///
    /// The context is the server's current term.
    pub Role {
        context: u64,
        initial: Follower,
        states: {
            /// Follows the leader of the current term.
            Follower,
            /// Stands for election, with the votes it has so far.
            Candidate { votes: u32 },
            /// Leads the cluster for the current term.
            Leader,
        },
        edges: {
            Follower | Candidate + election_timeout => Candidate,
            Candidate + win_election => Leader,
            Candidate | Leader + discover_higher_term => Follower,
        },
    }
}

impl<H: Recorder<role::Spec>> Role<role::Follower, H> {
    /// Starts an election: a new term, and the candidate's vote for itself.
    pub fn start_election(self) -> Role<role::Candidate, H> {
        self.transition_with(role::event::election_timeout, |_, term| {
            *term += 1;
            role::Candidate { votes: 1 }
        })
    }
}

impl<H: Recorder<role::Spec>> Role<role::Candidate, H> {
    /// Counts a vote granted by another server.
    pub fn receive_vote(&mut self) {
        self.state_mut().votes += 1;
    }

    /// Becomes leader if the votes are a majority of `cluster_size`; otherwise stays a
    /// candidate.
    ///
    /// # Errors
    ///
    /// The candidate, unchanged, without a majority.
    pub fn try_lead(self, cluster_size: u32) -> Result<Role<role::Leader, H>, Self> {
        if self.state().votes > cluster_size / 2 {
            Ok(self.transition(role::event::win_election, role::Leader))
        } else {
            Err(self)
        }
    }
}

machine! {
    /// A card payment, checked against the card's limit (the context).
    ///
    /// Its moves are `pub(crate)`: other crates authorize, capture and void it through the
    /// checked methods below, never straight along an edge.
    pub Payment {
        context: u64,
        initial: Pending,
        final: Captured | Voided,
        transitions: pub(crate),
        states: {
            /// Not yet authorized.
            Pending,
            /// Authorized for `amount`.
            Authorized { amount: u64 },
            /// The money was taken.
            Captured,
            /// Cancelled before capture.
            Voided,
        },
        edges: {
            Pending + authorize => Authorized,
            Authorized + capture => Captured,
            Pending | Authorized + void => Voided,
        },
    }
}

impl<H: Recorder<payment::Spec>> Payment<payment::Pending, H> {
    /// Authorizes `amount` if it is positive and within the card's limit.
    ///
    /// # Errors
    ///
    /// The pending payment, unchanged, when `amount` is zero or over the limit.
    pub fn authorize_amount(self, amount: u64) -> Result<Payment<payment::Authorized, H>, Self> {
        if amount == 0 || amount > *self.context() {
            return Err(self);
        }
        Ok(self.transition(payment::event::authorize, payment::Authorized { amount }))
    }
}

impl<H: Recorder<payment::Spec>> Payment<payment::Authorized, H> {
    /// Takes the authorized amount; returns the captured payment and the amount.
    pub fn settle(self) -> (Payment<payment::Captured, H>, u64) {
        let amount = self.state().amount;
        (self.capture(), amount)
    }
}

impl<S, H> Payment<S, H>
where
    S: payment::PaymentState,
    S: payment::Edge<
            payment::event::void,
            <S as payment::PaymentState>::Moves,
            To = payment::Voided,
        >,
    H: Recorder<payment::Spec>,
{
    /// Cancels the payment, from any state that may be voided.
    pub fn cancel(self) -> Payment<payment::Voided, H> {
        self.void()
    }
}
