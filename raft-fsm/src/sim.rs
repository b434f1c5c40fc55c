//! A deterministic cluster simulator: N nodes over an in-memory network, one seed.
//!
//! [`Cluster`] is the driver around [`Node`]: it ticks every live server, delivers
//! messages through its in-memory transport, a network that can misbehave ([`NetConfig`]:
//! drop, delay, reordering, duplication; plus partitions including one-way cuts),
//! persists each [`Ready`](crate::Ready) into a [`MemStorage`] per server, crashes and
//! restarts servers from that storage, and applies committed entries to a per-server
//! state machine (the list of applied entries).
//!
//! Every random choice comes from one seeded generator in a fixed order, so a seed
//! replays bit for bit; [`Cluster::trace_hash`] digests everything that happened.
//!
//! After every step (a tick of one server, one delivery, one proposal) the [`Checker`]
//! verifies the safety properties of Raft Figure 3 over the whole history: Election
//! Safety, Leader Append-Only, Log Matching, Leader Completeness and State Machine Safety,
//! plus monotonic term, commit index and applied index. The first violation stops the
//! cluster and, unless [`Cluster::set_strict`] turned it off, panics with a readable
//! trace: the last events, each server's role breadcrumbs and the command to replay it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::fmt::{self, Write as _};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::message::{AppendReply, Body, Entry, Message, NodeId};
use crate::node::{Config, Node, ProposeError, RoleKind};
use crate::storage::{MemStorage, Storage};

/// How the simulated network misbehaves. Probabilities are in thousandths, times in
/// ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetConfig {
    /// Chance that a message is lost.
    pub drop_per_mille: u32,
    /// Chance that a message is delivered twice.
    pub duplicate_per_mille: u32,
    /// The shortest delay.
    pub min_delay: u64,
    /// The longest ordinary delay; delays are drawn uniformly, so messages overtake one
    /// another (reordering).
    pub max_delay: u64,
    /// Chance that a reply is held back much longer (the 6.5840 "long reordering", which
    /// delays replies only).
    pub long_delay_per_mille: u32,
    /// The shortest such delay, added to the ordinary one.
    pub long_delay_min: u64,
    /// The longest such delay.
    pub long_delay_max: u64,
}

impl NetConfig {
    /// Every message arrives one tick later, in order.
    pub const fn reliable() -> NetConfig {
        NetConfig {
            drop_per_mille: 0,
            duplicate_per_mille: 0,
            min_delay: 1,
            max_delay: 1,
            long_delay_per_mille: 0,
            long_delay_min: 0,
            long_delay_max: 0,
        }
    }

    /// The 6.5840 unreliable network: 10% lost, some duplicated, delays of 1–2 ticks.
    pub const fn unreliable() -> NetConfig {
        NetConfig {
            drop_per_mille: 100,
            duplicate_per_mille: 20,
            min_delay: 1,
            max_delay: 2,
            long_delay_per_mille: 0,
            long_delay_min: 0,
            long_delay_max: 0,
        }
    }

    /// Unreliable, and two thirds of the replies held back 7 to 73 ticks (200–2200 ms at
    /// 30 ms a tick), as in the 6.5840 lab.
    pub const fn long_reordering() -> NetConfig {
        NetConfig {
            long_delay_per_mille: 667,
            long_delay_min: 7,
            long_delay_max: 73,
            ..NetConfig::unreliable()
        }
    }
}

/// Traffic counters, for the 6.5840 RPC-count and byte budgets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Requests (RequestVote, AppendEntries) handed to the network.
    pub requests: u64,
    /// Replies handed to the network.
    pub replies: u64,
    /// Encoded bytes of every message handed to the network.
    pub bytes: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages lost (dropped, cut by a partition, or addressed to a crashed server).
    pub lost: u64,
}

