//! The in-memory replicated log: entries, commit index and what is left to persist.
//!
//! There are no snapshots, so the log always starts at index 1 and `entries[i]` has index
//! `i + 1`. The log remembers the lowest index it changed since the last
//! [`Ready`](crate::Ready), so that exactly the changed suffix is handed to storage.

use std::sync::Arc;

use crate::message::{Entry, EntryKind};

/// Why AppendEntries did not add anything (Raft §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AppendError {
    /// The consistency check failed: the follower has no entry at `prev_log_index` with
    /// `prev_log_term`. Carries the hint for fast back-off.
    Mismatch {
        conflict_term: Option<u64>,
        conflict_index: u64,
    },
    /// The entries do not follow `prev_log_index` consecutively: a malformed message.
    Malformed,
    /// Accepting would delete a committed entry. A correct leader never asks this (the
    /// Leader Completeness property, Raft §5.4), so the message is refused whole.
    WouldTruncateCommitted { index: u64 },
}

/// The log of one server, from index 1.
#[derive(Debug, Clone, Default)]
pub struct RaftLog {
    entries: Vec<Entry>,
    commit: u64,
    applied: u64,
    /// The lowest index written since storage last took the changes.
    unstable_from: Option<u64>,
}

impl RaftLog {
    /// A log restored from storage: everything in it is already durable.
    pub(crate) fn restored(entries: Vec<Entry>) -> RaftLog {
        RaftLog {
            entries,
            ..RaftLog::default()
        }
    }

    /// The index of the last entry, 0 when empty.
    pub fn last_index(&self) -> u64 {
        self.entries.len() as u64
    }

