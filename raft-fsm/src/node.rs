//! The sans-I/O Raft server: ticks and messages in, a [`Ready`] batch out.
//!
//! A [`Node`] owns its role (a [`Role`] typestate behind the run-time enum), its clock in
//! ticks and a seeded random number generator for election timeouts. It never reads a
//! clock, sleeps, sends or writes: the driver calls [`Node::tick`], [`Node::step`] and
//! [`Node::propose`], then takes [`Node::ready`] and persists it, which releases the
//! messages to send and the committed entries to apply.

use std::sync::Arc;

use fsm_core::History;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use thiserror::Error;

use crate::log::AppendError;
use crate::machine::{Core, Role, role};
use crate::message::{AppendEntries, AppendReply, Body, Message, NodeId, VoteReply};
use crate::progress::Mode;
use crate::ready::{Outgoing, Ready};
use crate::storage::{HardState, Persistent};

/// How many role moves each node keeps as breadcrumbs for traces.
pub const HISTORY_LEN: usize = 32;

/// The breadcrumbs of a node's role moves.
pub type RoleHistory = History<role::Spec, HISTORY_LEN>;

type Runtime = role::Runtime<RoleHistory>;

/// The settings of one server. Times are in ticks: the driver decides what a tick is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// This server.
    pub id: NodeId,
    /// Every voting server of the cluster, this one included.
    pub voters: Vec<NodeId>,
    /// The shortest election timeout; each timeout is drawn from
    /// `election_timeout_min..election_timeout_max` (Raft §5.2, "randomized").
    pub election_timeout_min: u32,
    /// One past the longest election timeout.
    pub election_timeout_max: u32,
    /// How often a leader sends AppendEntries to an idle follower; well below the
    /// election timeout (Raft §5.6: broadcastTime ≪ electionTimeout).
    pub heartbeat_interval: u32,
    /// How many AppendEntries a leader keeps in flight to one replicating follower.
    pub max_inflight: usize,
    /// The most entries one AppendEntries carries.
    pub max_entries_per_message: usize,
    /// Seeds the election timeouts, so that a run replays exactly.
    pub seed: u64,
}

impl Config {
    /// Defaults for server `id` of `voters`: timeouts of 10–19 ticks, a heartbeat every
    /// 3 ticks, 64 requests in flight, 64 entries per request.
    pub fn new(id: NodeId, voters: &[NodeId]) -> Config {
        Config {
            id,
            voters: voters.to_vec(),
            election_timeout_min: 10,
            election_timeout_max: 20,
            heartbeat_interval: 3,
            max_inflight: 64,
            max_entries_per_message: 64,
            seed: id,
        }
    }

    /// Checks that the settings make sense together.
    ///
    /// # Errors
    ///
    /// The first [`ConfigError`] found.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !self.voters.contains(&self.id) {
            return Err(ConfigError::NotAVoter { id: self.id });
        }
        let mut sorted = self.voters.clone();
        sorted.sort_unstable();
        if let Some(pair) = sorted.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(ConfigError::DuplicateVoter { id: pair[0] });
        }
        if self.election_timeout_min == 0 || self.election_timeout_min >= self.election_timeout_max
        {
            return Err(ConfigError::BadElectionTimeout {
                min: self.election_timeout_min,
                max: self.election_timeout_max,
            });
        }
        if self.heartbeat_interval == 0 || self.heartbeat_interval >= self.election_timeout_min {
            return Err(ConfigError::BadHeartbeat {
                heartbeat: self.heartbeat_interval,
                min: self.election_timeout_min,
            });
        }
        if self.max_inflight == 0 || self.max_entries_per_message == 0 {
            return Err(ConfigError::ZeroWindow);
        }
        Ok(())
    }
}

/// A [`Config`] that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The server is not among the voters.
    #[error("server {id} is not among the voters")]
    NotAVoter {
        /// The server.
        id: NodeId,
    },
    /// A voter is listed twice, which would count its vote twice.
    #[error("voter {id} is listed twice")]
    DuplicateVoter {
        /// The voter.
        id: NodeId,
    },
    /// The timeout range is empty or starts at zero.
    #[error("election timeout range {min}..{max} is empty or starts at 0")]
    BadElectionTimeout {
        /// The minimum.
        min: u32,
        /// The maximum.
        max: u32,
    },
    /// The heartbeat is zero or not shorter than the shortest election timeout, so
    /// followers would start elections under a healthy leader.
    #[error("heartbeat interval {heartbeat} must be in 1..{min} (the shortest election timeout)")]
    BadHeartbeat {
        /// The heartbeat interval.
        heartbeat: u32,
        /// The shortest election timeout.
        min: u32,
    },
    /// `max_inflight` or `max_entries_per_message` is zero: nothing could be sent.
    #[error("max_inflight and max_entries_per_message must be at least 1")]
    ZeroWindow,
}