/// One line of the trace.
#[derive(Debug, Clone)]
enum Event {
    Tick(u64),
    Deliver(Message),
    Lost(Message, &'static str),
    Propose {
        id: NodeId,
        index: u64,
        term: u64,
    },
    Role {
        id: NodeId,
        term: u64,
        role: RoleKind,
    },
    Commit {
        id: NodeId,
        index: u64,
    },
    Crash(NodeId),
    Restart(NodeId),
    Net(String),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::Tick(now) => write!(f, "tick {now}"),
            Event::Deliver(m) => write!(f, "deliver {}", Summary(m)),
            Event::Lost(m, why) => write!(f, "lost ({why}) {}", Summary(m)),
            Event::Propose { id, index, term } => {
                write!(f, "n{id} proposes index {index} in term {term}")
            }
            Event::Role { id, term, role } => write!(f, "n{id} is {role:?} in term {term}"),
            Event::Commit { id, index } => write!(f, "n{id} commits up to {index}"),
            Event::Crash(id) => write!(f, "n{id} crashes"),
            Event::Restart(id) => write!(f, "n{id} restarts from storage"),
            Event::Net(what) => f.write_str(what),
        }
    }
}

/// A message in one line.
struct Summary<'a>(&'a Message);

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(f, "n{}->n{} t{} ", m.from, m.to, m.term)?;
        match &m.body {
            Body::RequestVote {
                last_log_index,
                last_log_term,
            } => write!(f, "RequestVote last=({last_log_index},t{last_log_term})"),
            Body::VoteReply(r) => write!(f, "VoteReply granted={}", r.granted()),
            Body::AppendEntries(a) => write!(
                f,
                "AppendEntries prev=({},t{}) n={} commit={}",
                a.prev_log_index,
                a.prev_log_term,
                a.entries.len(),
                a.leader_commit
            ),
            Body::AppendReply(AppendReply::Accepted { match_index }) => {
                write!(f, "AppendReply ok match={match_index}")
            }
            Body::AppendReply(AppendReply::Rejected {
                prev_log_index,
                conflict_term,
                conflict_index,
            }) => write!(
                f,
                "AppendReply reject prev={prev_log_index} conflict=({conflict_index},{conflict_term:?})"
            ),
        }
    }
}

/// A safety property that failed, with the trace that led to it.
#[derive(Debug, Clone)]
pub struct Violation {
    /// Which property, and how.
    pub what: String,
    /// The seed of the run.
    pub seed: u64,
    /// The simulated time.
    pub tick: u64,
    /// The last events, the breadcrumbs of each server and the replay command.
    pub report: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "safety violation at tick {} (seed {}): {}\n{}",
            self.tick, self.seed, self.what, self.report
        )
    }
}

impl std::error::Error for Violation {}

/// A message on the wire, ordered by delivery time and then by sending order.
#[derive(Debug)]
struct InFlight {
    at: u64,
    seq: u64,
    message: Message,
}

impl PartialEq for InFlight {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for InFlight {}

impl PartialOrd for InFlight {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for InFlight {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// One simulated server: its node while it is up, and what survives a crash.
#[derive(Debug)]
struct Server {
    node: Option<Node>,
    storage: MemStorage,
    /// The state machine: every entry applied since the last restart, in order.
    applied: Vec<Entry>,
    incarnation: u64,
}

/// How many trace events a failure report shows.
const TRACE_LEN: usize = 80;

/// N servers, a network and a checker, driven by one seed. See the
/// [module documentation](self).
#[derive(Debug)]
pub struct Cluster {
    seed: u64,
    configs: Vec<Config>,
    servers: Vec<Server>,
    net: NetConfig,
    queue: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    /// `cut[from][to]`: messages from `from` to `to` are lost.
    cut: Vec<Vec<bool>>,
    rng: StdRng,
    now: u64,
    checker: Checker,
    trace: VecDeque<Event>,
    hash: u64,
    stats: Stats,
    strict: bool,
    replay_hint: String,
    violation: Option<Violation>,
    scratch: Vec<u8>,
}

impl Cluster {
    /// A cluster of `n` servers, identified 1 to `n`, with default [`Config`]s and a
    /// reliable network.
    pub fn new(n: usize, seed: u64) -> Cluster {
        Cluster::with_config(n, seed, |_| {})
    }

