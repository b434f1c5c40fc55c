//! Raft: proposals committed per second on a three-server cluster in memory.
//!
//! What it measures: the time from proposing a 100-byte command at the leader until the
//! leader hands it over as committed, with
//!
//! - `one-outstanding`: one proposal at a time, each waiting for the previous to commit;
//! - `64-in-flight`: up to 64 proposals outstanding, topped up after each round of
//!   message delivery with as many as committed in it;
//!
//! for `raft-fsm` and for `raft` (raft-rs) 0.7 with its own `MemStorage` and
//! `skip_bcast_commit` (so that neither sends a message only to announce a commit: the
//! followers of both learn it with the next append). Both are driven the same way: every
//! server's ready batch is persisted to memory storage, its messages are delivered at once
//! to the other servers in memory, and committed entries are applied
//! (counted). No ticks pass during a measurement, so no election or heartbeat interferes.
//! Criterion reports the time per committed proposal; proposals per second is its inverse.
//!
//! Why: consensus is on the write path of every replicated service; the cost of the
//! library itself (not of disks or networks) is what the two crates can be compared on.
//!
//! Before timing, each cluster elects server 1 and commits a few proposals untimed, and
//! each measured batch checks that exactly the proposals made were committed, so that a
//! driver that dropped work could not look fast.

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// The command size.
const PAYLOAD: usize = 100;

/// A three-server cluster that can take proposals at its leader.
trait Cluster {
    /// Proposes one command at the leader.
    fn propose(&mut self, data: &[u8]);
    /// One round: every server handles its ready batch, then every message sent is
    /// delivered. Returns how many commands the leader handed over as committed.
    fn round(&mut self) -> u64;
    /// Whether a server has a ready batch to handle.
    fn busy(&self) -> bool;
    /// Runs rounds until nothing moves.
    fn settle(&mut self) -> u64 {
        let mut committed = 0;
        loop {
            committed += self.round();
            if !self.busy() {
                return committed;
            }
        }
    }
}

// ---- raft-fsm ----

struct FsmCluster {
    nodes: Vec<raft_fsm::Node>,
    storage: Vec<raft_fsm::MemStorage>,
    inbox: VecDeque<raft_fsm::Message>,
}

impl FsmCluster {
    fn new() -> FsmCluster {
        let voters = [1, 2, 3];
        let nodes = voters
            .iter()
            .map(|&id| {
                let mut config = raft_fsm::Config::new(id, &voters);
                // Server 1 times out first and wins; the others would wait much longer.
                config.election_timeout_min = if id == 1 { 2 } else { 50 };
                config.election_timeout_max = config.election_timeout_min + 1;
                config.heartbeat_interval = 1;
                raft_fsm::Node::new(config).expect("valid configuration")
            })
            .collect();
        let mut cluster = FsmCluster {
            nodes,
            storage: vec![raft_fsm::MemStorage::new(); 3],
            inbox: VecDeque::new(),
        };
        for _ in 0..3 {
            for node in &mut cluster.nodes {
                node.tick();
            }
            cluster.settle();
        }
        assert_eq!(cluster.nodes[0].role(), raft_fsm::RoleKind::Leader);
        cluster
    }
}

impl Cluster for FsmCluster {
    fn propose(&mut self, data: &[u8]) {
        self.nodes[0].propose(data).expect("server 1 leads");
    }

    fn round(&mut self) -> u64 {
        let mut committed = 0;
        for (i, node) in self.nodes.iter_mut().enumerate() {
            if !node.has_ready() {
                continue;
            }
            let out = node
                .ready()
                .persist(&mut self.storage[i])
                .expect("memory storage");
            if i == 0 {
                committed += out
                    .committed
                    .iter()
                    .filter(|e| e.kind == raft_fsm::EntryKind::Command)
                    .count() as u64;
            }
            black_box(&out.committed);
            self.inbox.extend(out.messages);
        }
        while let Some(message) = self.inbox.pop_front() {
            let to = (message.to - 1) as usize;
            self.nodes[to].step(message);
        }
        committed
    }

    fn busy(&self) -> bool {
        self.nodes.iter().any(raft_fsm::Node::has_ready)
    }
}

// ---- raft-rs ----