/// Why a node could not be restarted from storage.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RestartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The stored log is not a log: an index out of place, or terms that go down.
    #[error("stored entry at position {position} has index {index} and term {term}: {reason}")]
    BadLog {
        /// Where in the stored log (from 1).
        position: u64,
        /// The index it claims.
        index: u64,
        /// Its term.
        term: u64,
        /// What is wrong.
        reason: &'static str,
    },
    /// The stored term is older than the last entry's: storage lost a hard state write.
    #[error("stored term {term} is older than the last entry's term {last_term}")]
    TermBehindLog {
        /// The stored term.
        term: u64,
        /// The term of the last stored entry.
        last_term: u64,
    },
}

/// Why a proposal was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum ProposeError {
    /// Only a leader appends to the log (Raft §5.3); ask `leader` instead.
    #[error("server {id} is not the leader; {}", match leader {
        Some(leader) => format!("the leader is {leader}"),
        None => "no leader is known".to_owned(),
    })]
    NotLeader {
        /// This server.
        id: NodeId,
        /// The leader of the current term, when this server knows it.
        leader: Option<NodeId>,
    },
    /// A persist failed earlier and the node stopped; restart it from storage.
    #[error("server {id} stopped after a storage failure; restart it from storage")]
    Stopped {
        /// This server.
        id: NodeId,
    },
}

/// The role a node is in, as a plain value for drivers and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleKind {
    /// See [`role::Follower`].
    Follower,
    /// See [`role::Candidate`].
    Candidate,
    /// See [`role::Leader`].
    Leader,
}

/// A Raft server without I/O. See the [module documentation](self).
#[derive(Debug)]
pub struct Node {
    role: Runtime,
    config: Config,
    rng: StdRng,
    election_elapsed: u32,
    election_timeout: u32,
    heartbeat_elapsed: u32,
    outgoing: Vec<Outgoing>,
    /// The hard state storage last made durable.
    durable: HardState,
    stopped: bool,
}

impl Node {
    /// A new server with empty storage.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] when `config` is invalid.
    pub fn new(config: Config) -> Result<Node, ConfigError> {
        config.validate()?;
        let core = Core::new(config.id);
        Ok(Node::with_core(config, core, HardState::default()))
    }

    /// A server restarted from what its storage kept. Its commit index starts at 0 and
    /// every committed entry is applied again, in order, as the leader tells it.
    ///
    /// # Errors
    ///
    /// [`RestartError`] when `config` is invalid or the stored state is not consistent;
    /// nothing is dropped or repaired silently.
    pub fn restart(config: Config, stored: Persistent) -> Result<Node, RestartError> {
        config.validate()?;
        check_stored(&stored)?;
        let core = Core::restored(config.id, stored.hard_state, stored.entries);
        Ok(Node::with_core(config, core, stored.hard_state))
    }

    fn with_core(config: Config, core: Core, durable: HardState) -> Node {
        // Mix the id in, so that servers given one seed still draw different timeouts.
        let seed = config.seed ^ config.id.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut node = Node {
            role: Role::with_history(core, role::Follower, RoleHistory::new()).into(),
            config,
            rng: StdRng::seed_from_u64(seed),
            election_elapsed: 0,
            election_timeout: 0,
            heartbeat_elapsed: 0,
            outgoing: Vec::new(),
            durable,
            stopped: false,
        };
        node.reset_election_timer();
        node
    }

    /// This server's identifier.
    pub fn id(&self) -> NodeId {
        self.config.id
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Term, vote, leader and log, whatever the role.
    pub fn core(&self) -> &Core {
        self.role.context()
    }

    /// The current role.
    pub fn role(&self) -> RoleKind {
        match &self.role {
            Runtime::Follower(_) => RoleKind::Follower,
            Runtime::Candidate(_) => RoleKind::Candidate,
            Runtime::Leader(_) => RoleKind::Leader,
        }
    }

    /// The role's run-time enum, to inspect the typed role (a leader's progress, a
    /// candidate's tally).
    pub fn role_state(&self) -> &role::Runtime<RoleHistory> {
        &self.role
    }

    /// The last role moves, oldest first: the framework's breadcrumbs.
    pub fn history(&self) -> &RoleHistory {
        self.role.history()
    }

    /// Whether a storage failure stopped the node.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    pub(crate) fn stop(&mut self) {
        self.stopped = true;
    }

    pub(crate) fn durable(&self) -> HardState {
        self.durable
    }

    pub(crate) fn set_durable(&mut self, hard_state: HardState) {
        self.durable = hard_state;
    }

    /// Whether [`Node::ready`] has anything to hand over.
    pub fn has_ready(&self) -> bool {
        let core = self.core();
        !self.stopped
            && (!self.outgoing.is_empty()
                || core.has_hard_state_change()
                || core.log().has_unstable()
                || core.log().has_committed_unapplied())
    }

