//! The roles of a Raft server as typestates: Follower, Candidate and Leader (Raft §5.1).
//!
//! The declaration below is the whole role graph. Its moves are crate-private; the public
//! `become_*` methods are the only way along an edge, each bounded by the framework's edge
//! trait (so an illegal move fails to compile and the error lists the legal ones) and each
//! doing what the paper asks of that move: a new term and a vote for itself when standing
//! for election, a [`Quorum`] when taking the lead.

use std::sync::Arc;

use fsm_core::Recorder;

use crate::election::{Quorum, VoteTally};
use crate::log::RaftLog;
use crate::message::{Entry, EntryKind, NodeId};
use crate::progress::ProgressSet;
use crate::storage::HardState;

fsm_core::machine! {
    /// The role of a Raft server, with its [`Core`] (term, vote, log) in every role.
    pub Role {
        context: Core,
        initial: Follower,
        transitions: pub(crate),
        states: {
            /// Follows the leader of the current term, or waits for one to appear.
            Follower,
            /// Stands for election in the current term, counting the votes it receives.
            Candidate { pub(crate) tally: VoteTally },
            /// Leads the current term: holds the proof of its election and each
            /// follower's replication progress.
            Leader { pub(crate) quorum: Quorum, pub(crate) progress: ProgressSet },
        },
        edges: {
            /// No word from a leader for an election timeout: stand for election, or
            /// stand again after a split vote (Raft §5.2).
            Follower | Candidate + election_timeout => Candidate,
            /// A majority voted for this candidate in this term (Raft §5.2).
            Candidate + win_election => Leader,
            /// A higher term, or the current term's leader, was seen (Raft §5.1, §5.2).
            Candidate | Leader + step_down => Follower,
        },
        capabilities: {
            /// Only a leader appends new entries to the log (Raft §5.3).
            propose: [Leader],
        },
    }
}

impl role::Candidate {
    /// The votes counted so far in this election.
    pub fn tally(&self) -> &VoteTally {
        &self.tally
    }
}

impl role::Leader {
    /// The proof of the majority that elected this leader.
    pub fn quorum(&self) -> &Quorum {
        &self.quorum
    }

    /// Each follower's replication progress.
    pub fn progress(&self) -> &ProgressSet {
        &self.progress
    }
}

/// What a server keeps whatever its role: identity, term, vote, known leader and log.
#[derive(Debug, Clone)]
pub struct Core {
    id: NodeId,
    term: u64,
    vote: Option<NodeId>,
    leader: Option<NodeId>,
    log: RaftLog,
    /// Term or vote changed since storage last took the hard state.
    hard_state_changed: bool,
}

impl Core {
    /// A new server `id` with an empty log, in term 0.
    pub fn new(id: NodeId) -> Core {
        Core::restored(id, HardState::default(), Vec::new())
    }

    /// A server restarted from what its storage kept.
    pub(crate) fn restored(id: NodeId, hard_state: HardState, entries: Vec<Entry>) -> Core {
        Core {
            id,
            term: hard_state.term,
            vote: hard_state.vote,
            leader: None,
            log: RaftLog::restored(entries),
            hard_state_changed: false,
        }
    }

    /// This server's identifier.
    pub fn id(&self) -> NodeId {
        self.id
    }

    /// The current term (Raft §5.1).
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The candidate voted for in the current term.
    pub fn vote(&self) -> Option<NodeId> {
        self.vote
    }

    /// The leader of the current term, when known.
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }

    /// The log.
    pub fn log(&self) -> &RaftLog {
        &self.log
    }

    /// Term and vote, the state that must be durable before answering (Raft Figure 2).
    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
        }
    }

    pub(crate) fn log_mut(&mut self) -> &mut RaftLog {
        &mut self.log
    }

    /// Moves to a later term, forgetting the vote and leader of the old one (Raft §5.1:
    /// "If RPC request or response contains term T > currentTerm: set currentTerm = T").
    pub(crate) fn enter_term(&mut self, term: u64) {
        if term > self.term {
            self.term = term;
            self.vote = None;
            self.leader = None;
            self.hard_state_changed = true;
        }
    }

    /// Follows `leader` (when known) in `term`, entering that term if it is later.
    pub(crate) fn follow(&mut self, term: u64, leader: Option<NodeId>) {
        self.enter_term(term);
        if leader.is_some() {
            self.leader = leader;
        }
    }

    /// Records this server's vote for `candidate` in the current term.
    pub(crate) fn record_vote(&mut self, candidate: NodeId) {
        if self.vote != Some(candidate) {
            self.vote = Some(candidate);
            self.hard_state_changed = true;
        }
    }

    /// The hard state, if it changed since the last call.
    pub(crate) fn take_hard_state_change(&mut self) -> Option<HardState> {
        std::mem::take(&mut self.hard_state_changed).then(|| self.hard_state())
    }

    pub(crate) fn has_hard_state_change(&self) -> bool {
        self.hard_state_changed
    }
}