    /// As [`Cluster::new`], with each server's configuration adjusted by `adjust`.
    ///
    /// # Panics
    ///
    /// When `adjust` makes a configuration invalid: the simulator is a test tool.
    pub fn with_config(n: usize, seed: u64, adjust: impl Fn(&mut Config)) -> Cluster {
        let ids: Vec<NodeId> = (1..=n as u64).collect();
        let configs: Vec<Config> = ids
            .iter()
            .map(|&id| {
                let mut config = Config::new(id, &ids);
                config.seed = seed;
                adjust(&mut config);
                config
            })
            .collect();
        let servers = configs
            .iter()
            .map(|config| Server {
                node: Some(Node::new(config.clone()).expect("a valid simulator configuration")),
                storage: MemStorage::new(),
                applied: Vec::new(),
                incarnation: 0,
            })
            .collect();
        Cluster {
            seed,
            configs,
            servers,
            net: NetConfig::reliable(),
            queue: BinaryHeap::new(),
            seq: 0,
            cut: vec![vec![false; n + 1]; n + 1],
            rng: StdRng::seed_from_u64(seed),
            now: 0,
            checker: Checker::new(n),
            trace: VecDeque::with_capacity(TRACE_LEN),
            hash: FNV_OFFSET,
            stats: Stats::default(),
            strict: true,
            replay_hint: format!("RAFT_SEED={seed} cargo test -p raft-fsm"),
            violation: None,
            scratch: Vec::new(),
        }
    }

    /// Whether a violation panics (the default) or is only recorded, for
    /// [`Cluster::violation`].
    pub fn set_strict(&mut self, strict: bool) {
        self.strict = strict;
    }

    /// The command printed in a failure report to replay the run.
    pub fn set_replay_hint(&mut self, hint: impl Into<String>) {
        self.replay_hint = hint.into();
    }

