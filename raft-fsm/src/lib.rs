//! Raft consensus whose roles (Follower, Candidate, Leader) are typestates, tested by a
//! seeded simulator.
//!
//! This is Raft as described in Ongaro and Ousterhout, "In Search of an Understandable
//! Consensus Algorithm" (§5): leader election, log replication and the safety rules,
//! without I/O. A [`Node`] takes ticks, messages and proposals, and hands back a
//! [`Ready`] batch: the hard state and entries to persist, then the messages to send and
//! the committed entries to apply. Your driver owns the clock, the network and the disk.
//!
//! ```
//! use raft_fsm::sim::Cluster;
//!
//! // Three servers over a simulated network, driven by one seed.
//! let mut cluster = Cluster::new(3, 42);
//! cluster.run(40);
//! let (leader, _term) = cluster.leaders()[0];
//! let (index, _) = cluster.propose(leader, b"set x = 1").unwrap();
//! cluster.run(10);
//! assert_eq!(cluster.committed_at(index), (3, Some(&b"set x = 1"[..])));
//!
//! // A follower refuses a proposal and names the leader.
//! let follower = if leader == 1 { 2 } else { 1 };
//! let refused = cluster.propose(follower, b"set x = 2").unwrap_err();
//! let expected = format!("server {follower} is not the leader; the leader is {leader}");
//! assert_eq!(refused.to_string(), expected);
//! ```
//!
//! # Roles
//!
//! The roles are declared once with [`fsm_core::machine!`] as [`Role`]; each role is a
//! type and only these moves exist (the diagram is generated from the declaration, and a
//! test keeps this copy equal to it):
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> Follower
//!     Follower --> Candidate: election_timeout
//!     Candidate --> Candidate: election_timeout
//!     Candidate --> Leader: win_election
//!     Candidate --> Follower: step_down
//!     Leader --> Follower: step_down
//! ```
//!
//! - [`Role::become_candidate`]: from Follower or Candidate on an election timeout; a new
//!   term and a vote for itself (§5.2).
//! - [`Role::become_leader`]: from Candidate only, and only by consuming a [`Quorum`],
//!   the proof that a majority granted their votes in the current term. A `Quorum` has no
//!   public constructor; [`VoteTally::quorum`] hands one out once the votes are counted.
//! - [`Role::become_follower`]: from Candidate or Leader, on a higher term or a current
//!   leader (§5.1, §5.2).
//! - [`Role::propose`] exists only on Leader (the `propose` capability), and so do the
//!   replication methods the node uses, which are implemented on `Role<Leader>` alone.
//!
//! Calling any of them from the wrong role does not compile, and the error names the legal
//! moves: see the `raft-*` cases in `ui-tests`.
//!
//! # A vote is durable before it is announced
//!
//! A server that forgets its vote in a crash can vote twice in one term and elect two
//! leaders. Here a granted [`VoteReply`] can only be built from a [`DurableVote`], a token
//! that exists only inside [`Ready::persist`] after [`Storage::sync`] returned, for the
//! hard state storage has just made durable. More generally, nothing in a `Ready` leaves
//! before its hard state and entries are synced (Raft Figure 2: "updated on stable storage
//! before responding to RPCs").
//!
//! # Driving a node
//!
//! ```
//! use raft_fsm::{Config, MemStorage, Node};
//!
//! let mut storage = MemStorage::new();
//! let mut node = Node::new(Config::new(1, &[1])).unwrap();
//! for _ in 0..20 {
//!     node.tick(); // a cluster of one elects itself
//! }
//! node.propose(&b"hello"[..]).unwrap();
//! let out = node.ready().persist(&mut storage).unwrap();
//! // `out.messages` go to the peers; `out.committed` to the state machine, in order.
//! assert_eq!(&out.committed.last().unwrap().data[..], b"hello");
//! assert_eq!(storage.persistent().entries.len(), 2); // the leader's no-op, then "hello"
//! ```
//!
//! # What is inside
//!
//! | module | what |
//! |---|---|
//! | [`role`] (from `machine.rs`) | the role machine, the [`Core`] every role carries |
//! | [`election`] | [`VoteTally`] and [`Quorum`] |
//! | [`log`] | the in-memory log: consistency check, conflict hints, commit |
//! | [`progress`] | the leader's view of each follower: probe, then pipelined replication |
//! | [`node`] | the sans-I/O [`Node`]: timers, message handlers, §5.4.2 commit rule |
//! | [`ready`] | [`Ready`], [`Persisted`], [`DurableVote`] |
//! | [`storage`] | the [`Storage`] trait, [`MemStorage`], the crash-safe [`FileStorage`] |
//! | [`wire`] | a compact binary encoding of messages and entries |
//! | [`sim`] | the deterministic cluster simulator and its safety checker |
//!
//! The engine (`node`, `log`, `progress`, `ready`) never imports the simulator, the file
//! store or anything that does I/O.
//!
//! # Testing
//!
//! The simulator checks Election Safety (over all history), Leader Append-Only, Log
//! Matching, Leader Completeness, State Machine Safety and monotonic term, commit and
//! applied indexes after every step. `tests/lab.rs` replays the MIT 6.5840 lab scenarios
//! on tick time, `tests/figure8_scripted.rs` scripts Figure 8 step by step,
//! `tests/file_restart.rs` restarts a node from the file store (and from torn and corrupt
//! files), and
//! `tests/random.rs` runs 1,000 seeded runs with drops, delays, reordering, duplicates,
//! partitions (one-way too), crashes and restarts (`RAFT_SEEDS=100000` for more). A
//! failure prints the last events, every server's role breadcrumbs and the command that
//! replays it (`RAFT_SEED=<n> cargo test -p raft-fsm --test random random_seeds`).
//!
//! # Limits
//!
//! Not implemented, each written here so that nobody relies on it:
//!
//! - no snapshots or log compaction: the log, in memory and in [`FileStorage`], only
//!   grows, and a restarted server applies the whole log again from index 1;
//! - no membership changes: the voters are fixed in [`Config`];
//! - no pre-vote and no check-quorum: a server that was cut off comes back with a higher
//!   term and makes the leader step down once (safe, but it disrupts); a leader cut off
//!   from the majority keeps believing it leads until it hears a higher term;
//! - no ReadIndex or lease reads, no leadership transfer, no learners;
//! - followers learn a new commit index with the leader's next AppendEntries (at most a
//!   heartbeat later);
//! - the only transport is the simulator's in-memory network; [`wire`] gives the bytes for
//!   a real one, but no socket driver is included;
//! - [`Ready::persist`] syncs on the caller's thread: there is no asynchronous or batched
//!   fsync across several `Ready`s.

#![deny(missing_docs)]

pub mod election;
pub mod log;
mod machine;
pub mod message;
pub mod node;
pub mod progress;
pub mod ready;
pub mod sim;
pub mod storage;
pub mod wire;

pub use election::{Quorum, VoteTally};
pub use machine::{Core, Role, role};
pub use message::{AppendEntries, AppendReply, Body, Entry, EntryKind, Message, NodeId, VoteReply};
pub use node::{Config, ConfigError, Node, ProposeError, RestartError, RoleKind};
pub use ready::{DurableVote, Persisted, Ready};
pub use storage::{
    FileStorage, HardState, MemStorage, OpenError, Persistent, Storage, StorageError,
};
