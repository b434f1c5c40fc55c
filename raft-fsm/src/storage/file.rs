//! A crash-safe file store: one append-only file of checksummed records, fsync per batch.
//!
//! Layout: a 16-byte header (magic, format version, header checksum), then records of
//! `[length: u32 LE][CRC-32C of body: u32 LE][body]`. A body is a hard state or a run of
//! entries that replaces the stored log from its first index. Nothing is ever written in
//! place, so a crash can only leave the *last* record incomplete: a torn tail. On open, a
//! torn tail and a corrupt record are both typed errors; nothing is dropped silently.
//! [`FileStorage::repair_torn_tail`] discards a torn tail when asked to, which is safe
//! because a record that was never fully written was never covered by a completed sync,
//! so nothing that depends on it left the server.
//!
//! The file is never compacted: without snapshots the log only grows, and a truncation
//! adds a record rather than rewriting the file.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::crc::crc32c;
use super::{HardState, MemStorage, Persistent, Storage, StorageError};
use crate::message::Entry;
use crate::wire::{DecodeError, Reader, put_varint};

const MAGIC: &[u8; 8] = b"RAFTFSM\0";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 16;
const RECORD_HEADER_LEN: usize = 8;

const HARD_STATE: u8 = 1;
const ENTRIES: u8 = 2;

/// Why a file store could not be opened or created.
#[derive(Debug, Error)]
pub enum OpenError {
    /// The operating system refused.
    #[error("cannot {doing} {}: {source}", path.display())]
    Io {
        /// What was being done.
        doing: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with this store's header.
    #[error("{} is not a raft-fsm log: bad header", path.display())]
    BadHeader {
        /// The file.
        path: PathBuf,
    },
    /// The file was written by another version of the format.
    #[error("{}: unsupported format version {version}", path.display())]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version found.
        version: u32,
    },
    /// The last record is incomplete or fails its checksum: a write interrupted by a
    /// crash. [`FileStorage::repair_torn_tail`] discards it.
    #[error(
        "{}: the last record, at byte {offset} ({len} bytes), is torn; \
         FileStorage::repair_torn_tail discards it",
        path.display()
    )]
    TornTail {
        /// The file.
        path: PathBuf,
        /// Where the torn record starts.
        offset: u64,
        /// How many bytes it has.
        len: u64,
    },
    /// A record before the last one is damaged, or a record's content is impossible.
    #[error("{}: corrupt record at byte {offset}: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Where the record starts.
        offset: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// Term, vote and log in one append-only file with checksums, synced per batch.
#[derive(Debug)]
pub struct FileStorage {
    path: PathBuf,
    file: File,
    /// What the file holds once `pending` is written: the answer to `load`.
    state: MemStorage,
    /// Records not yet written; `sync` writes and fsyncs them in one go.
    pending: Vec<u8>,
    /// A write or sync failed: what is on disk is unknown until the file is reopened.
    failed: bool,
}

impl FileStorage {
    /// Creates a new, empty store at `path`, which must not exist.
    ///
    /// # Errors
    ///
    /// [`OpenError::Io`] when the file exists or cannot be created and synced.
    pub fn create(path: impl AsRef<Path>) -> Result<FileStorage, OpenError> {
        let path = path.as_ref().to_path_buf();
        let io = |doing| io_error(doing, &path);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(io("create"))?;
        file.write_all(&header())
            .map_err(io("write the header of"))?;
        file.sync_all().map_err(io("sync"))?;
        sync_parent(&path).map_err(io("sync the directory of"))?;
        Ok(FileStorage {
            path,
            file,
            state: MemStorage::new(),
            pending: Vec::new(),
            failed: false,
        })
    }