    /// Takes the outputs gathered since the last call. Persist them with
    /// [`Ready::persist`]; a stopped node hands over an empty batch.
    pub fn ready(&mut self) -> Ready<'_> {
        if self.stopped {
            return Ready::new(self, None, Vec::new(), Vec::new(), Vec::new());
        }
        let outgoing = std::mem::take(&mut self.outgoing);
        let core = self.role.context_mut();
        let hard_state = core.take_hard_state_change();
        let entries = core.log_mut().take_unstable();
        let committed = core.log_mut().take_committed();
        Ready::new(self, hard_state, entries, outgoing, committed)
    }

    /// Advances time by one tick: a follower or candidate may stand for election, a
    /// leader may send heartbeats.
    pub fn tick(&mut self) {
        if self.stopped {
            return;
        }
        if matches!(self.role, Runtime::Leader(_)) {
            self.heartbeat_elapsed += 1;
            if self.heartbeat_elapsed >= self.config.heartbeat_interval {
                self.heartbeat_elapsed = 0;
                self.heartbeat();
            }
            return;
        }
        self.election_elapsed += 1;
        if self.election_elapsed >= self.election_timeout {
            self.campaign();
        }
    }

    /// Appends `data` to the log as a new command, if this server leads, and returns its
    /// index and term. The entry is committed once [`Ready`] hands it over for applying.
    ///
    /// # Errors
    ///
    /// [`ProposeError::NotLeader`], naming the leader when known, or
    /// [`ProposeError::Stopped`].
    pub fn propose(&mut self, data: impl Into<Arc<[u8]>>) -> Result<(u64, u64), ProposeError> {
        let id = self.id();
        if self.stopped {
            return Err(ProposeError::Stopped { id });
        }
        let Runtime::Leader(leader) = &mut self.role else {
            let leader = self.core().leader();
            return Err(ProposeError::NotLeader { id, leader });
        };
        let index = leader.propose(data.into());
        let term = leader.context().term();
        self.maybe_commit();
        self.broadcast_append();
        Ok((index, term))
    }

    /// Handles a message from a peer. A message not addressed to this server, from a
    /// server that is not a voter, or malformed, is dropped (and logged at debug).
    pub fn step(&mut self, message: Message) {
        if self.stopped {
            return;
        }
        let misaddressed = message.to != self.id() || message.from == self.id();
        if misaddressed || !self.config.voters.contains(&message.from) {
            tracing::debug!(
                node = self.id(),
                from = message.from,
                "message for another server or from a stranger dropped"
            );
            return;
        }
        let term = self.core().term();
        if message.term > term {
            // Raft §5.1: a later term makes any server a follower of that term.
            let leader = matches!(message.body, Body::AppendEntries(_)).then_some(message.from);
            self.become_follower(message.term, leader);
        } else if message.term < term {
            self.answer_stale(&message);
            return;
        }
        match message.body {
            Body::RequestVote {
                last_log_index,
                last_log_term,
            } => self.handle_request_vote(message.from, last_log_index, last_log_term),
            // A vote counts only from the voter that sent it.
            Body::VoteReply(reply) if reply.voter() == message.from => {
                self.handle_vote_reply(&reply);
            }
            Body::VoteReply(_) => {
                tracing::debug!(
                    node = self.id(),
                    from = message.from,
                    "vote reply for another voter dropped"
                );
            }
            Body::AppendEntries(append) => self.handle_append(message.from, append),
            Body::AppendReply(reply) => self.handle_append_reply(message.from, reply),
        }
    }

    /// A request from an older term is refused with the current term, which makes its
    /// sender step down (Raft §5.1); an old reply is ignored.
    fn answer_stale(&mut self, message: &Message) {
        let me = self.id();
        let term = self.core().term();
        let body = match &message.body {
            Body::RequestVote { .. } => Body::VoteReply(VoteReply::reject(me, message.from, term)),
            Body::AppendEntries(append) => Body::AppendReply(AppendReply::Rejected {
                prev_log_index: append.prev_log_index,
                conflict_term: None,
                conflict_index: 0,
            }),
            _ => return,
        };
        self.send(message.from, body);
    }

    fn send(&mut self, to: NodeId, body: Body) {
        let message = Message {
            from: self.id(),
            to,
            term: self.core().term(),
            body,
        };
        self.outgoing.push(Outgoing::Send(message));
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        let id = self.id();
        self.config.voters.iter().copied().filter(move |&p| p != id)
    }

    fn reset_election_timer(&mut self) {
        self.election_elapsed = 0;
        self.election_timeout = self
            .rng
            .random_range(self.config.election_timeout_min..self.config.election_timeout_max);
    }

    /// Replaces the role by `f(role)`, moving it out and back.
    fn change_role(&mut self, f: impl FnOnce(Runtime) -> Runtime) {
        let placeholder =
            Role::with_history(Core::new(self.id()), role::Follower, RoleHistory::new());
        let old = std::mem::replace(&mut self.role, placeholder.into());
        self.role = f(old);
    }

    /// Stands for election: a new term, a vote for itself, RequestVote to every peer
    /// (Raft §5.2).
    fn campaign(&mut self) {
        let voters = self.config.voters.clone();
        self.change_role(|rt| match rt {
            Runtime::Follower(r) => r.become_candidate(&voters).into(),
            Runtime::Candidate(r) => r.become_candidate(&voters).into(),
            leader @ Runtime::Leader(_) => leader,
        });
        self.reset_election_timer();
        let log = self.core().log();
        let (last_log_index, last_log_term) = (log.last_index(), log.last_term());
        tracing::trace!(
            node = self.id(),
            term = self.core().term(),
            "election started"
        );
        let peers: Vec<NodeId> = self.peers().collect();
        for peer in peers {
            self.send(
                peer,
                Body::RequestVote {
                    last_log_index,
                    last_log_term,
                },
            );
        }
        // A cluster of one elects itself at once.
        self.maybe_become_leader();
    }

    fn become_follower(&mut self, term: u64, leader: Option<NodeId>) {
        self.change_role(|rt| match rt {
            Runtime::Follower(mut r) => {
                r.context_mut().follow(term, leader);
                r.into()
            }
            Runtime::Candidate(r) => r.become_follower(term, leader).into(),
            Runtime::Leader(r) => r.become_follower(term, leader).into(),
        });
        // The election timer is not reset here: only hearing from the current leader,
        // granting a vote or standing for election resets it (Raft Figure 2, "Rules for
        // Servers"). Resetting it on every later term would let a server whose log is too
        // old to win keep every other server from ever timing out first.
    }

    /// Grants the vote when this server has not voted for another candidate in this term
    /// and the candidate's log is at least as up to date (Raft §5.2, §5.4.1). The grant
    /// leaves only once the vote is durable (see [`Ready::persist`]).
    fn handle_request_vote(&mut self, candidate: NodeId, last_log_index: u64, last_log_term: u64) {
        let core = self.core();
        let term = core.term();
        let free = core.vote().is_none_or(|vote| vote == candidate);
        let up_to_date = core.log().is_up_to_date(last_log_index, last_log_term);
        if !(free && up_to_date && matches!(self.role, Runtime::Follower(_))) {
            let body = Body::VoteReply(VoteReply::reject(self.id(), candidate, term));
            self.send(candidate, body);
            return;
        }
        self.role.context_mut().record_vote(candidate);
        self.reset_election_timer();
        self.outgoing.push(Outgoing::GrantVote {
            to: candidate,
            term,
        });
    }

    fn handle_vote_reply(&mut self, reply: &VoteReply) {
        if let Runtime::Candidate(candidate) = &mut self.role {
            candidate.state_mut().tally.record(reply);
            self.maybe_become_leader();
        }
    }

    /// Takes the lead if the tally holds a majority for the current term (Raft §5.2).
    fn maybe_become_leader(&mut self) {
        let Runtime::Candidate(candidate) = &self.role else {
            return;
        };
        let Some(quorum) = candidate.state().tally.quorum() else {
            return;
        };
        self.change_role(|rt| match rt {
            Runtime::Candidate(r) => match r.become_leader(quorum) {
                Ok(leader) => leader.into(),
                Err(candidate) => candidate.into(),
            },
            other => other,
        });
        if matches!(self.role, Runtime::Leader(_)) {
            tracing::debug!(
                node = self.id(),
                term = self.core().term(),
                "elected leader"
            );
            self.heartbeat_elapsed = 0;
            self.maybe_commit();
            self.broadcast_append();
        }
    }

    /// The follower's side of AppendEntries (Raft Figure 2, receiver implementation).
    fn handle_append(&mut self, leader: NodeId, append: AppendEntries) {
        let term = self.core().term();
        match &self.role {
            Runtime::Leader(_) => {
                // Two leaders in one term: impossible unless a peer is faulty.
                tracing::debug!(
                    node = self.id(),
                    from = leader,
                    term,
                    "AppendEntries from another leader of my term dropped"
                );
                return;
            }
            Runtime::Candidate(_) => self.become_follower(term, Some(leader)),
            Runtime::Follower(_) => self.role.context_mut().follow(term, Some(leader)),
        }
        self.reset_election_timer();
        let result = self.role.context_mut().log_mut().maybe_append(
            append.prev_log_index,
            append.prev_log_term,
            &append.entries,
            append.leader_commit,
        );
        let reply = match result {
            Ok(match_index) => AppendReply::Accepted { match_index },
            Err(AppendError::Mismatch {
                conflict_term,
                conflict_index,
            }) => AppendReply::Rejected {
                prev_log_index: append.prev_log_index,
                conflict_term,
                conflict_index,
            },
            Err(error) => {
                tracing::debug!(
                    node = self.id(),
                    from = leader,
                    ?error,
                    "AppendEntries refused"
                );
                return;
            }
        };
        self.send(leader, Body::AppendReply(reply));
    }

    /// The leader's side of an AppendEntries answer (Raft §5.3).
    fn handle_append_reply(&mut self, from: NodeId, reply: AppendReply) {
        let Runtime::Leader(leader) = &mut self.role else {
            return;
        };
        let last_index = leader.context().log().last_index();
        let hint = match reply {
            AppendReply::Rejected {
                conflict_term,
                conflict_index,
                ..
            } => Some(back_off_hint(
                leader.context(),
                conflict_term,
                conflict_index,
            )),
            AppendReply::Accepted { .. } => None,
        };
        let Some(progress) = leader.state_mut().progress.get_mut(from) else {
            return;
        };
        match reply {
            AppendReply::Accepted { match_index } => {
                // A follower cannot hold more than the leader sent; a larger claim is bogus.
                if match_index > last_index {
                    return;
                }
                if progress.maybe_update(match_index) {
                    self.maybe_commit();
                }
            }
            AppendReply::Rejected { prev_log_index, .. } => {
                if !progress.maybe_decrease(prev_log_index, hint.unwrap_or(prev_log_index)) {
                    return;
                }
            }
        }
        self.send_append(from);
    }

    /// Commits the highest index stored on a majority, but only if it is of the current
    /// term: an older entry is committed indirectly, by the current one after it (Raft
    /// §5.4.2, Figure 8).
    fn maybe_commit(&mut self) {
        let Runtime::Leader(leader) = &mut self.role else {
            return;
        };
        let log = leader.context().log();
        let candidate = leader.state().progress.quorum_index(log.last_index());
        let term = leader.context().term();
        if candidate > log.commit_index() && log.term(candidate) == Some(term) {
            leader.context_mut().log_mut().commit_to(candidate);
            // Followers learn the new commit index with the next append to them.
            self.broadcast_append();
        }
    }

    /// Sends what each follower can take now.
    fn broadcast_append(&mut self) {
        let peers: Vec<NodeId> = self.peers().collect();
        for peer in peers {
            self.send_append(peer);
        }
    }

    /// At each heartbeat: a probe that got no answer goes again, a follower that stopped
    /// moving is probed afresh, and every follower hears from the leader.
    fn heartbeat(&mut self) {
        let peers: Vec<NodeId> = self.peers().collect();
        for peer in peers {
            let Runtime::Leader(leader) = &mut self.role else {
                return;
            };
            let last_index = leader.context().log().last_index();
            let Some(progress) = leader.state_mut().progress.get_mut(peer) else {
                continue;
            };
            let sent_before = self.outgoing.len();
            match progress.mode() {
                Mode::Probe => progress.resume_probe(),
                Mode::Replicate if progress.is_stalled(last_index) => progress.become_probe(),
                Mode::Replicate => {}
            }
            self.send_append(peer);
            if self.outgoing.len() == sent_before {
                self.send_heartbeat(peer);
            }
        }
    }

    /// Sends AppendEntries to `peer` while its window allows: one probe at a time, or a
    /// pipeline of batches to a replicating follower.
    fn send_append(&mut self, peer: NodeId) {
        let (max_inflight, max_entries) = (
            self.config.max_inflight,
            self.config.max_entries_per_message,
        );
        loop {
            let Runtime::Leader(leader) = &mut self.role else {
                return;
            };
            let Some((append, more)) = leader.next_append(peer, max_inflight, max_entries) else {
                return;
            };
            self.send(peer, Body::AppendEntries(append));
            if !more {
                return;
            }
        }
    }

    /// An empty AppendEntries at what `peer` is known to match, so that it neither times
    /// out nor, in the middle of a pipeline, rejects a request for a gap.
    fn send_heartbeat(&mut self, peer: NodeId) {
        let Runtime::Leader(leader) = &self.role else {
            return;
        };
        let Some(progress) = leader.state().progress.get(peer) else {
            return;
        };
        let log = leader.context().log();
        let prev_log_index = progress.match_index();
        let body = Body::AppendEntries(AppendEntries {
            prev_log_index,
            prev_log_term: log.term(prev_log_index).unwrap_or(0),
            entries: Vec::new(),
            leader_commit: log.commit_index(),
        });
        self.send(peer, body);
    }
}