struct RsCluster {
    nodes: Vec<raft::RawNode<raft::storage::MemStorage>>,
    inbox: VecDeque<raft::eraftpb::Message>,
}

impl RsCluster {
    fn new() -> RsCluster {
        let logger = raft::default_logger();
        let nodes = (1..=3u64)
            .map(|id| {
                let config = raft::Config {
                    id,
                    election_tick: 10,
                    heartbeat_tick: 3,
                    max_inflight_msgs: 256,
                    max_size_per_msg: 1024 * 1024,
                    ..Default::default()
                };
                let storage =
                    raft::storage::MemStorage::new_with_conf_state((vec![1, 2, 3], vec![]));
                let mut node =
                    raft::RawNode::new(&config, storage, &logger).expect("valid configuration");
                // Like raft-fsm, tell followers the commit index with the next append
                // rather than with a message of its own.
                node.skip_bcast_commit(true);
                node
            })
            .collect();
        let mut cluster = RsCluster {
            nodes,
            inbox: VecDeque::new(),
        };
        cluster.nodes[0].campaign().expect("campaign");
        cluster.settle();
        assert_eq!(cluster.nodes[0].raft.state, raft::StateRole::Leader);
        cluster
    }

    /// The ready loop of raft-rs's own examples: send, persist, advance, apply.
    fn handle_ready(&mut self, i: usize) -> u64 {
        let node = &mut self.nodes[i];
        if !node.has_ready() {
            return 0;
        }
        let store = node.raft.raft_log.store.clone();
        let mut ready = node.ready();
        self.inbox.extend(ready.take_messages());
        let mut committed = count_normal(&ready.take_committed_entries());
        if !ready.entries().is_empty() {
            store.wl().append(ready.entries()).expect("memory storage");
        }
        if let Some(hs) = ready.hs() {
            store.wl().set_hardstate(hs.clone());
        }
        self.inbox.extend(ready.take_persisted_messages());
        let mut light = node.advance(ready);
        if let Some(commit) = light.commit_index() {
            store.wl().mut_hard_state().set_commit(commit);
        }
        self.inbox.extend(light.take_messages());
        committed += count_normal(&light.take_committed_entries());
        node.advance_apply();
        if i == 0 { committed } else { 0 }
    }
}

fn count_normal(entries: &[raft::eraftpb::Entry]) -> u64 {
    black_box(entries);
    entries.iter().filter(|e| !e.data.is_empty()).count() as u64
}

impl Cluster for RsCluster {
    fn propose(&mut self, data: &[u8]) {
        self.nodes[0]
            .propose(Vec::new(), data.to_vec())
            .expect("server 1 leads");
    }

    fn round(&mut self) -> u64 {
        let mut committed = 0;
        for i in 0..self.nodes.len() {
            committed += self.handle_ready(i);
        }
        while let Some(message) = self.inbox.pop_front() {
            let to = (message.to - 1) as usize;
            self.nodes[to]
                .step(message)
                .expect("a message of this cluster");
        }
        committed
    }

    fn busy(&self) -> bool {
        self.nodes.iter().any(raft::RawNode::has_ready)
    }
}

// ---- the workloads ----

/// Commits `count` proposals, keeping `window` outstanding, and returns the time taken.
fn commit(cluster: &mut impl Cluster, count: u64, window: u64) -> Duration {
    let payload = [7u8; PAYLOAD];
    let start = Instant::now();
    let (mut proposed, mut committed) = (0, 0);
    while committed < count {
        while proposed < count && proposed - committed < window {
            cluster.propose(&payload);
            proposed += 1;
        }
        committed += cluster.round();
    }
    let elapsed = start.elapsed();
    assert_eq!(committed, count, "every proposal commits, once");
    elapsed
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("raft/commit");
    group.throughput(Throughput::Elements(1));
    for (name, window) in [("one-outstanding", 1), ("64-in-flight", 64)] {
        group.bench_function(format!("raft-fsm/{name}"), |b| {
            let mut cluster = FsmCluster::new();
            commit(&mut cluster, 100, window);
            b.iter_custom(|iters| commit(&mut cluster, iters, window));
        });
        group.bench_function(format!("raft-rs/{name}"), |b| {
            let mut cluster = RsCluster::new();
            commit(&mut cluster, 100, window);
            b.iter_custom(|iters| commit(&mut cluster, iters, window));
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