    /// Opens an existing store, checking every record.
    ///
    /// # Errors
    ///
    /// [`OpenError::TornTail`] when the last record is incomplete,
    /// [`OpenError::Corrupt`] when any other record is damaged, [`OpenError::BadHeader`]
    /// or [`OpenError::UnsupportedVersion`] for a foreign file, [`OpenError::Io`] when it
    /// cannot be read.
    pub fn open(path: impl AsRef<Path>) -> Result<FileStorage, OpenError> {
        let path = path.as_ref().to_path_buf();
        let bytes = read_all(&path)?;
        let state = match replay(&path, &bytes)? {
            Replayed::Complete(state) => state,
            Replayed::TornAt(offset) => {
                return Err(OpenError::TornTail {
                    len: bytes.len() as u64 - offset,
                    path,
                    offset,
                });
            }
        };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|source| OpenError::Io {
                doing: "open",
                path: path.clone(),
                source,
            })?;
        Ok(FileStorage {
            path,
            file,
            state,
            pending: Vec::new(),
            failed: false,
        })
    }

    /// Opens the store at `path`, creating it when it does not exist.
    ///
    /// # Errors
    ///
    /// As [`FileStorage::open`] and [`FileStorage::create`].
    pub fn open_or_create(path: impl AsRef<Path>) -> Result<FileStorage, OpenError> {
        let path = path.as_ref();
        if path.exists() {
            FileStorage::open(path)
        } else {
            FileStorage::create(path)
        }
    }

    /// Cuts a torn last record off the file and returns how many bytes were discarded
    /// (0 when the file was whole). Corrupt records before the last are not touched.
    ///
    /// # Errors
    ///
    /// [`OpenError::Corrupt`] and the header errors as for [`FileStorage::open`];
    /// [`OpenError::Io`] when the file cannot be read, truncated or synced.
    pub fn repair_torn_tail(path: impl AsRef<Path>) -> Result<u64, OpenError> {
        let path = path.as_ref().to_path_buf();
        let bytes = read_all(&path)?;
        let Replayed::TornAt(offset) = replay(&path, &bytes)? else {
            return Ok(0);
        };
        let io = |doing| io_error(doing, &path);
        let file = OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(io("open"))?;
        file.set_len(offset).map_err(io("truncate"))?;
        file.sync_all().map_err(io("sync"))?;
        Ok(bytes.len() as u64 - offset)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn check_usable(&self) -> Result<(), StorageError> {
        if self.failed {
            return Err(StorageError::Io {
                doing: "using a store whose earlier write failed (reopen it)",
                source: std::io::Error::other("earlier failure"),
            });
        }
        Ok(())
    }

    fn push_record(&mut self, body: &[u8]) {
        // Lossless in practice: a batch of entries over 4 GiB is refused by `append`.
        self.pending
            .extend_from_slice(&(body.len() as u32).to_le_bytes());
        self.pending.extend_from_slice(&crc32c(body).to_le_bytes());
        self.pending.extend_from_slice(body);
    }
}

impl Storage for FileStorage {
    fn load(&self) -> Result<Persistent, StorageError> {
        self.state.load()
    }

    fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        self.check_usable()?;
        if entries.is_empty() {
            return Ok(());
        }
        self.state.append(entries)?;
        let mut body = vec![ENTRIES];
        put_varint(&mut body, entries.len() as u64);
        for entry in entries {
            entry.encode(&mut body);
        }
        if u32::try_from(body.len()).is_err() {
            return Err(StorageError::Io {
                doing: "appending a batch of entries",
                source: std::io::Error::other("a record over 4 GiB"),
            });
        }
        self.push_record(&body);
        Ok(())
    }

    fn set_hard_state(&mut self, hard_state: &HardState) -> Result<(), StorageError> {
        self.check_usable()?;
        self.state.set_hard_state(hard_state)?;
        let mut body = vec![HARD_STATE];
        put_varint(&mut body, hard_state.term);
        match hard_state.vote {
            Some(vote) => {
                body.push(1);
                put_varint(&mut body, vote);
            }
            None => body.push(0),
        }
        self.push_record(&body);
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StorageError> {
        self.check_usable()?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let result = self
            .file
            .write_all(&self.pending)
            .map_err(|source| StorageError::Io {
                doing: "writing records",
                source,
            })
            .and_then(|()| {
                // Data, not metadata: the file is opened in append mode and its length is
                // part of what `fdatasync` flushes.
                self.file.sync_data().map_err(|source| StorageError::Io {
                    doing: "syncing",
                    source,
                })
            });
        self.failed = result.is_err();
        self.pending.clear();
        result
    }
}

/// Wraps an I/O error with what was being done to which file.
fn io_error(doing: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> OpenError {
    let path = path.to_path_buf();
    move |source| OpenError::Io {
        doing,
        path,
        source,
    }
}

fn header() -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    header[..8].copy_from_slice(MAGIC);
    header[8..12].copy_from_slice(&VERSION.to_le_bytes());
    let crc = crc32c(&header[..12]);
    header[12..].copy_from_slice(&crc.to_le_bytes());
    header
}

fn read_all(path: &Path) -> Result<Vec<u8>, OpenError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut file| file.read_to_end(&mut bytes))
        .map_err(|source| OpenError::Io {
            doing: "read",
            path: path.to_path_buf(),
            source,
        })?;
    Ok(bytes)
}