/// The leader's next guess after a rejection: past its own last entry of the follower's
/// conflicting term when it has that term, else the first index of that term on the
/// follower, so that one round trip skips a whole term (Raft §5.3, last paragraphs).
fn back_off_hint(core: &Core, conflict_term: Option<u64>, conflict_index: u64) -> u64 {
    match conflict_term {
        Some(term) => core
            .log()
            .last_index_of_term(term)
            .map_or(conflict_index, |last| last + 1),
        None => conflict_index,
    }
}

/// Checks that a stored log starts at 1, has no gap, and never goes down in term.
fn check_stored(stored: &Persistent) -> Result<(), RestartError> {
    let mut previous_term = 0;
    for (entry, position) in stored.entries.iter().zip(1u64..) {
        let bad = |reason| RestartError::BadLog {
            position,
            index: entry.index,
            term: entry.term,
            reason,
        };
        if entry.index != position {
            return Err(bad("indexes must run from 1 without gaps"));
        }
        if entry.term < previous_term || entry.term == 0 {
            return Err(bad("terms must be at least 1 and never go down"));
        }
        previous_term = entry.term;
    }
    if stored.hard_state.term < previous_term {
        return Err(RestartError::TermBehindLog {
            term: stored.hard_state.term,
            last_term: previous_term,
        });
    }
    Ok(())
}