    /// The term of the last entry, 0 when empty.
    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(0, |e| e.term)
    }

    /// The term of the entry at `index`; 0 for index 0, `None` past the end.
    pub fn term(&self, index: u64) -> Option<u64> {
        if index == 0 {
            return Some(0);
        }
        self.entry(index).map(|e| e.term)
    }

    /// The entry at `index`, if the log has it.
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        let position = usize::try_from(index.checked_sub(1)?).ok()?;
        self.entries.get(position)
    }

    /// All entries, the first at index 1.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The highest index known to be committed.
    pub fn commit_index(&self) -> u64 {
        self.commit
    }

    /// The highest index handed out to be applied.
    pub fn applied_index(&self) -> u64 {
        self.applied
    }

    /// Whether a candidate whose log ends at (`last_index`, `last_term`) is at least as up
    /// to date as this log: a later last term wins, then a longer log (Raft §5.4.1).
    pub(crate) fn is_up_to_date(&self, last_index: u64, last_term: u64) -> bool {
        (last_term, last_index) >= (self.last_term(), self.last_index())
    }

    /// Appends a new entry in `term` (a leader's proposal or no-op) and returns its index.
    pub(crate) fn append(&mut self, term: u64, kind: EntryKind, data: Arc<[u8]>) -> u64 {
        let index = self.last_index() + 1;
        self.entries.push(Entry {
            term,
            index,
            kind,
            data,
        });
        self.mark_unstable(index);
        index
    }

    /// A follower's side of AppendEntries (Raft Figure 2, receiver steps 2–5). Returns the
    /// index of the last entry the request verified, up to which the follower may commit.
    pub(crate) fn maybe_append(
        &mut self,
        prev_log_index: u64,
        prev_log_term: u64,
        entries: &[Entry],
        leader_commit: u64,
    ) -> Result<u64, AppendError> {
        let consecutive = entries
            .iter()
            .zip(prev_log_index.saturating_add(1)..)
            .all(|(entry, index)| entry.index == index);
        if !consecutive {
            return Err(AppendError::Malformed);
        }
        match self.term(prev_log_index) {
            Some(term) if term == prev_log_term => {}
            Some(term) => {
                return Err(AppendError::Mismatch {
                    conflict_term: Some(term),
                    conflict_index: self.first_index_of_term(prev_log_index, term),
                });
            }
            None => {
                return Err(AppendError::Mismatch {
                    conflict_term: None,
                    conflict_index: self.last_index() + 1,
                });
            }
        }
        self.store_new_entries(entries)?;

        // "Index of last new entry": only what this request verified, never stale
        // entries beyond it that the leader has not vouched for.
        let last_new = prev_log_index + entries.len() as u64;
        if leader_commit > self.commit {
            self.commit_to(leader_commit.min(last_new));
        }
        Ok(last_new)
    }

    /// Skips entries already present, truncates at the first conflict, appends the rest.
    fn store_new_entries(&mut self, entries: &[Entry]) -> Result<(), AppendError> {
        // An entry already present with the same term is kept: a delayed, reordered
        // request must not delete entries that a later one added (Raft §5.3).
        let first_new = entries
            .iter()
            .position(|e| self.term(e.index) != Some(e.term));
        let Some(first_new) = first_new else {
            return Ok(());
        };
        let start = entries[first_new].index;
        if start <= self.commit {
            return Err(AppendError::WouldTruncateCommitted { index: start });
        }
        // Lossless: `start` is at most `last_index + 1`, a length of this `Vec`.
        self.entries.truncate((start - 1) as usize);
        self.entries.extend_from_slice(&entries[first_new..]);
        self.mark_unstable(start);
        Ok(())
    }

    /// The first index of the run of `term` that contains `index`.
    fn first_index_of_term(&self, index: u64, term: u64) -> u64 {
        let mut first = index;
        while first > 1 && self.term(first - 1) == Some(term) {
            first -= 1;
        }
        first
    }

    /// The last index holding an entry of `term`, if any (for the leader's back-off).
    pub(crate) fn last_index_of_term(&self, term: u64) -> Option<u64> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.term <= term)
            .filter(|e| e.term == term)
            .map(|e| e.index)
    }

    /// Raises the commit index to `index` (never lowers it, never past the log).
    pub(crate) fn commit_to(&mut self, index: u64) {
        let index = index.min(self.last_index());
        if index > self.commit {
            self.commit = index;
        }
    }

    /// Up to `max` entries from `from`, cloned for a message (the payloads are shared).
    pub(crate) fn entries_from(&self, from: u64, max: usize) -> Vec<Entry> {
        let start = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
        let slice = self.entries.get(start..).unwrap_or(&[]);
        slice[..slice.len().min(max)].to_vec()
    }

    /// Whether something was written that storage has not taken yet.
    pub(crate) fn has_unstable(&self) -> bool {
        self.unstable_from.is_some()
    }

    /// The entries written since the last call, to be persisted.
    pub(crate) fn take_unstable(&mut self) -> Vec<Entry> {
        match self.unstable_from.take() {
            Some(from) => self.entries_from(from, usize::MAX),
            None => Vec::new(),
        }
    }

    /// Whether committed entries wait to be applied.
    pub(crate) fn has_committed_unapplied(&self) -> bool {
        self.commit > self.applied
    }

    /// The committed entries not yet handed out, which are now handed out.
    pub(crate) fn take_committed(&mut self) -> Vec<Entry> {
        let count = usize::try_from(self.commit - self.applied).unwrap_or(usize::MAX);
        let entries = self.entries_from(self.applied + 1, count);
        self.applied = self.commit;
        entries
    }

    fn mark_unstable(&mut self, index: u64) {
        self.unstable_from = Some(self.unstable_from.map_or(index, |from| from.min(index)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(term: u64, index: u64) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Command,
            data: Arc::from(&b"x"[..]),
        }
    }

    fn log_of(terms: &[u64]) -> RaftLog {
        let entries = terms
            .iter()
            .zip(1..)
            .map(|(&term, index)| entry(term, index))
            .collect();
        RaftLog::restored(entries)
    }

    #[test]
    fn up_to_date_compares_last_term_then_length() {
        // Raft §5.4.1.
        let log = log_of(&[1, 1, 2]);
        assert!(log.is_up_to_date(3, 2));
        assert!(log.is_up_to_date(1, 3));
        assert!(!log.is_up_to_date(9, 1));
        assert!(!log.is_up_to_date(2, 2));
    }

    #[test]
    fn mismatch_hints_name_the_conflicting_term_and_its_first_index() {
        // Raft §5.3: back off a whole term per round trip.
        let mut log = log_of(&[1, 2, 2, 2]);
        assert_eq!(
            log.maybe_append(4, 3, &[], 0),
            Err(AppendError::Mismatch {
                conflict_term: Some(2),
                conflict_index: 2
            })
        );
        assert_eq!(
            log.maybe_append(9, 3, &[], 0),
            Err(AppendError::Mismatch {
                conflict_term: None,
                conflict_index: 5
            })
        );
    }

    #[test]
    fn a_conflict_truncates_and_a_stale_request_deletes_nothing() {
        // Raft §5.3, receiver step 3.
        let mut log = log_of(&[1, 1, 1]);
        log.take_unstable();
        assert_eq!(log.maybe_append(1, 1, &[entry(2, 2)], 0), Ok(2));
        assert_eq!(log.last_index(), 2);
        assert_eq!(log.take_unstable(), vec![entry(2, 2)]);
        log.maybe_append(2, 2, &[entry(2, 3), entry(2, 4)], 0).ok();
        // A delayed copy of the first request: already present, nothing is cut.
        assert_eq!(log.maybe_append(1, 1, &[entry(2, 2)], 0), Ok(2));
        assert_eq!(log.last_index(), 4);
    }

    #[test]
    fn commit_follows_the_leader_only_as_far_as_the_request_verified() {
        let mut log = log_of(&[1, 1, 1, 1]);
        assert_eq!(log.maybe_append(2, 1, &[], 4), Ok(2));
        assert_eq!(log.commit_index(), 2);
    }

    #[test]
    fn committed_entries_are_never_truncated() {
        let mut log = log_of(&[1, 1, 1]);
        log.commit_to(2);
        assert_eq!(
            log.maybe_append(1, 1, &[entry(2, 2)], 0),
            Err(AppendError::WouldTruncateCommitted { index: 2 })
        );
        assert_eq!(
            log.maybe_append(0, 0, &[entry(2, 2)], 0),
            Err(AppendError::Malformed)
        );
    }

    #[test]
    fn last_index_of_term_finds_the_run_end() {
        let log = log_of(&[1, 1, 3, 3, 5]);
        assert_eq!(log.last_index_of_term(3), Some(4));
        assert_eq!(log.last_index_of_term(2), None);
        assert_eq!(log.last_index_of_term(5), Some(5));
    }

    #[test]
    fn committed_entries_are_handed_out_once() {
        let mut log = log_of(&[1, 1, 1]);
        log.commit_to(9);
        assert_eq!(log.commit_index(), 3);
        assert_eq!(log.take_committed().len(), 3);
        assert!(log.take_committed().is_empty());
    }
}