    /// Changes how the network behaves from now on.
    pub fn set_net(&mut self, net: NetConfig) {
        self.record(Event::Net(format!("network now {net:?}")));
        self.net = net;
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The simulated time, in ticks.
    pub fn now(&self) -> u64 {
        self.now
    }

    /// The identifiers of all servers, 1 to N.
    pub fn ids(&self) -> impl Iterator<Item = NodeId> + use<> {
        1..=self.servers.len() as u64
    }

    /// The first violation, when [`Cluster::set_strict`] turned panics off.
    pub fn violation(&self) -> Option<&Violation> {
        self.violation.as_ref()
    }

    /// Traffic so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// A digest of every event of the run: equal digests mean equal runs.
    pub fn trace_hash(&self) -> u64 {
        self.hash
    }

    /// Server `id`'s node, when it is up.
    pub fn node(&self, id: NodeId) -> Option<&Node> {
        self.server(id)?.node.as_ref()
    }

    /// The entries server `id` applied since its last restart (no-ops included).
    pub fn applied(&self, id: NodeId) -> &[Entry] {
        self.server(id).map_or(&[], |s| &s.applied)
    }

    /// The commands server `id` applied since its last restart, no-ops left out.
    pub fn applied_commands(&self, id: NodeId) -> Vec<&[u8]> {
        self.applied(id)
            .iter()
            .filter(|e| e.kind == crate::message::EntryKind::Command)
            .map(|e| &e.data[..])
            .collect()
    }

    /// How many servers applied the entry at `index`, and its data (the checker has made
    /// sure they all agree).
    pub fn committed_at(&self, index: u64) -> (usize, Option<&[u8]>) {
        let mut count = 0;
        let mut data = None;
        for server in &self.servers {
            if let Some(entry) = index
                .checked_sub(1)
                .and_then(|i| server.applied.get(usize::try_from(i).ok()?))
            {
                count += 1;
                data = Some(&entry.data[..]);
            }
        }
        (count, data)
    }

    /// Every live server that believes it leads, as `(id, term)`, highest term first. A
    /// leader cut off from the majority still believes it, until it hears a later term.
    pub fn leaders(&self) -> Vec<(NodeId, u64)> {
        let mut leaders: Vec<(NodeId, u64)> = self
            .servers
            .iter()
            .filter_map(|s| s.node.as_ref())
            .filter(|n| n.role() == RoleKind::Leader)
            .map(|n| (n.id(), n.core().term()))
            .collect();
        leaders.sort_by_key(|&(id, term)| (Reverse(term), id));
        leaders
    }

    /// Whether server `id` is up.
    pub fn is_up(&self, id: NodeId) -> bool {
        self.node(id).is_some()
    }

    fn server(&self, id: NodeId) -> Option<&Server> {
        self.servers.get(usize::try_from(id.checked_sub(1)?).ok()?)
    }

    fn slot(id: NodeId) -> usize {
        // Identifiers come from `ids`, so they are 1..=N.
        usize::try_from(id - 1).unwrap_or(usize::MAX)
    }

    /// Runs `ticks` ticks.
    pub fn run(&mut self, ticks: u64) {
        for _ in 0..ticks {
            self.tick();
        }
    }

    /// Runs until `done` holds (checked after each tick) or `limit` ticks passed; returns
    /// whether it held.
    pub fn run_until(&mut self, limit: u64, mut done: impl FnMut(&Cluster) -> bool) -> bool {
        for _ in 0..limit {
            if done(self) {
                return true;
            }
            self.tick();
        }
        done(self)
    }

    /// One tick: every live server's clock moves, then every message due is delivered.
    ///
    /// # Panics
    ///
    /// On a safety violation, with the report, unless [`Cluster::set_strict`] turned
    /// panics off; so do every other method that makes a server take a step.
    pub fn tick(&mut self) {
        if self.violation.is_some() {
            return;
        }
        self.now += 1;
        self.record(Event::Tick(self.now));
        for slot in 0..self.servers.len() {
            if let Some(node) = self.servers[slot].node.as_mut() {
                node.tick();
                self.after_step(slot);
            }
        }
        while self
            .queue
            .peek()
            .is_some_and(|Reverse(next)| next.at <= self.now)
        {
            let Some(Reverse(flight)) = self.queue.pop() else {
                break;
            };
            self.deliver(flight.message);
            if self.violation.is_some() {
                return;
            }
        }
    }

    fn deliver(&mut self, message: Message) {
        let to = Cluster::slot(message.to);
        if self.is_cut(message.from, message.to) {
            self.lose(message, "partition");
            return;
        }
        if self.servers.get(to).and_then(|s| s.node.as_ref()).is_none() {
            self.lose(message, "server down");
            return;
        }
        self.stats.delivered += 1;
        self.hash_message(&message, 1);
        if let Some(node) = self.servers[to].node.as_mut() {
            node.step(message.clone());
        }
        self.record(Event::Deliver(message));
        self.after_step(to);
    }

    /// Proposes `data` at server `id`.
    ///
    /// # Errors
    ///
    /// The node's [`ProposeError`]; a server that is down answers
    /// [`ProposeError::NotLeader`] with no known leader.
    pub fn propose(&mut self, id: NodeId, data: &[u8]) -> Result<(u64, u64), ProposeError> {
        let slot = Cluster::slot(id);
        let Some(node) = self.servers.get_mut(slot).and_then(|s| s.node.as_mut()) else {
            return Err(ProposeError::NotLeader { id, leader: None });
        };
        let (index, term) = node.propose(data)?;
        self.record(Event::Propose { id, index, term });
        self.after_step(slot);
        Ok((index, term))
    }

    /// Proposes `data` at whichever live server leads in the highest term.
    pub fn propose_to_leader(&mut self, data: &[u8]) -> Option<(NodeId, u64, u64)> {
        let (leader, _) = *self.leaders().first()?;
        let (index, term) = self.propose(leader, data).ok()?;
        Some((leader, index, term))
    }

    /// Crashes server `id`: its node and its volatile state are gone, its storage stays
    /// (everything it persisted was synced), and messages to it are lost.
    pub fn crash(&mut self, id: NodeId) {
        let slot = Cluster::slot(id);
        if let Some(server) = self.servers.get_mut(slot)
            && server.node.take().is_some()
        {
            server.applied.clear();
            self.checker.crashed(slot);
            self.record(Event::Crash(id));
        }
    }

    /// Restarts server `id` from its storage (a crash first, if it is up).
    ///
    /// # Panics
    ///
    /// When the node refuses its own storage, which the simulator never corrupts.
    pub fn restart(&mut self, id: NodeId) {
        self.crash(id);
        let slot = Cluster::slot(id);
        let Some(server) = self.servers.get_mut(slot) else {
            return;
        };
        server.incarnation += 1;
        let mut config = self.configs[slot].clone();
        config.seed = self.seed ^ server.incarnation.rotate_left(32);
        let stored = server.storage.load().expect("memory storage loads");
        let node = Node::restart(config, stored).expect("the simulator's storage is sound");
        self.checker.restarted(slot, node.core().log().entries());
        server.node = Some(node);
        self.record(Event::Restart(id));
        self.after_step(slot);
    }

    /// Cuts every link to and from server `id`.
    pub fn disconnect(&mut self, id: NodeId) {
        for other in self.ids() {
            self.set_cut(id, other, true);
            self.set_cut(other, id, true);
        }
        self.record(Event::Net(format!("n{id} disconnected")));
    }

    /// Restores every link to and from server `id`.
    pub fn connect(&mut self, id: NodeId) {
        for other in self.ids() {
            self.set_cut(id, other, false);
            self.set_cut(other, id, false);
        }
        self.record(Event::Net(format!("n{id} connected")));
    }

    /// Cuts the link from `from` to `to` only: a one-way partition.
    pub fn cut_one_way(&mut self, from: NodeId, to: NodeId) {
        self.set_cut(from, to, true);
        self.record(Event::Net(format!("n{from}->n{to} cut")));
    }

    /// Splits the servers into `groups`; servers in different groups cannot talk, and a
    /// server in no group is cut from all.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        let group_of = |id: NodeId| groups.iter().position(|g| g.contains(&id));
        for a in self.ids() {
            for b in self.ids() {
                let together = group_of(a).is_some() && group_of(a) == group_of(b);
                self.set_cut(a, b, !together && a != b);
            }
        }
        self.record(Event::Net(format!("partition {groups:?}")));
    }