/// Replication exists only on a leader: these methods are on `Role<Leader>` alone.
impl<H> Role<role::Leader, H> {
    /// The next AppendEntries for `peer` if its window allows one, and whether another
    /// may follow at once (a replicating follower with more to take).
    fn next_append(
        &mut self,
        peer: NodeId,
        max_inflight: usize,
        max_entries: usize,
    ) -> Option<(AppendEntries, bool)> {
        let progress = self.state().progress.get(peer)?;
        if progress.is_paused(max_inflight) {
            return None;
        }
        let next = progress.next_index();
        let replicating = progress.mode() == Mode::Replicate;
        let log = self.context().log();
        if replicating && next > log.last_index() {
            return None;
        }
        let prev_log_index = next.checked_sub(1)?;
        let prev_log_term = log.term(prev_log_index)?;
        let entries = log.entries_from(next, max_entries);
        let leader_commit = log.commit_index();
        let last_sent = entries.last().map(|e| e.index);
        let more = replicating && last_sent.is_some_and(|last| last < log.last_index());
        self.state_mut().progress.get_mut(peer)?.sent(last_sent);
        let append = AppendEntries {
            prev_log_index,
            prev_log_term,
            entries,
            leader_commit,
        };
        Some((append, more))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::{MemStorage, Storage, StorageError};
    use crate::{Entry, EntryKind};

    fn vote_request(from: NodeId, to: NodeId, term: u64) -> Message {
        Message {
            from,
            to,
            term,
            body: Body::RequestVote {
                last_log_index: 0,
                last_log_term: 0,
            },
        }
    }

    /// Storage whose sync always fails, like a disk that went away.
    #[derive(Debug, Default)]
    struct BrokenDisk(MemStorage);

    impl Storage for BrokenDisk {
        fn load(&self) -> Result<Persistent, StorageError> {
            self.0.load()
        }
        fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
            self.0.append(entries)
        }
        fn set_hard_state(&mut self, hard_state: &HardState) -> Result<(), StorageError> {
            self.0.set_hard_state(hard_state)
        }
        fn sync(&mut self) -> Result<(), StorageError> {
            Err(StorageError::Io {
                doing: "syncing",
                source: std::io::Error::other("disk gone"),
            })
        }
    }

