//! Counting votes, and the proof of a majority that a candidate needs to lead (Raft §5.2).
//!
//! [`Quorum`] has no public constructor and is not `Clone`: the only way to obtain one is
//! [`VoteTally::quorum`], which hands it out once granted votes from a majority of the
//! voters are counted for the tally's own term and candidate. Each counted vote is a
//! [`VoteReply`] that the voter could only produce after its vote was durable, so a
//! leader stands on a chain of evidence the type system keeps intact.

use crate::message::{NodeId, VoteReply};

/// The votes a candidate has received in one term.
#[derive(Debug, Clone)]
pub struct VoteTally {
    term: u64,
    candidate: NodeId,
    voters: Vec<NodeId>,
    granted: Vec<NodeId>,
    rejected: Vec<NodeId>,
}

impl VoteTally {
    /// A tally for `candidate` in `term`, with its own vote counted (Raft §5.2: "votes for
    /// itself").
    pub(crate) fn new(term: u64, candidate: NodeId, voters: &[NodeId]) -> VoteTally {
        let mut tally = VoteTally {
            term,
            candidate,
            voters: voters.to_vec(),
            granted: Vec::with_capacity(voters.len()),
            rejected: Vec::new(),
        };
        if tally.voters.contains(&candidate) {
            tally.granted.push(candidate);
        }
        tally
    }

    /// Counts `reply` if it answers this election; returns whether it was counted. A
    /// reply for another term or candidate, from a non-voter, or repeated, is ignored.
    pub fn record(&mut self, reply: &VoteReply) -> bool {
        let voter = reply.voter();
        let relevant = reply.term() == self.term
            && reply.candidate() == self.candidate
            && self.voters.contains(&voter);
        if !relevant || self.granted.contains(&voter) || self.rejected.contains(&voter) {
            return false;
        }
        if reply.granted() {
            self.granted.push(voter);
        } else {
            self.rejected.push(voter);
        }
        true
    }

    /// The term of the election.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The voters that granted their vote, the candidate first.
    pub fn granted(&self) -> &[NodeId] {
        &self.granted
    }

    /// The voters that refused.
    pub fn rejected(&self) -> &[NodeId] {
        &self.rejected
    }

    /// The proof of a majority, once the granted votes are one.
    pub fn quorum(&self) -> Option<Quorum> {
        (self.granted.len() > self.voters.len() / 2).then(|| Quorum {
            term: self.term,
            candidate: self.candidate,
            voters: self.voters.clone(),
            granted: self.granted.clone(),
        })
    }
}

/// Proof that a majority of the voters granted their vote to one candidate in one term.
///
/// Entering the `Leader` role consumes one (see
/// [`Role::become_leader`](crate::Role::become_leader)).
#[derive(Debug)]
pub struct Quorum {
    term: u64,
    candidate: NodeId,
    voters: Vec<NodeId>,
    granted: Vec<NodeId>,
}

impl Quorum {
    /// The term the votes were granted in.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// The candidate the votes were granted to.
    pub fn candidate(&self) -> NodeId {
        self.candidate
    }

    /// The voters whose votes make the majority.
    pub fn granted(&self) -> &[NodeId] {
        &self.granted
    }

    /// Every voter of the cluster.
    pub fn voters(&self) -> &[NodeId] {
        &self.voters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_majority_of_granted_votes_for_this_term_makes_a_quorum() {
        // Raft §5.2: "votes from a majority of the servers in the full cluster".
        let mut tally = VoteTally::new(4, 1, &[1, 2, 3, 4, 5]);
        assert!(tally.quorum().is_none());
        assert!(tally.record(&VoteReply::from_wire(2, 1, 4, true)));
        assert!(
            !tally.record(&VoteReply::from_wire(2, 1, 4, true)),
            "counted once"
        );
        assert!(
            !tally.record(&VoteReply::from_wire(3, 1, 3, true)),
            "old term"
        );
        assert!(
            !tally.record(&VoteReply::from_wire(3, 9, 4, true)),
            "other candidate"
        );
        assert!(
            !tally.record(&VoteReply::from_wire(7, 1, 4, true)),
            "not a voter"
        );
        assert!(tally.record(&VoteReply::reject(4, 1, 4)));
        assert!(tally.quorum().is_none());
        assert!(tally.record(&VoteReply::from_wire(5, 1, 4, true)));
        let quorum = tally.quorum().expect("three of five");
        assert_eq!((quorum.term(), quorum.granted()), (4, &[1, 2, 5][..]));
    }

    #[test]
    fn a_single_voter_is_its_own_majority() {
        assert!(VoteTally::new(1, 1, &[1]).quorum().is_some());
    }
}
