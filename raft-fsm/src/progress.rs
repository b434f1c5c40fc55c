//! The leader's view of each follower's log: what matches, what to send next (Raft §5.3).
//!
//! A follower is in one of two modes. While *probing*, the leader does not know where the
//! logs agree, so it keeps one AppendEntries in flight and moves `next_index` back on each
//! rejection. Once a request is accepted it *replicates*: it sends ahead optimistically,
//! up to a window of messages in flight, as etcd and raft-rs do.

use std::collections::VecDeque;

use crate::message::NodeId;

/// How the leader is sending to one follower.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Finding where the logs agree: one request at a time.
    Probe,
    /// Logs agree up to `match_index`: send ahead, within the in-flight window.
    Replicate,
}

/// Replication state of one follower.
#[derive(Debug, Clone)]
pub struct Progress {
    match_index: u64,
    next_index: u64,
    mode: Mode,
    /// Probe mode: a request is in flight, so send nothing until it is answered or a
    /// heartbeat interval passes.
    probe_sent: bool,
    /// Replicate mode: the last index of each request in flight, oldest first.
    inflight: VecDeque<u64>,
    /// `match_index` at the previous heartbeat, to notice a follower that stopped moving.
    match_at_heartbeat: u64,
}

impl Progress {
    fn new(next_index: u64) -> Progress {
        Progress {
            match_index: 0,
            next_index,
            mode: Mode::Probe,
            probe_sent: false,
            inflight: VecDeque::new(),
            match_at_heartbeat: 0,
        }
    }

    /// The highest index known to be replicated on the follower.
    pub fn match_index(&self) -> u64 {
        self.match_index
    }

    /// The index of the next entry to send.
    pub fn next_index(&self) -> u64 {
        self.next_index
    }

    /// How the leader is sending to this follower.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the leader must wait before sending more.
    pub(crate) fn is_paused(&self, max_inflight: usize) -> bool {
        match self.mode {
            Mode::Probe => self.probe_sent,
            Mode::Replicate => self.inflight.len() >= max_inflight,
        }
    }

    /// Records a request sent, whose last entry is `last_sent` (`None` when empty).
    pub(crate) fn sent(&mut self, last_sent: Option<u64>) {
        match self.mode {
            Mode::Probe => self.probe_sent = true,
            Mode::Replicate => {
                if let Some(last) = last_sent {
                    self.next_index = last + 1;
                    self.inflight.push_back(last);
                }
            }
        }
    }

    /// Handles an accepted AppendEntries; returns whether `match_index` moved.
    pub(crate) fn maybe_update(&mut self, match_index: u64) -> bool {
        let moved = match_index > self.match_index;
        if moved {
            self.match_index = match_index;
            self.next_index = self.next_index.max(match_index + 1);
        }
        while self
            .inflight
            .front()
            .is_some_and(|&last| last <= match_index)
        {
            self.inflight.pop_front();
        }
        if self.mode == Mode::Probe {
            // Any acceptance proves the logs agree at `match_index`: send ahead now.
            self.mode = Mode::Replicate;
            self.probe_sent = false;
            self.next_index = self.match_index + 1;
        }
        moved
    }

    /// Handles a rejected AppendEntries whose `prev_log_index` was `rejected_prev`, with
    /// `hint` the leader's guess of the next index from the follower's conflict hint.
    /// Returns whether the rejection was current (a stale one changes nothing).
    pub(crate) fn maybe_decrease(&mut self, rejected_prev: u64, hint: u64) -> bool {
        let current = match self.mode {
            Mode::Replicate => rejected_prev > self.match_index,
            Mode::Probe => rejected_prev + 1 == self.next_index,
        };
        if !current {
            return false;
        }
        // Strictly below the rejected point, so that every rejection makes progress, and
        // never at or below what is known to match.
        self.next_index = hint.min(rejected_prev).max(self.match_index + 1);
        self.become_probe();
        true
    }

    /// Falls back to probing from the current `next_index`.
    pub(crate) fn become_probe(&mut self) {
        self.mode = Mode::Probe;
        self.probe_sent = false;
        self.inflight.clear();
    }