    /// Persists `node`'s Ready and returns the messages it releases.
    fn flush(node: &mut Node) -> Vec<Message> {
        node.ready()
            .persist(&mut MemStorage::new())
            .expect("memory storage")
            .messages
    }

    fn append(from: NodeId, to: NodeId, term: u64, prev: (u64, u64), n: u64) -> Message {
        let entries = (prev.0 + 1..=prev.0 + n)
            .map(|index| Entry {
                term,
                index,
                kind: EntryKind::Command,
                data: Arc::from(&b"e"[..]),
            })
            .collect();
        Message {
            from,
            to,
            term,
            body: Body::AppendEntries(AppendEntries {
                prev_log_index: prev.0,
                prev_log_term: prev.1,
                entries,
                leader_commit: 0,
            }),
        }
    }

    fn candidate(id: NodeId) -> Node {
        let mut node = Node::new(Config::new(id, &[1, 2, 3])).expect("valid");
        while node.role() != RoleKind::Candidate {
            node.tick();
        }
        node
    }

    // ---- Follower ----

    #[test]
    fn a_follower_votes_once_per_term() {
        // Raft §5.2: "each server will vote for at most one candidate in a given term".
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(vote_request(2, 1, 1));
        node.step(vote_request(3, 1, 1));
        let replies: Vec<bool> = flush(&mut node)
            .iter()
            .map(|m| matches!(&m.body, Body::VoteReply(r) if r.granted()))
            .collect();
        assert_eq!(replies, [true, false], "granted to 2, then refused to 3");
    }

    #[test]
    fn a_follower_refuses_a_candidate_with_an_older_log() {
        // Raft §5.4.1: the voter denies its vote if its own log is more up to date.
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(append(2, 1, 2, (0, 0), 2));
        flush(&mut node);
        let mut request = vote_request(3, 1, 3);
        request.body = Body::RequestVote {
            last_log_index: 5,
            last_log_term: 1,
        };
        node.step(request);
        let messages = flush(&mut node);
        assert!(matches!(&messages[0].body, Body::VoteReply(r) if !r.granted()));
    }

    #[test]
    fn a_follower_checks_consistency_and_hints_at_the_conflict() {
        // Raft §5.3: the consistency check, and the conflict hint for fast back-off.
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(append(2, 1, 1, (0, 0), 3));
        let accepted = flush(&mut node);
        assert_eq!(
            accepted[0].body,
            Body::AppendReply(AppendReply::Accepted { match_index: 3 })
        );
        node.step(append(2, 1, 2, (3, 2), 1));
        let rejected = flush(&mut node);
        assert_eq!(
            rejected[0].body,
            Body::AppendReply(AppendReply::Rejected {
                prev_log_index: 3,
                conflict_term: Some(1),
                conflict_index: 1,
            })
        );
    }

    #[test]
    fn a_follower_that_hears_its_leader_never_campaigns() {
        // Raft §5.2: a follower remains one while it receives valid RPCs from a leader.
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        for tick in 0..200u64 {
            if tick % 3 == 0 {
                node.step(append(2, 1, 1, (0, 0), 0));
            }
            node.tick();
            flush(&mut node);
        }
        assert_eq!(node.role(), RoleKind::Follower);
        assert_eq!(node.core().term(), 1);
    }

