//! The batch of outputs a node hands over: persist first, then send and apply.
//!
//! A [`Ready`] holds the hard state and entries to persist, the messages to send and the
//! committed entries to apply. Only the first two can be read from it. The messages and
//! committed entries come out of [`Ready::persist`], after [`Storage::sync`] returned, as
//! [`Persisted`]: so no acknowledgement or vote can leave before what it vouches for is
//! durable (Raft Figure 2: "Updated on stable storage before responding to RPCs").
//!
//! A vote reply goes further: the node queues it as a request to grant, and `persist`
//! builds it only from a [`DurableVote`], the token of the hard state that storage has
//! just made durable. A vote that storage did not keep cannot become a reply.

use crate::message::{Body, Entry, Message, NodeId, VoteReply};
use crate::node::Node;
use crate::storage::{HardState, Storage, StorageError};

/// One message the node wants to send, or a vote it wants to grant once durable.
#[derive(Debug)]
pub(crate) enum Outgoing {
    Send(Message),
    GrantVote { to: NodeId, term: u64 },
}

/// Proof that a vote is on stable storage: made only in [`Ready::persist`], from the hard
/// state that storage last synced.
#[derive(Debug, Clone, Copy)]
pub struct DurableVote {
    hard_state: HardState,
}

impl DurableVote {
    /// Whether the durable state holds a vote for `candidate` in `term`.
    pub(crate) fn covers(&self, term: u64, candidate: NodeId) -> bool {
        self.hard_state.term == term && self.hard_state.vote == Some(candidate)
    }

    /// The durable term and vote.
    pub fn hard_state(&self) -> HardState {
        self.hard_state
    }
}

/// Outputs of a node, taken with [`Node::ready`]. Persist it with [`Ready::persist`].
///
/// It borrows the node, so the node cannot move on before the batch is dealt with. A
/// `Ready` dropped without being persisted stops the node: its log would otherwise run
/// ahead of its storage.
#[derive(Debug)]
#[must_use = "a Ready must be persisted, or the node stops"]
pub struct Ready<'a> {
    node: &'a mut Node,
    hard_state: Option<HardState>,
    entries: Vec<Entry>,
    outgoing: Vec<Outgoing>,
    committed: Vec<Entry>,
    done: bool,
}

/// What a batch releases once persisted: messages to send and entries to apply.
#[derive(Debug, Default)]
pub struct Persisted {
    /// Messages to send, in order.
    pub messages: Vec<Message>,
    /// Newly committed entries, to apply to the state machine in index order. No-op
    /// entries are included (so that indexes stay contiguous); skip them.
    pub committed: Vec<Entry>,
}

impl<'a> Ready<'a> {
    pub(crate) fn new(
        node: &'a mut Node,
        hard_state: Option<HardState>,
        entries: Vec<Entry>,
        outgoing: Vec<Outgoing>,
        committed: Vec<Entry>,
    ) -> Ready<'a> {
        Ready {
            node,
            hard_state,
            entries,
            outgoing,
            committed,
            done: false,
        }
    }

    /// The hard state to persist, when it changed.
    pub fn hard_state(&self) -> Option<&HardState> {
        self.hard_state.as_ref()
    }

    /// The entries to persist. The first replaces any stored entry at its index and after.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether the batch holds nothing at all.
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.entries.is_empty()
            && self.outgoing.is_empty()
            && self.committed.is_empty()
    }

    /// Writes the hard state and entries to `storage`, syncs, and releases the messages
    /// and committed entries. Storage is not touched when there is nothing to write.
    ///
    /// # Errors
    ///
    /// The [`StorageError`] of the failed write or sync. The node then stops (every later
    /// call fails or does nothing) and must be restarted from storage: what storage holds
    /// is no longer known to match the node's memory.
    pub fn persist<S: Storage + ?Sized>(
        mut self,
        storage: &mut S,
    ) -> Result<Persisted, StorageError> {
        self.done = true;
        if let Err(error) = self.write(storage) {
            self.node.stop();
            return Err(error);
        }
        if let Some(hard_state) = self.hard_state {
            self.node.set_durable(hard_state);
        }
        let durable = DurableVote {
            hard_state: self.node.durable(),
        };
        let me = self.node.id();
        let messages = std::mem::take(&mut self.outgoing)
            .into_iter()
            .filter_map(|out| release(out, me, &durable))
            .collect();
        Ok(Persisted {
            messages,
            committed: std::mem::take(&mut self.committed),
        })
    }

    fn write<S: Storage + ?Sized>(&self, storage: &mut S) -> Result<(), StorageError> {
        if self.hard_state.is_none() && self.entries.is_empty() {
            return Ok(());
        }
        storage.append(&self.entries)?;
        if let Some(hard_state) = &self.hard_state {
            storage.set_hard_state(hard_state)?;
        }
        storage.sync()
    }
}

/// Turns a queued output into the message to send; a vote grant needs the durable vote.
fn release(out: Outgoing, me: NodeId, durable: &DurableVote) -> Option<Message> {
    match out {
        Outgoing::Send(message) => Some(message),
        Outgoing::GrantVote { to, term } => {
            let reply = VoteReply::grant(durable, me, to, term);
            if reply.is_none() {
                // Only reachable if the node queued a grant it never recorded: drop it,
                // since an undurable vote must not be announced.
                tracing::debug!(to, term, "vote grant without a durable vote dropped");
            }
            reply.map(|reply| Message {
                from: me,
                to,
                term,
                body: Body::VoteReply(reply),
            })
        }
    }
}

impl Drop for Ready<'_> {
    fn drop(&mut self) {
        if !self.done && !self.is_empty() {
            tracing::debug!(
                node = self.node.id(),
                "Ready dropped unpersisted; node stops"
            );
            self.node.stop();
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::message::{Body, Message};
    use crate::node::{Config, Node};
    use crate::storage::MemStorage;

    fn vote_request() -> Message {
        Message {
            from: 2,
            to: 1,
            term: 1,
            body: Body::RequestVote {
                last_log_index: 0,
                last_log_term: 0,
            },
        }
    }

    #[test]
    fn a_ready_dropped_unpersisted_stops_the_node() {
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(vote_request());
        drop(node.ready());
        assert!(node.is_stopped());
        assert!(node.propose(&b"x"[..]).is_err());
    }

    #[test]
    fn an_empty_ready_may_be_dropped() {
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        let ready = node.ready();
        assert!(ready.is_empty());
        drop(ready);
        assert!(!node.is_stopped());
    }

    #[test]
    fn the_durable_vote_is_the_hard_state_just_synced() {
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(vote_request());
        let mut storage = MemStorage::new();
        let out = node.ready().persist(&mut storage).expect("mem");
        assert_eq!(out.messages.len(), 1);
        assert_eq!(storage.persistent().hard_state.vote, Some(2));
        assert_eq!(node.durable().vote, Some(2));
    }
}
