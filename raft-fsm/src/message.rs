//! Log entries and the messages servers exchange (Raft §5, Figure 2), as plain values.
//!
//! A vote reply is the one message with a private constructor: a granted [`VoteReply`]
//! is built only from a [`DurableVote`], the token that
//! [`Ready::persist`](crate::Ready::persist) hands out once the vote is on stable storage.

use std::sync::Arc;

use crate::ready::DurableVote;

/// The identifier of a server in the cluster. Zero is a valid identifier.
pub type NodeId = u64;

/// What a log entry carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// A command proposed by a client, for the state machine.
    Command,
    /// The empty entry a new leader appends at the start of its term, so that it can
    /// commit the entries of earlier terms (Raft §5.4.2 and §8). Skip it when applying.
    Noop,
}

/// One entry of the replicated log (Raft §5.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Entry {
    /// The term in which a leader created the entry.
    pub term: u64,
    /// The entry's position in the log; the first entry has index 1.
    pub index: u64,
    /// Whether it carries a command or is a leader's no-op.
    pub kind: EntryKind,
    /// The command, opaque to Raft. Shared, so that sending an entry to many peers does
    /// not copy it.
    pub data: Arc<[u8]>,
}

/// A message between two servers, with the sender's current term (Raft §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The sender.
    pub from: NodeId,
    /// The receiver.
    pub to: NodeId,
    /// The sender's current term when it sent the message.
    pub term: u64,
    /// The request or reply.
    pub body: Body,
}

/// The requests and replies of Raft's two RPCs (Raft §5.2, §5.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    /// RequestVote: a candidate asks for a vote, with how up to date its log is (§5.4.1).
    RequestVote {
        /// Index of the candidate's last log entry.
        last_log_index: u64,
        /// Term of the candidate's last log entry.
        last_log_term: u64,
    },
    /// The answer to RequestVote.
    VoteReply(VoteReply),
    /// AppendEntries: replicate entries, or an empty heartbeat (§5.3).
    AppendEntries(AppendEntries),
    /// The answer to AppendEntries.
    AppendReply(AppendReply),
}

impl Body {
    /// Whether this is a request (RequestVote or AppendEntries) rather than a reply.
    pub fn is_request(&self) -> bool {
        matches!(self, Body::RequestVote { .. } | Body::AppendEntries(_))
    }
}

/// The arguments of AppendEntries (Raft Figure 2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendEntries {
    /// Index of the entry just before the new ones.
    pub prev_log_index: u64,
    /// Term of that entry: the consistency check of §5.3.
    pub prev_log_term: u64,
    /// The entries to store, with consecutive indexes from `prev_log_index + 1`; empty
    /// for a heartbeat.
    pub entries: Vec<Entry>,
    /// The leader's commit index.
    pub leader_commit: u64,
}

/// The answer to AppendEntries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppendReply {
    /// The follower's log matches the leader's up to `match_index`.
    Accepted {
        /// The index of the last entry the request verified or stored.
        match_index: u64,
    },
    /// The consistency check failed at `prev_log_index`. The hint lets the leader skip a
    /// whole conflicting term at once instead of one entry per round trip (the
    /// optimization sketched at the end of Raft §5.3).
    Rejected {
        /// The `prev_log_index` of the rejected request.
        prev_log_index: u64,
        /// The term of the follower's entry at `prev_log_index`, or `None` when its log
        /// is shorter than that.
        conflict_term: Option<u64>,
        /// The first index of `conflict_term` in the follower's log, or its last index
        /// plus one when `conflict_term` is `None`.
        conflict_index: u64,
    },
}

/// The answer to RequestVote.
///
/// Its fields are private: a granted reply exists only once the voter's vote is durable,
/// because a server that forgets its vote after a crash can vote twice in one term and
/// elect two leaders (Raft Figure 2, "Persistent state"). Decoding one from the wire
/// ([`Message::decode`]) is the other way to obtain one: the receiver trusts its peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VoteReply {
    voter: NodeId,
    candidate: NodeId,
    term: u64,
    granted: bool,
}

impl VoteReply {
    /// A granted vote, which only a durable vote for `candidate` in `term` can back.
    pub(crate) fn grant(
        durable: &DurableVote,
        voter: NodeId,
        candidate: NodeId,
        term: u64,
    ) -> Option<VoteReply> {
        durable.covers(term, candidate).then_some(VoteReply {
            voter,
            candidate,
            term,
            granted: true,
        })
    }

    /// A refusal, which needs nothing durable.
    pub(crate) fn reject(voter: NodeId, candidate: NodeId, term: u64) -> VoteReply {
        VoteReply {
            voter,
            candidate,
            term,
            granted: false,
        }
    }

    /// Rebuilds a reply read from the wire.
    pub(crate) fn from_wire(voter: NodeId, candidate: NodeId, term: u64, granted: bool) -> Self {
        VoteReply {
            voter,
            candidate,
            term,
            granted,
        }
    }

    /// The server that answered.
    pub fn voter(&self) -> NodeId {
        self.voter
    }

    /// The candidate it answered.
    pub fn candidate(&self) -> NodeId {
        self.candidate
    }

    /// The term of the election.
    pub fn term(&self) -> u64 {
        self.term
    }

    /// Whether the vote was granted.
    pub fn granted(&self) -> bool {
        self.granted
    }
}