    #[test]
    fn a_request_from_an_old_term_is_answered_with_the_current_term() {
        // Raft §5.1: "if a server receives a request with a stale term number, it rejects
        // the request", and the reply's term makes the sender step down.
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(append(2, 1, 5, (0, 0), 0));
        flush(&mut node);
        node.step(append(3, 1, 4, (0, 0), 1));
        let messages = flush(&mut node);
        assert_eq!(messages[0].term, 5);
        assert!(matches!(
            messages[0].body,
            Body::AppendReply(AppendReply::Rejected { .. })
        ));
        assert_eq!(
            node.core().log().last_index(),
            0,
            "nothing stored from the old term"
        );
    }

    #[test]
    fn a_refused_candidate_does_not_hold_back_the_election_timer() {
        // Raft Figure 2, rules for followers: only AppendEntries from the current leader
        // or a granted vote reset the timer. A server whose log is too old to win, asking
        // again and again with ever later terms, must not keep this one from standing.
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(append(3, 1, 1, (0, 0), 2));
        flush(&mut node);
        let mut stood = false;
        for tick in 0..40u64 {
            if tick % 4 == 0 {
                node.step(vote_request(2, 1, 2 + tick));
            }
            node.tick();
            stood |= node.role() == RoleKind::Candidate;
            flush(&mut node);
        }
        assert!(stood, "the timer was reset by refused vote requests");
    }

    // ---- Candidate ----

    #[test]
    fn election_timeouts_are_drawn_from_the_configured_range() {
        // Raft §5.2: randomized election timeouts, so that split votes are rare.
        let mut timeouts = std::collections::BTreeSet::new();
        for seed in 0..40 {
            let mut config = Config::new(1, &[1, 2, 3]);
            config.seed = seed;
            let mut node = Node::new(config).expect("valid");
            let mut ticks = 0;
            while node.role() == RoleKind::Follower {
                node.tick();
                ticks += 1;
            }
            timeouts.insert(ticks);
        }
        assert!(
            timeouts.iter().all(|t| (10..20).contains(t)),
            "{timeouts:?}"
        );
        assert!(timeouts.len() > 3, "not randomized: {timeouts:?}");
    }

    #[test]
    fn a_candidate_asks_every_peer_for_its_vote() {
        // Raft §5.2: it "issues RequestVote RPCs in parallel to each of the other servers".
        let mut node = candidate(1);
        let mut asked: Vec<NodeId> = flush(&mut node)
            .iter()
            .filter(|m| matches!(m.body, Body::RequestVote { .. }))
            .map(|m| m.to)
            .collect();
        asked.sort_unstable();
        assert_eq!(asked, [2, 3]);
    }

    #[test]
    fn a_candidate_steps_down_for_a_leader_of_its_term() {
        // Raft §5.2: "if the leader's term is at least as large as the candidate's
        // current term, then the candidate recognizes the leader as legitimate".
        let mut node = candidate(1);
        let term = node.core().term();
        node.step(append(2, 1, term, (0, 0), 0));
        assert_eq!(node.role(), RoleKind::Follower);
        assert_eq!(node.core().leader(), Some(2));
        assert_eq!(node.core().term(), term);
    }

    #[test]
    fn a_vote_for_another_candidate_does_not_count() {
        let mut node = candidate(1);
        let term = node.core().term();
        flush(&mut node);
        // Server 3 relays a grant that server 2 gave: it counts for nobody.
        let relayed = VoteReply::from_wire(2, 1, term, true);
        node.step(Message {
            from: 3,
            to: 1,
            term,
            body: Body::VoteReply(relayed),
        });
        assert_eq!(node.role(), RoleKind::Candidate);
    }

    // ---- Leader ----

    #[test]
    fn a_leader_steps_down_on_a_later_term() {
        // Raft §5.1: a leader that discovers a higher term reverts to follower.
        let mut node = candidate(1);
        let term = node.core().term();
        flush(&mut node);
        node.step(Message {
            from: 2,
            to: 1,
            term,
            body: Body::VoteReply(VoteReply::from_wire(2, 1, term, true)),
        });
        assert_eq!(node.role(), RoleKind::Leader);
        node.step(Message {
            from: 3,
            to: 1,
            term: term + 1,
            body: Body::AppendReply(AppendReply::Accepted { match_index: 0 }),
        });
        assert_eq!(node.role(), RoleKind::Follower);
        assert_eq!(node.core().term(), term + 1);
        assert!(matches!(
            node.propose(&b"x"[..]),
            Err(ProposeError::NotLeader { .. })
        ));
    }

    #[test]
    fn a_vote_is_granted_only_once_durable() {
        // Raft Figure 2: persistent state is "updated on stable storage before
        // responding to RPCs".
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(vote_request(2, 1, 1));
        let ready = node.ready();
        assert_eq!(
            ready.hard_state(),
            Some(&HardState {
                term: 1,
                vote: Some(2)
            })
        );
        assert!(ready.persist(&mut BrokenDisk::default()).is_err());
        assert!(node.is_stopped(), "a node whose storage failed stops");
        assert!(!node.has_ready());

        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(vote_request(2, 1, 1));
        let persisted = node.ready().persist(&mut MemStorage::new()).expect("mem");
        let [message] = persisted.messages.as_slice() else {
            panic!("one reply expected: {:?}", persisted.messages);
        };
        assert!(matches!(&message.body, Body::VoteReply(r) if r.granted() && r.candidate() == 2));
    }