impl<S: role::RoleState, H: Recorder<role::Spec>> Role<S, H> {
    /// Stands for election among `voters`: a new term, a vote for itself, and a tally
    /// holding that vote (Raft §5.2). Legal from Follower and Candidate.
    pub fn become_candidate(self, voters: &[NodeId]) -> Role<role::Candidate, H>
    where
        S: role::Edge<
                role::event::election_timeout,
                <S as role::RoleState>::Moves,
                To = role::Candidate,
            >,
    {
        self.transition_with(role::event::election_timeout, |_, core| {
            let term = core.term + 1;
            core.enter_term(term);
            core.record_vote(core.id);
            role::Candidate {
                tally: VoteTally::new(term, core.id, voters),
            }
        })
    }

    /// Takes the lead with the proof of a majority. A new leader starts each follower at
    /// its own last index plus one (Raft Figure 2) and appends a no-op entry of its term,
    /// so that entries of earlier terms can be committed (Raft §5.4.2, §8). Legal from
    /// Candidate only.
    ///
    /// # Errors
    ///
    /// The role, unchanged, when `quorum` was won in another term than the current one
    /// or by another server.
    pub fn become_leader(self, quorum: Quorum) -> Result<Role<role::Leader, H>, Self>
    where
        S: role::Edge<role::event::win_election, <S as role::RoleState>::Moves, To = role::Leader>,
    {
        let core = self.context();
        if quorum.term() != core.term || quorum.candidate() != core.id {
            return Err(self);
        }
        Ok(self.transition_with(role::event::win_election, |_, core| {
            let id = core.id;
            let peers: Vec<NodeId> = quorum
                .voters()
                .iter()
                .copied()
                .filter(|&p| p != id)
                .collect();
            let progress = ProgressSet::new(&peers, core.log.last_index() + 1);
            core.leader = Some(id);
            core.log
                .append(core.term, EntryKind::Noop, Arc::from(&[][..]));
            role::Leader { quorum, progress }
        }))
    }

    /// Steps down to follower in `term` (at least the current one), following `leader` if
    /// known (Raft §5.1: a higher term; §5.2: a current leader). Legal from Candidate and
    /// Leader.
    pub fn become_follower(self, term: u64, leader: Option<NodeId>) -> Role<role::Follower, H>
    where
        S: role::Edge<role::event::step_down, <S as role::RoleState>::Moves, To = role::Follower>,
    {
        self.transition_with(role::event::step_down, |_, core| {
            core.enter_term(term);
            core.leader = leader;
            role::Follower
        })
    }
}

impl<S: role::RoleState, H> Role<S, H> {
    /// Appends a command to the log in the current term and returns its index. Only a
    /// leader may (Raft §5.3).
    pub fn propose(&mut self, data: Arc<[u8]>) -> u64
    where
        S: role::cap::CanPropose,
    {
        let core = self.context_mut();
        let term = core.term;
        core.log.append(term, EntryKind::Command, data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::VoteReply;

    #[test]
    fn a_candidate_takes_a_new_term_and_votes_for_itself() {
        // Raft §5.2.
        let candidate = Role::new(Core::new(1), role::Follower).become_candidate(&[1, 2, 3]);
        assert_eq!(candidate.context().term(), 1);
        assert_eq!(candidate.context().vote(), Some(1));
        assert_eq!(candidate.state().tally.granted(), &[1]);
        let again = candidate.become_candidate(&[1, 2, 3]);
        assert_eq!(again.context().term(), 2);
    }

    #[test]
    fn a_quorum_of_an_old_term_is_refused() {
        let mut candidate = Role::new(Core::new(1), role::Follower).become_candidate(&[1, 2]);
        candidate
            .state_mut()
            .tally
            .record(&VoteReply::from_wire(2, 1, 1, true));
        let stale = candidate.state().tally.quorum().expect("two of two");
        let candidate = candidate.become_candidate(&[1, 2]);
        assert!(candidate.become_leader(stale).is_err());
    }

    #[test]
    fn a_quorum_won_by_another_server_is_refused() {
        let one = Role::new(Core::new(1), role::Follower).become_candidate(&[1]);
        let two = Role::new(Core::new(2), role::Follower).become_candidate(&[2]);
        let won_by_one = one.state().tally.quorum().expect("alone");
        assert!(two.become_leader(won_by_one).is_err());
    }

    #[test]
    fn a_new_leader_appends_a_noop_of_its_term() {
        // Raft §5.4.2 and §8.
        let candidate = Role::new(Core::new(1), role::Follower).become_candidate(&[1]);
        let quorum = candidate.state().tally.quorum().expect("alone");
        let Ok(mut leader) = candidate.become_leader(quorum) else {
            panic!("the quorum is of the current term");
        };
        assert_eq!(leader.context().log().last_term(), 1);
        assert_eq!(leader.propose(Arc::from(&b"x"[..])), 2);
        let follower = leader.become_follower(3, Some(2));
        assert_eq!(
            (follower.context().term(), follower.context().vote()),
            (3, None)
        );
    }
}