    /// Called at each heartbeat: whether the follower lags and has not moved since the
    /// previous heartbeat, so that requests were probably lost and must be sent again.
    pub(crate) fn is_stalled(&mut self, last_index: u64) -> bool {
        let stalled = self.match_index < last_index && self.match_index == self.match_at_heartbeat;
        self.match_at_heartbeat = self.match_index;
        stalled
    }

    /// Lets a probe go out again after a heartbeat interval without an answer.
    pub(crate) fn resume_probe(&mut self) {
        self.probe_sent = false;
    }
}

/// The progress of every follower, in the order of the configured voters.
#[derive(Debug, Clone)]
pub struct ProgressSet {
    peers: Vec<(NodeId, Progress)>,
}

impl ProgressSet {
    /// Fresh progress for `peers`, all starting at `next_index` (Raft Figure 2: "leader
    /// last log index + 1").
    pub(crate) fn new(peers: &[NodeId], next_index: u64) -> ProgressSet {
        ProgressSet {
            peers: peers
                .iter()
                .map(|&id| (id, Progress::new(next_index)))
                .collect(),
        }
    }

    /// The progress of follower `id`.
    pub fn get(&self, id: NodeId) -> Option<&Progress> {
        self.peers
            .iter()
            .find(|(peer, _)| *peer == id)
            .map(|(_, p)| p)
    }

    pub(crate) fn get_mut(&mut self, id: NodeId) -> Option<&mut Progress> {
        self.peers
            .iter_mut()
            .find(|(peer, _)| *peer == id)
            .map(|(_, p)| p)
    }

    /// Every follower with its progress.
    pub fn iter(&self) -> impl Iterator<Item = (NodeId, &Progress)> {
        self.peers.iter().map(|(id, p)| (*id, p))
    }

    /// The highest index stored on a majority, counting the leader's own `last_index`
    /// (Raft §5.3: "replicated on a majority").
    pub(crate) fn quorum_index(&self, leader_last: u64) -> u64 {
        let mut matched: Vec<u64> = self.peers.iter().map(|(_, p)| p.match_index).collect();
        matched.push(leader_last);
        matched.sort_unstable_by(|a, b| b.cmp(a));
        // A majority of n is n / 2 + 1 servers; the (n / 2)-th largest is on all of them.
        matched[matched.len() / 2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_index_is_the_median_from_the_top() {
        let mut set = ProgressSet::new(&[2, 3], 1);
        assert_eq!(set.quorum_index(5), 0);
        set.get_mut(2).map(|p| p.maybe_update(4));
        assert_eq!(set.quorum_index(5), 4);
        let mut five = ProgressSet::new(&[2, 3, 4, 5], 1);
        five.get_mut(2).map(|p| p.maybe_update(7));
        assert_eq!(five.quorum_index(9), 0);
        five.get_mut(3).map(|p| p.maybe_update(3));
        assert_eq!(five.quorum_index(9), 3);
    }

    #[test]
    fn probing_sends_one_at_a_time_then_replication_pipelines() {
        let mut p = Progress::new(6);
        assert!(!p.is_paused(2));
        p.sent(Some(6));
        assert!(p.is_paused(2), "one probe in flight");
        assert!(p.maybe_decrease(5, 3));
        assert_eq!(p.next_index(), 3);
        assert!(!p.is_paused(2));
        p.sent(Some(6));
        p.maybe_update(6);
        assert_eq!(p.mode(), Mode::Replicate);
        p.sent(Some(8));
        p.sent(Some(9));
        assert!(p.is_paused(2), "window of two is full");
        assert_eq!(p.next_index(), 10);
        p.maybe_update(8);
        assert!(!p.is_paused(2));
    }

    #[test]
    fn stale_rejections_change_nothing() {
        let mut p = Progress::new(1);
        p.maybe_update(5);
        assert!(!p.maybe_decrease(4, 1), "already matched past it");
        assert!(p.maybe_decrease(7, 2));
        assert_eq!(p.next_index(), 6, "never at or below the match");
        assert!(
            !p.maybe_decrease(9, 1),
            "probe answers only the request in flight"
        );
    }
}