    /// Restores every link.
    pub fn heal(&mut self) {
        for row in &mut self.cut {
            row.fill(false);
        }
        self.record(Event::Net("network healed".to_owned()));
    }

    fn set_cut(&mut self, from: NodeId, to: NodeId, cut: bool) {
        if let Some(cell) = usize::try_from(from)
            .ok()
            .and_then(|f| self.cut.get_mut(f))
            .and_then(|row| row.get_mut(usize::try_from(to).ok()?))
        {
            *cell = cut;
        }
    }

    fn is_cut(&self, from: NodeId, to: NodeId) -> bool {
        let (Ok(from), Ok(to)) = (usize::try_from(from), usize::try_from(to)) else {
            return true;
        };
        self.cut
            .get(from)
            .and_then(|row| row.get(to))
            .copied()
            .unwrap_or(true)
    }

    /// Persists the server's Ready, sends its messages, applies its committed entries,
    /// then checks every property.
    fn after_step(&mut self, slot: usize) {
        let server = &mut self.servers[slot];
        let Some(node) = server.node.as_mut() else {
            return;
        };
        let ready = node.ready();
        let changed = ready.entries().to_vec();
        let persisted = match ready.persist(&mut server.storage) {
            Ok(persisted) => persisted,
            Err(error) => {
                self.fail(format!("memory storage failed: {error}"));
                return;
            }
        };
        for entry in &persisted.committed {
            server.applied.push(entry.clone());
        }
        self.checker.log_changed(slot, &changed);
        self.checker.applied(slot, &persisted.committed);
        for message in persisted.messages {
            self.send(message);
        }
        self.check(slot);
    }

    fn send(&mut self, message: Message) {
        if message.body.is_request() {
            self.stats.requests += 1;
        } else {
            self.stats.replies += 1;
        }
        self.stats.bytes += message.encoded_len() as u64;
        if self.is_cut(message.from, message.to) {
            self.lose(message, "partition");
            return;
        }
        if self.chance(self.net.drop_per_mille) {
            self.lose(message, "dropped");
            return;
        }
        if self.chance(self.net.duplicate_per_mille) {
            self.enqueue(message.clone());
        }
        self.enqueue(message);
    }

    fn enqueue(&mut self, message: Message) {
        let mut delay = self
            .rng
            .random_range(self.net.min_delay..=self.net.max_delay);
        if !message.body.is_request() && self.chance(self.net.long_delay_per_mille) {
            delay += self
                .rng
                .random_range(self.net.long_delay_min..=self.net.long_delay_max);
        }
        self.seq += 1;
        self.queue.push(Reverse(InFlight {
            at: self.now + delay,
            seq: self.seq,
            message,
        }));
    }

    fn chance(&mut self, per_mille: u32) -> bool {
        per_mille > 0 && self.rng.random_range(0..1000) < per_mille
    }

    fn lose(&mut self, message: Message, why: &'static str) {
        self.stats.lost += 1;
        self.hash_message(&message, 2);
        self.record(Event::Lost(message, why));
    }

    fn hash_message(&mut self, message: &Message, tag: u8) {
        self.scratch.clear();
        self.scratch.push(tag);
        message.encode(&mut self.scratch);
        self.hash = fnv(self.hash, &self.scratch);
    }