    #[test]
    fn a_restarted_node_remembers_its_vote() {
        // The known trap: a server that forgets its vote can elect two leaders in a term.
        let mut storage = MemStorage::new();
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        node.step(vote_request(2, 1, 1));
        node.ready().persist(&mut storage).expect("mem");
        let mut node =
            Node::restart(Config::new(1, &[1, 2, 3]), storage.load().expect("mem")).expect("sound");
        assert_eq!(node.core().vote(), Some(2));
        node.step(vote_request(3, 1, 1));
        let persisted = node.ready().persist(&mut storage).expect("mem");
        assert!(matches!(&persisted.messages[0].body, Body::VoteReply(r) if !r.granted()));
    }

    #[test]
    fn a_proposal_to_a_follower_is_refused_naming_the_leader() {
        let mut node = Node::new(Config::new(1, &[1, 2, 3])).expect("valid");
        assert_eq!(
            node.propose(&b"x"[..]),
            Err(ProposeError::NotLeader {
                id: 1,
                leader: None
            })
        );
        node.step(Message {
            from: 3,
            to: 1,
            term: 1,
            body: Body::AppendEntries(AppendEntries {
                prev_log_index: 0,
                prev_log_term: 0,
                entries: Vec::new(),
                leader_commit: 0,
            }),
        });
        let error = node.propose(&b"x"[..]).expect_err("a follower");
        assert_eq!(
            error,
            ProposeError::NotLeader {
                id: 1,
                leader: Some(3)
            }
        );
        assert_eq!(
            error.to_string(),
            "server 1 is not the leader; the leader is 3"
        );
    }

    #[test]
    fn a_single_server_elects_itself_and_commits_alone() {
        let mut node = Node::new(Config::new(7, &[7])).expect("valid");
        for _ in 0..20 {
            node.tick();
        }
        assert_eq!(node.role(), RoleKind::Leader);
        let (index, term) = node.propose(&b"x"[..]).expect("leader");
        let persisted = node.ready().persist(&mut MemStorage::new()).expect("mem");
        assert_eq!((index, term), (2, 1), "after the leader's no-op");
        let kinds: Vec<EntryKind> = persisted.committed.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [EntryKind::Noop, EntryKind::Command]);
    }

    #[test]
    fn bad_configurations_are_refused() {
        let ok = Config::new(1, &[1, 2, 3]);
        assert_eq!(ok.validate(), Ok(()));
        let cases = [
            (
                Config {
                    id: 9,
                    ..ok.clone()
                },
                ConfigError::NotAVoter { id: 9 },
            ),
            (
                Config {
                    voters: vec![1, 2, 2],
                    ..ok.clone()
                },
                ConfigError::DuplicateVoter { id: 2 },
            ),
            (
                Config {
                    election_timeout_max: 10,
                    ..ok.clone()
                },
                ConfigError::BadElectionTimeout { min: 10, max: 10 },
            ),
            (
                Config {
                    heartbeat_interval: 10,
                    ..ok.clone()
                },
                ConfigError::BadHeartbeat {
                    heartbeat: 10,
                    min: 10,
                },
            ),
            (
                Config {
                    max_inflight: 0,
                    ..ok.clone()
                },
                ConfigError::ZeroWindow,
            ),
        ];
        for (config, error) in cases {
            assert_eq!(Node::new(config).map(|_| ()), Err(error));
        }
    }

    #[test]
    fn an_inconsistent_stored_state_is_refused_on_restart() {
        let entry = |term, index| Entry {
            term,
            index,
            kind: EntryKind::Command,
            data: Arc::from(&b""[..]),
        };
        let config = Config::new(1, &[1, 2, 3]);
        let gap = Persistent {
            hard_state: HardState {
                term: 3,
                vote: None,
            },
            entries: vec![entry(1, 1), entry(1, 3)],
        };
        assert!(matches!(
            Node::restart(config.clone(), gap),
            Err(RestartError::BadLog {
                position: 2,
                index: 3,
                ..
            })
        ));
        let behind = Persistent {
            hard_state: HardState {
                term: 1,
                vote: None,
            },
            entries: vec![entry(1, 1), entry(2, 2)],
        };
        assert_eq!(
            Node::restart(config, behind).map(|_| ()),
            Err(RestartError::TermBehindLog {
                term: 1,
                last_term: 2
            })
        );
    }

    #[test]
    fn the_back_off_hint_skips_a_whole_term() {
        // Raft §5.3: with the conflicting term and its first index, the leader skips
        // every entry of that term in one round trip.
        let mut core = Core::new(1);
        for term in [1, 1, 3, 3, 3] {
            core.log_mut()
                .append(term, EntryKind::Command, Arc::from(&b""[..]));
        }
        assert_eq!(
            back_off_hint(&core, Some(3), 2),
            6,
            "leader has term 3: after its last"
        );
        assert_eq!(
            back_off_hint(&core, Some(2), 3),
            3,
            "leader lacks term 2: follower's first"
        );
        assert_eq!(back_off_hint(&core, None, 4), 4, "follower's log is short");
    }
}