fn sync_parent(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => File::open(parent)?.sync_all(),
        _ => File::open(".")?.sync_all(),
    }
}

/// The outcome of reading every record.
enum Replayed {
    Complete(MemStorage),
    /// Everything before this offset is sound; from it on, the last record is torn.
    TornAt(u64),
}

fn replay(path: &Path, bytes: &[u8]) -> Result<Replayed, OpenError> {
    check_header(path, bytes)?;
    let mut state = MemStorage::new();
    let mut offset = HEADER_LEN;
    while offset < bytes.len() {
        let rest = &bytes[offset..];
        let Some(body) = record_body(rest) else {
            return Ok(Replayed::TornAt(offset as u64));
        };
        let end = offset + RECORD_HEADER_LEN + body.len();
        if !checksum_ok(rest, body) {
            if end == bytes.len() {
                return Ok(Replayed::TornAt(offset as u64));
            }
            return Err(corrupt(path, offset, "checksum mismatch".to_owned()));
        }
        apply_record(&mut state, body).map_err(|reason| corrupt(path, offset, reason))?;
        offset = end;
    }
    Ok(Replayed::Complete(state))
}

fn check_header(path: &Path, bytes: &[u8]) -> Result<(), OpenError> {
    let bad = || OpenError::BadHeader {
        path: path.to_path_buf(),
    };
    let header = bytes.get(..HEADER_LEN).ok_or_else(bad)?;
    if &header[..8] != MAGIC || crc32c(&header[..12]).to_le_bytes() != header[12..16] {
        return Err(bad());
    }
    let version = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
    if version != VERSION {
        return Err(OpenError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    Ok(())
}

/// The body of the record at the start of `rest`, or `None` if it is incomplete.
fn record_body(rest: &[u8]) -> Option<&[u8]> {
    let len = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
    let len = usize::try_from(len).ok()?;
    rest.get(RECORD_HEADER_LEN..RECORD_HEADER_LEN.checked_add(len)?)
}

fn checksum_ok(rest: &[u8], body: &[u8]) -> bool {
    rest.get(4..8)
        .is_some_and(|stored| stored == crc32c(body).to_le_bytes())
}

fn apply_record(state: &mut MemStorage, body: &[u8]) -> Result<(), String> {
    let mut r = Reader { bytes: body };
    let decode = |e: DecodeError| e.to_string();
    match r.byte("record tag").map_err(decode)? {
        HARD_STATE => {
            let term = r.varint().map_err(decode)?;
            let vote = match r.byte("vote flag").map_err(decode)? {
                0 => None,
                1 => Some(r.varint().map_err(decode)?),
                tag => return Err(format!("bad vote flag {tag}")),
            };
            r.finish().map_err(decode)?;
            state
                .set_hard_state(&HardState { term, vote })
                .map_err(|e| e.to_string())
        }
        ENTRIES => {
            let count = r.varint().map_err(decode)?;
            let mut entries = Vec::new();
            for _ in 0..count {
                let entry = read_entry(&mut r).map_err(decode)?;
                entries.push(entry);
            }
            r.finish().map_err(decode)?;
            check_consecutive(&entries)?;
            state.append(&entries).map_err(|e| e.to_string())
        }
        tag => Err(format!("unknown record tag {tag}")),
    }
}

/// Reads one entry from the record: its encoding says how long it is.
fn read_entry(r: &mut Reader<'_>) -> Result<Entry, DecodeError> {
    let start = r.bytes;
    // Decode from a copy of the cursor to find the entry's end, then decode exactly it.
    let mut probe = Reader { bytes: start };
    probe.varint()?;
    probe.varint()?;
    probe.byte("entry kind")?;
    let len = probe.varint()?;
    let len = usize::try_from(len).map_err(|_| DecodeError::VarintOverflow)?;
    probe.take(len, "entry data")?;
    let used = start.len() - probe.bytes.len();
    let entry = Entry::decode(r.take(used, "entry")?)?;
    Ok(entry)
}

fn check_consecutive(entries: &[Entry]) -> Result<(), String> {
    let consecutive = entries.windows(2).all(|w| w[1].index == w[0].index + 1);
    if consecutive {
        Ok(())
    } else {
        Err("entries of one record are not consecutive".to_owned())
    }
}

fn corrupt(path: &Path, offset: usize, reason: String) -> OpenError {
    OpenError::Corrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::message::EntryKind;

    /// A fresh path under the system's temporary directory, removed on drop.
    struct TempPath(PathBuf);

    impl TempPath {
        fn new() -> TempPath {
            static NEXT: AtomicU32 = AtomicU32::new(0);
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let name = format!("raft-fsm-test-{}-{n}.log", std::process::id());
            let path = std::env::temp_dir().join(name);
            let _ = std::fs::remove_file(&path);
            TempPath(path)
        }
    }

    impl Drop for TempPath {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn entry(term: u64, index: u64) -> Entry {
        Entry {
            term,
            index,
            kind: EntryKind::Command,
            data: Arc::from(format!("cmd{index}").as_bytes()),
        }
    }

    /// Writes two batches; returns what is stored and the file's length after the
    /// first batch.
    fn write_sample(path: &Path) -> (Persistent, usize) {
        let mut store = FileStorage::create(path).expect("create");
        store
            .append(&[entry(1, 1), entry(1, 2), entry(1, 3)])
            .expect("append");
        store
            .set_hard_state(&HardState {
                term: 2,
                vote: Some(3),
            })
            .expect("hard state");
        store.sync().expect("sync");
        let first_batch = std::fs::metadata(path).expect("metadata").len() as usize;
        // A truncation: the follower's log is replaced from index 3 (Raft §5.3).
        store.append(&[entry(2, 3), entry(2, 4)]).expect("append");
        store.sync().expect("sync");
        (store.load().expect("load"), first_batch)
    }

    #[test]
    fn what_was_synced_comes_back_after_reopening() {
        let path = TempPath::new();
        let (written, _) = write_sample(&path.0);
        assert_eq!(
            written.entries,
            vec![entry(1, 1), entry(1, 2), entry(2, 3), entry(2, 4)]
        );
        let reopened = FileStorage::open(&path.0).expect("open");
        assert_eq!(reopened.load().expect("load"), written);
    }

    #[test]
    fn unsynced_writes_are_not_on_disk() {
        let path = TempPath::new();
        let mut store = FileStorage::create(&path.0).expect("create");
        store.append(&[entry(1, 1)]).expect("append");
        drop(store);
        let reopened = FileStorage::open(&path.0).expect("open");
        assert!(reopened.load().expect("load").entries.is_empty());
    }

    #[test]
    fn every_torn_tail_is_a_typed_error_and_repair_keeps_the_rest() {
        let path = TempPath::new();
        let (_, before_last) = write_sample(&path.0);
        let whole = std::fs::read(&path.0).expect("read");
        for cut in before_last + 1..whole.len() {
            std::fs::write(&path.0, &whole[..cut]).expect("write");
            match FileStorage::open(&path.0) {
                Err(OpenError::TornTail { offset, .. }) => assert_eq!(offset as usize, before_last),
                other => panic!("cut at {cut}: expected a torn tail, got {other:?}"),
            }
            let dropped = FileStorage::repair_torn_tail(&path.0).expect("repair");
            assert_eq!(dropped as usize, cut - before_last);
            let repaired = FileStorage::open(&path.0).expect("open after repair");
            let state = repaired.load().expect("load");
            assert_eq!(
                state.hard_state,
                HardState {
                    term: 2,
                    vote: Some(3)
                }
            );
            assert_eq!(state.entries.len(), 3, "the synced records are all kept");
        }
    }

    #[test]
    fn a_corrupt_record_before_the_last_is_refused() {
        let path = TempPath::new();
        write_sample(&path.0);
        let mut bytes = std::fs::read(&path.0).expect("read");
        // Flip a bit inside the first record's body.
        bytes[HEADER_LEN + RECORD_HEADER_LEN + 2] ^= 0x10;
        std::fs::write(&path.0, &bytes).expect("write");
        assert!(matches!(
            FileStorage::open(&path.0),
            Err(OpenError::Corrupt { offset, .. }) if offset as usize == HEADER_LEN
        ));
        assert!(matches!(
            FileStorage::repair_torn_tail(&path.0),
            Err(OpenError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let path = TempPath::new();
        std::fs::write(&path.0, b"not a raft log at all").expect("write");
        assert!(matches!(
            FileStorage::open(&path.0),
            Err(OpenError::BadHeader { .. })
        ));
        let mut header = header();
        header[8] = 9;
        let crc = crc32c(&header[..12]);
        header[12..].copy_from_slice(&crc.to_le_bytes());
        std::fs::write(&path.0, header).expect("write");
        assert!(matches!(
            FileStorage::open(&path.0),
            Err(OpenError::UnsupportedVersion { version: 9, .. })
        ));
        assert!(matches!(
            FileStorage::create(&path.0),
            Err(OpenError::Io { .. })
        ));
    }
}