    fn record(&mut self, event: Event) {
        let digest = match &event {
            Event::Tick(now) => fnv(self.hash, &now.to_le_bytes()),
            Event::Deliver(_) | Event::Lost(..) => self.hash,
            other => fnv(self.hash, other.to_string().as_bytes()),
        };
        self.hash = digest;
        if self.trace.len() == TRACE_LEN {
            self.trace.pop_front();
        }
        self.trace.push_back(event);
    }

    /// Checks every property after a step of server `slot`.
    fn check(&mut self, slot: usize) {
        let Some(node) = self.servers[slot].node.as_ref() else {
            return;
        };
        let observed = self.checker.observe(slot, node);
        let role_event = observed.new_role.map(|(term, role)| Event::Role {
            id: node.id(),
            term,
            role,
        });
        let commit_event = observed.new_commit.map(|index| Event::Commit {
            id: node.id(),
            index,
        });
        let leaders: Vec<(usize, &Node)> = self
            .servers
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.node.as_ref().map(|n| (i, n)))
            .filter(|(_, n)| n.role() == RoleKind::Leader)
            .collect();
        let result = observed
            .result
            .and_then(|()| self.checker.check_leaders_complete(&leaders));
        if let Some(event) = role_event {
            self.record(event);
        }
        if let Some(event) = commit_event {
            self.record(event);
        }
        if let Err(what) = result {
            self.fail(what);
        }
    }

    fn fail(&mut self, what: String) {
        let violation = Violation {
            what,
            seed: self.seed,
            tick: self.now,
            report: self.report(),
        };
        if self.strict {
            panic!("{violation}");
        }
        self.violation = Some(violation);
    }

