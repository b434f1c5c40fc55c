//! A node persisting to the crash-safe file store, restarted from it; and what a torn or
//! corrupt file does on restart (Raft Figure 2, "Persistent state on all servers").

use std::path::PathBuf;

use raft_fsm::{Config, FileStorage, Node, OpenError, RoleKind, Storage};

/// A fresh file under the system's temporary directory, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("raft-fsm-{}-{name}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// A single-server cluster that elects itself and commits three commands to `path`.
fn run_and_stop(path: &PathBuf) -> (u64, u64) {
    let mut storage = FileStorage::create(path).expect("create");
    let mut node = Node::new(Config::new(1, &[1])).expect("valid");
    while node.role() != RoleKind::Leader {
        node.tick();
    }
    let mut applied = Vec::new();
    for command in [&b"a"[..], b"b", b"c"] {
        node.propose(command).expect("leader");
        let out = node.ready().persist(&mut storage).expect("file storage");
        applied.extend(out.committed);
    }
    assert_eq!(applied.len(), 4, "the no-op and three commands");
    (node.core().term(), node.core().log().last_index())
}

#[test]
fn a_node_restarts_from_the_file_with_its_term_vote_and_log() {
    let file = TempFile::new("restart");
    let (term, last) = run_and_stop(&file.0);
    let storage = FileStorage::open(&file.0).expect("a cleanly written file opens");
    let stored = storage.load().expect("load");
    let node = Node::restart(Config::new(1, &[1]), stored).expect("consistent");
    assert_eq!(node.core().term(), term);
    assert_eq!(node.core().vote(), Some(1), "it voted for itself");
    assert_eq!(node.core().log().last_index(), last);
    assert_eq!(&node.core().log().entries()[3].data[..], b"c");
}

#[test]
fn a_torn_file_is_a_typed_error_on_restart() {
    let file = TempFile::new("torn");
    run_and_stop(&file.0);
    let bytes = std::fs::read(&file.0).expect("read");
    std::fs::write(&file.0, &bytes[..bytes.len() - 3]).expect("tear the last record");
    let error = FileStorage::open(&file.0).expect_err("torn");
    assert!(matches!(error, OpenError::TornTail { .. }), "{error}");
    assert!(
        error.to_string().contains("repair_torn_tail"),
        "the error says what to do"
    );
}

#[test]
fn a_corrupt_file_is_a_typed_error_on_restart() {
    let file = TempFile::new("corrupt");
    run_and_stop(&file.0);
    let mut bytes = std::fs::read(&file.0).expect("read");
    bytes[30] ^= 0xff;
    std::fs::write(&file.0, &bytes).expect("flip a byte");
    let error = FileStorage::open(&file.0).expect_err("corrupt");
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error}");
}
