//! Stable storage for term, vote and log (Raft Figure 2, "Persistent state on all servers").
//!
//! The node never calls storage itself: [`Ready::persist`](crate::Ready::persist) writes a
//! batch through the [`Storage`] trait and releases the batch's messages only once
//! [`Storage::sync`] has returned. Two implementations: [`MemStorage`] (for tests and the
//! simulator, where a "crash" keeps it) and [`FileStorage`] (one append-only file, fsync,
//! checksums).

mod crc;
mod file;

use thiserror::Error;

use crate::message::{Entry, NodeId};

pub use file::{FileStorage, OpenError};

/// Term and vote: the state besides the log that a server must not forget (Raft Figure 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct HardState {
    /// The latest term the server has seen.
    pub term: u64,
    /// The candidate it voted for in that term.
    pub vote: Option<NodeId>,
}

/// What storage kept: the state a node restarts from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Persistent {
    /// The last hard state written.
    pub hard_state: HardState,
    /// The log, from index 1, without gaps.
    pub entries: Vec<Entry>,
}

/// Why a storage operation failed. After any of these the node stops (see
/// [`Ready::persist`](crate::Ready::persist)); restart it from storage.
#[derive(Debug, Error)]
pub enum StorageError {
    /// The operating system refused a read, write or sync.
    #[error("storage I/O failed while {doing}: {source}")]
    Io {
        /// What was being done.
        doing: &'static str,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// Entries would leave a hole in the log.
    #[error("entries start at index {first}, but the log ends at {last}")]
    Gap {
        /// The index of the first entry given.
        first: u64,
        /// The last index stored.
        last: u64,
    },
}

/// Where a node's term, vote and log live.
///
/// Writes may be buffered; they must be durable when [`sync`](Storage::sync) returns, in
/// the order they were made. The node relies on this: a vote reply or an acknowledgement
/// leaves only after `sync` (Raft Figure 2: "Updated on stable storage before responding
/// to RPCs").
pub trait Storage {
    /// What was stored, for a restart.
    ///
    /// # Errors
    ///
    /// [`StorageError`] when it cannot be read.
    fn load(&self) -> Result<Persistent, StorageError>;

    /// Stores `entries`, which have consecutive indexes; any stored entry at or after the
    /// first of them is replaced (the follower's truncation, Raft §5.3).
    ///
    /// # Errors
    ///
    /// [`StorageError::Gap`] when the first index is past the end of the stored log plus
    /// one; [`StorageError::Io`] when a write fails.
    fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError>;

    /// Stores the hard state.
    ///
    /// # Errors
    ///
    /// [`StorageError::Io`] when a write fails.
    fn set_hard_state(&mut self, hard_state: &HardState) -> Result<(), StorageError>;

    /// Makes every earlier write durable.
    ///
    /// # Errors
    ///
    /// [`StorageError::Io`] when the sync fails; nothing written since the previous
    /// successful sync may then be assumed durable.
    fn sync(&mut self) -> Result<(), StorageError>;
}

/// Storage in memory: durable for as long as the value lives.
///
/// The simulator keeps one per server across that server's crashes, which models a disk
/// that honours every completed sync.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemStorage {
    state: Persistent,
}

impl MemStorage {
    /// Empty storage: term 0, no vote, no entries.
    pub fn new() -> MemStorage {
        MemStorage::default()
    }

    /// What is stored, without copying.
    pub fn persistent(&self) -> &Persistent {
        &self.state
    }
}

impl Storage for MemStorage {
    fn load(&self) -> Result<Persistent, StorageError> {
        Ok(self.state.clone())
    }

    fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let log = &mut self.state.entries;
        let last = log.len() as u64;
        if first.index == 0 || first.index > last + 1 {
            return Err(StorageError::Gap {
                first: first.index,
                last,
            });
        }
        // Lossless: `first.index - 1` is at most the length of `log`.
        log.truncate((first.index - 1) as usize);
        log.extend_from_slice(entries);
        Ok(())
    }

    fn set_hard_state(&mut self, hard_state: &HardState) -> Result<(), StorageError> {
        self.state.hard_state = *hard_state;
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::message::EntryKind;

    pub(crate) fn entry(term: u64, index: u64) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Command,
            data: Arc::from(index.to_le_bytes().as_slice()),
        }
    }

    #[test]
    fn mem_storage_replaces_from_the_first_index_and_refuses_gaps() {
        let mut storage = MemStorage::new();
        storage
            .append(&[entry(1, 1), entry(1, 2), entry(1, 3)])
            .ok();
        storage.append(&[entry(2, 2)]).ok();
        assert_eq!(storage.persistent().entries, vec![entry(1, 1), entry(2, 2)]);
        assert!(matches!(
            storage.append(&[entry(2, 4)]),
            Err(StorageError::Gap { first: 4, last: 2 })
        ));
    }
}