    /// The last events, each server's state and breadcrumbs, and the replay command.
    pub fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "last {} events:", self.trace.len());
        for event in &self.trace {
            let _ = writeln!(out, "  {event}");
        }
        for (id, server) in (1u64..).zip(&self.servers) {
            let Some(node) = &server.node else {
                let _ = writeln!(out, "n{id}: down");
                continue;
            };
            let core = node.core();
            let _ = writeln!(
                out,
                "n{}: {:?} term {} vote {:?} leader {:?} log {} (last term {}) commit {}; role moves:",
                node.id(),
                node.role(),
                core.term(),
                core.vote(),
                core.leader(),
                core.log().last_index(),
                core.log().last_term(),
                core.log().commit_index(),
            );
            for crumb in node.history().iter() {
                let _ = writeln!(out, "    {crumb}");
            }
        }
        let _ = writeln!(out, "replay: {}", self.replay_hint);
        out
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a, continued from `hash`: stable across runs and platforms, unlike std's hasher.
fn fnv(mut hash: u64, bytes: &[u8]) -> u64 {
    for &byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn entry_hash(previous: u64, entry: &Entry) -> u64 {
    let mut hash = fnv(previous, &entry.term.to_le_bytes());
    hash = fnv(hash, &entry.index.to_le_bytes());
    hash = fnv(
        hash,
        &[u8::from(entry.kind == crate::message::EntryKind::Noop)],
    );
    fnv(hash, &entry.data)
}

/// What one observation of a server found.
struct Observed {
    new_role: Option<(u64, RoleKind)>,
    new_commit: Option<u64>,
    result: Result<(), String>,
}

/// Per-server state the checker keeps between steps.
#[derive(Debug, Clone, Default)]
struct Watch {
    /// `prefix[i]`: a digest of the server's log up to index `i + 1`.
    prefix: Vec<u64>,
    term: u64,
    role: Option<RoleKind>,
    commit: u64,
    applied: u64,
    /// While the server leads: its term, its last index then, and the digest there.
    leading: Option<(u64, u64, u64)>,
    /// The lowest index changed since the last check, for Log Matching.
    dirty_from: Option<u64>,
}

/// An entry known to be committed.
#[derive(Debug, Clone, Copy)]
struct Committed {
    digest: u64,
    /// The term in which it was committed: Leader Completeness speaks of the leaders of
    /// later terms than that, not of later terms than the entry's own.
    in_term: u64,
}

/// The safety properties of Raft Figure 3, checked over the whole history.
#[derive(Debug)]
pub struct Checker {
    watch: Vec<Watch>,
    /// Election Safety: the leader of each term ever seen.
    leaders: HashMap<u64, NodeId>,
    /// Log Matching: the prefix digest of every (index, term) ever stored anywhere.
    seen: HashMap<(u64, u64), u64>,
    /// State Machine Safety: for each index any server committed, the entry's term, the
    /// prefix digest, and the term in which it was first seen committed (by the leader
    /// that committed it, since that leader's commit index moves first).
    committed: Vec<Committed>,
}

impl Checker {
    fn new(n: usize) -> Checker {
        Checker {
            watch: vec![Watch::default(); n],
            leaders: HashMap::new(),
            seen: HashMap::new(),
            committed: Vec::new(),
        }
    }

    /// The server's log changed from the first of `changed` on.
    fn log_changed(&mut self, slot: usize, changed: &[Entry]) {
        let Some(first) = changed.first() else {
            return;
        };
        let watch = &mut self.watch[slot];
        let keep = usize::try_from(first.index.saturating_sub(1)).unwrap_or(usize::MAX);
        watch.prefix.truncate(keep);
        watch.dirty_from = Some(watch.dirty_from.map_or(first.index, |d| d.min(first.index)));
        for entry in changed {
            let previous = watch.prefix.last().copied().unwrap_or(FNV_OFFSET);
            watch.prefix.push(entry_hash(previous, entry));
        }
    }

    fn crashed(&mut self, slot: usize) {
        let watch = &mut self.watch[slot];
        watch.role = None;
        watch.commit = 0;
        watch.applied = 0;
        watch.leading = None;
    }

    fn restarted(&mut self, slot: usize, entries: &[Entry]) {
        let watch = &mut self.watch[slot];
        watch.prefix.clear();
        self.log_changed(slot, entries);
    }

    /// State Machine Safety and a gap-free apply order.
    fn applied(&mut self, slot: usize, entries: &[Entry]) {
        let watch = &mut self.watch[slot];
        for entry in entries {
            watch.applied += 1;
            if entry.index != watch.applied {
                // Recorded as a commit mismatch below through `applied`.
                watch.applied = u64::MAX;
                return;
            }
        }
    }

    fn observe(&mut self, slot: usize, node: &Node) -> Observed {
        let mut observed = Observed {
            new_role: None,
            new_commit: None,
            result: Ok(()),
        };
        let core = node.core();
        let log = core.log();
        let id = node.id();
        let (term, role) = (core.term(), node.role());
        if self.watch[slot].role != Some(role) || self.watch[slot].term != term {
            observed.new_role = Some((term, role));
        }
        if log.commit_index() > self.watch[slot].commit {
            observed.new_commit = Some(log.commit_index());
        }
        observed.result = self
            .check_log(slot, node)
            .and_then(|()| self.check_monotonic(slot, node))
            .and_then(|()| self.check_election(slot, id, term, role, node))
            .and_then(|()| self.check_committed(slot, node));
        let watch = &mut self.watch[slot];
        watch.term = term;
        watch.role = Some(role);
        watch.commit = log.commit_index();
        observed
    }

    /// The digests follow the log, and Log Matching holds for every entry stored.
    fn check_log(&mut self, slot: usize, node: &Node) -> Result<(), String> {
        let log = node.core().log();
        let watch = &self.watch[slot];
        if watch.prefix.len() as u64 != log.last_index() {
            return Err(format!(
                "n{}'s log changed without being handed to storage: {} entries, {} persisted",
                node.id(),
                log.last_index(),
                watch.prefix.len()
            ));
        }
        // Only the suffix the last Ready reported can hold entries not checked before.
        let from = watch.dirty_from.unwrap_or(u64::MAX);
        let skip = usize::try_from(from.saturating_sub(1)).unwrap_or(usize::MAX);
        for (entry, &digest) in log.entries().iter().zip(&watch.prefix).skip(skip) {
            let known = *self.seen.entry((entry.index, entry.term)).or_insert(digest);
            if known != digest {
                return Err(format!(
                    "Log Matching: n{} holds entry {} of term {} with a different history \
                     than another server's",
                    node.id(),
                    entry.index,
                    entry.term
                ));
            }
        }
        self.watch[slot].dirty_from = None;
        Ok(())
    }

    fn check_monotonic(&self, slot: usize, node: &Node) -> Result<(), String> {
        let watch = &self.watch[slot];
        let core = node.core();
        if core.term() < watch.term {
            return Err(format!(
                "n{}'s term went down: {} -> {}",
                node.id(),
                watch.term,
                core.term()
            ));
        }
        if core.log().commit_index() < watch.commit {
            return Err(format!(
                "n{}'s commit index went down: {} -> {}",
                node.id(),
                watch.commit,
                core.log().commit_index()
            ));
        }
        if watch.applied == u64::MAX || watch.applied > core.log().commit_index() {
            return Err(format!(
                "n{} applied out of order or past its commit index {}",
                node.id(),
                core.log().commit_index()
            ));
        }
        Ok(())
    }

    /// Election Safety, Leader Append-Only and Leader Completeness at election.
    fn check_election(
        &mut self,
        slot: usize,
        id: NodeId,
        term: u64,
        role: RoleKind,
        node: &Node,
    ) -> Result<(), String> {
        let watch = &mut self.watch[slot];
        if role != RoleKind::Leader {
            watch.leading = None;
            return Ok(());
        }
        let last = node.core().log().last_index();
        let digest_at = |index: u64| -> u64 {
            index
                .checked_sub(1)
                .and_then(|i| watch.prefix.get(usize::try_from(i).ok()?))
                .copied()
                .unwrap_or(FNV_OFFSET)
        };
        if let Some((lead_term, lead_last, lead_digest)) = watch.leading
            && lead_term == term
        {
            if last < lead_last || digest_at(lead_last) != lead_digest {
                return Err(format!(
                    "Leader Append-Only: leader n{id} of term {term} changed its log at or before index {lead_last}"
                ));
            }
            watch.leading = Some((term, last, digest_at(last)));
            return Ok(());
        }
        watch.leading = Some((term, last, digest_at(last)));
        let elected = *self.leaders.entry(term).or_insert(id);
        if elected != id {
            return Err(format!(
                "Election Safety: n{elected} and n{id} both won term {term}"
            ));
        }
        // Leader Completeness: every entry committed in an earlier term is in its log.
        let earlier = self.committed.partition_point(|c| c.in_term < term) as u64;
        let Some(digest) = self.committed_digest(earlier) else {
            return Ok(());
        };
        if last < earlier || self.digest(slot, earlier) != digest {
            return Err(format!(
                "Leader Completeness: n{id}, leader of term {term}, lacks committed entries up to {earlier}"
            ));
        }
        Ok(())
    }

    fn committed_digest(&self, index: u64) -> Option<u64> {
        let i = usize::try_from(index.checked_sub(1)?).ok()?;
        self.committed.get(i).map(|c| c.digest)
    }

    fn digest(&self, slot: usize, index: u64) -> u64 {
        index
            .checked_sub(1)
            .and_then(|i| self.watch[slot].prefix.get(usize::try_from(i).ok()?))
            .copied()
            .unwrap_or(FNV_OFFSET)
    }

    /// State Machine Safety: what a server holds as committed agrees with what any
    /// server ever committed at those indexes; new commits extend the record.
    fn check_committed(&mut self, slot: usize, node: &Node) -> Result<(), String> {
        let commit = node.core().log().commit_index();
        if commit == 0 {
            return Ok(());
        }
        let known = self.committed.len() as u64;
        let shared = commit.min(known);
        if let Some(digest) = self.committed_digest(shared)
            && self.digest(slot, shared) != digest
        {
            return Err(format!(
                "State Machine Safety: n{} committed a different entry at or before index {shared}",
                node.id()
            ));
        }
        // Kept non-decreasing, so that it can be searched by term.
        let in_term = self
            .committed
            .last()
            .map_or(0, |c| c.in_term)
            .max(node.core().term());
        for index in known + 1..=commit {
            let digest = self.digest(slot, index);
            self.committed.push(Committed { digest, in_term });
        }
        Ok(())
    }

    /// Leader Completeness after a commit: every live leader of a later term holds every
    /// committed entry of an earlier term.
    fn check_leaders_complete(&self, leaders: &[(usize, &Node)]) -> Result<(), String> {
        for &(slot, node) in leaders {
            let term = node.core().term();
            let earlier = self.committed.partition_point(|c| c.in_term < term) as u64;
            let Some(digest) = self.committed_digest(earlier) else {
                continue;
            };
            if self.digest(slot, earlier) != digest {
                return Err(format!(
                    "Leader Completeness: n{}, leader of term {term}, lacks committed entries up to {earlier}",
                    node.id()
                ));
            }
        }
        Ok(())
    }
}
