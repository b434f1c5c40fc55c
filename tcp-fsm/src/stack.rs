//! A stack: many connections on one IPv4 address, demultiplexed by their four-tuple,
//! with listeners whose backlog is bounded. Still sans-I/O: IP packets and time go in,
//! IP packets come out.
//!
//! A SYN for a listening port makes a new connection in LISTEN and hands it the SYN
//! (RFC 9293 §3.10.7.2), so every connection, passive or active, runs the same engine.
//! The backlog bounds the connections a listener holds that the user has not accepted
//! yet, half-open ones included; a SYN beyond it is dropped, so the peer retries later.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::engine::{CallError, Connection, reset_for};
use crate::isn::IsnGenerator;
use crate::machine::tcp::StateId;
use crate::tcb::Config;
use crate::time::Instant;
use crate::wire::{Segment, WireError};

/// A connection's handle within its [`Stack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(u64);

/// Why a stack operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    /// The port already has a listener.
    #[error("port {0} already has a listener")]
    PortInUse(u16),
    /// No ephemeral port is free for this remote address.
    #[error("no free local port")]
    NoFreePort,
    /// The handle names no connection (it was released or never existed).
    #[error("no such connection")]
    NoSuchConnection,
    /// The call is not legal in the connection's state.
    #[error(transparent)]
    Call(#[from] CallError),
}

/// Counts of what the stack dropped, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropCounts {
    /// Packets that failed to parse (each also logged at debug level).
    pub malformed: u64,
    /// Segments not addressed to this stack's address (or, when the stack shares its
    /// address with the host, to a port it does not use).
    pub wrong_address: u64,
    /// SYNs dropped because the listener's backlog was full.
    pub backlog_full: u64,
}

#[derive(Debug)]
struct Entry {
    conn: Connection,
    /// The listening port that created it, until the user accepts it.
    pending_on: Option<u16>,
    /// Whether the user holds a handle (accepted or connected).
    owned: bool,
}

#[derive(Debug)]
struct Listener {
    backlog: usize,
    ready: VecDeque<ConnId>,
}

/// Connections and listeners on one IPv4 address.
#[derive(Debug)]
pub struct Stack {
    addr: Ipv4Addr,
    cfg: Config,
    isn: IsnGenerator,
    conns: HashMap<ConnId, Entry>,
    by_tuple: HashMap<(SocketAddrV4, SocketAddrV4), ConnId>,
    listeners: HashMap<u16, Listener>,
    next_id: u64,
    next_port: u16,
    ports: (u16, u16),
    exclusive: bool,
    outbox: VecDeque<Segment>,
    drops: DropCounts,
}

impl Stack {
    /// A stack owning `addr`, with per-connection settings `cfg` and the RFC 6528 secret
    /// `isn_key`.
    pub fn new(addr: Ipv4Addr, cfg: Config, isn_key: [u8; 16]) -> Self {
        Stack {
            addr,
            cfg,
            isn: IsnGenerator::new(isn_key),
            conns: HashMap::new(),
            by_tuple: HashMap::new(),
            listeners: HashMap::new(),
            next_id: 1,
            next_port: 49152,
            ports: (49152, u16::MAX),
            exclusive: true,
            outbox: VecDeque::new(),
            drops: DropCounts::default(),
        }
    }

    /// Sets the range of local ports [`connect`](Stack::connect) picks from.
    pub fn set_ephemeral_ports(&mut self, lo: u16, hi: u16) {
        let (lo, hi) = (lo.min(hi), lo.max(hi));
        self.ports = (lo, hi);
        self.next_port = lo;
    }

    /// Whether the stack owns every port of its address (true, the default: segments to
    /// unknown ports get RSTs) or shares the address with the host kernel (false: only
    /// segments to its listeners and its ephemeral ports are looked at), as the raw-socket
    /// driver needs.
    pub fn set_exclusive(&mut self, exclusive: bool) {
        self.exclusive = exclusive;
    }

    fn owns_port(&self, port: u16) -> bool {
        self.exclusive
            || self.listeners.contains_key(&port)
            || (self.ports.0..=self.ports.1).contains(&port)
    }

    /// The stack's address.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }

    /// What was dropped so far.
    pub fn drops(&self) -> &DropCounts {
        &self.drops
    }

    /// Listens on `port`, holding at most `backlog` connections not yet accepted.
    ///
    /// # Errors
    ///
    /// [`StackError::PortInUse`] if the port already has a listener.
    pub fn listen(&mut self, port: u16, backlog: usize) -> Result<(), StackError> {
        if self.listeners.contains_key(&port) {
            return Err(StackError::PortInUse(port));
        }
        let backlog = backlog.max(1);
        self.listeners.insert(
            port,
            Listener {
                backlog,
                ready: VecDeque::new(),
            },
        );
        Ok(())
    }

    /// Stops listening on `port`; connections not yet accepted are reset.
    pub fn unlisten(&mut self, port: u16) {
        if self.listeners.remove(&port).is_none() {
            return;
        }
        let pending: Vec<ConnId> = self
            .conns
            .iter()
            .filter(|(_, e)| e.pending_on == Some(port))
            .map(|(id, _)| *id)
            .collect();
        for id in pending {
            if let Some(entry) = self.conns.get_mut(&id) {
                let _ = entry.conn.abort();
                entry.pending_on = None;
            }
        }
    }

    /// Opens a connection to `remote` from an ephemeral port (active OPEN).
    ///
    /// # Errors
    ///
    /// [`StackError::NoFreePort`] when every ephemeral port is in use towards `remote`.
    pub fn connect(&mut self, remote: SocketAddrV4, now: Instant) -> Result<ConnId, StackError> {
        let local = self.free_port(remote)?;
        let iss = self.isn.isn(local, remote, now);
        let conn = Connection::connecting(self.cfg.clone(), local, remote, iss, now);
        Ok(self.insert(conn, local, remote, None, true))
    }

    fn free_port(&mut self, remote: SocketAddrV4) -> Result<SocketAddrV4, StackError> {
        for _ in 0..16384 {
            let port = self.next_port;
            self.next_port = if port >= self.ports.1 {
                self.ports.0
            } else {
                port + 1
            };
            let local = SocketAddrV4::new(self.addr, port);
            if !self.by_tuple.contains_key(&(local, remote)) && !self.listeners.contains_key(&port)
            {
                return Ok(local);
            }
        }
        Err(StackError::NoFreePort)
    }

    fn insert(
        &mut self,
        conn: Connection,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        pending_on: Option<u16>,
        owned: bool,
    ) -> ConnId {
        let id = ConnId(self.next_id);
        self.next_id += 1;
        self.by_tuple.insert((local, remote), id);
        self.conns.insert(
            id,
            Entry {
                conn,
                pending_on,
                owned,
            },
        );
        id
    }

    /// Takes the oldest established connection waiting on `port`'s listener.
    pub fn accept(&mut self, port: u16) -> Option<ConnId> {
        let id = self.listeners.get_mut(&port)?.ready.pop_front()?;
        let entry = self.conns.get_mut(&id)?;
        entry.pending_on = None;
        entry.owned = true;
        Some(id)
    }

    /// The connection behind `id`.
    pub fn connection(&self, id: ConnId) -> Option<&Connection> {
        self.conns.get(&id).map(|e| &e.conn)
    }

    /// The connection behind `id`, mutably.
    pub fn connection_mut(&mut self, id: ConnId) -> Option<&mut Connection> {
        self.conns.get_mut(&id).map(|e| &mut e.conn)
    }

    fn conn(&mut self, id: ConnId) -> Result<&mut Connection, StackError> {
        self.connection_mut(id).ok_or(StackError::NoSuchConnection)
    }

    /// SEND on connection `id`.
    ///
    /// # Errors
    ///
    /// [`StackError::Call`] with the RFC's error for the state.
    pub fn send(&mut self, id: ConnId, data: &[u8]) -> Result<usize, StackError> {
        Ok(self.conn(id)?.send(data)?)
    }

    /// RECEIVE on connection `id`.
    ///
    /// # Errors
    ///
    /// [`StackError::Call`] after a reset or a time-out.
    pub fn recv(&mut self, id: ConnId, buf: &mut [u8]) -> Result<usize, StackError> {
        Ok(self.conn(id)?.receive(buf)?)
    }

    /// CLOSE on connection `id`.
    ///
    /// # Errors
    ///
    /// [`StackError::Call`] when already closed.
    pub fn close(&mut self, id: ConnId) -> Result<(), StackError> {
        Ok(self.conn(id)?.close()?)
    }

    /// ABORT on connection `id`.
    ///
    /// # Errors
    ///
    /// [`StackError::Call`] in CLOSED.
    pub fn abort(&mut self, id: ConnId) -> Result<(), StackError> {
        Ok(self.conn(id)?.abort()?)
    }

    /// Gives up the user's handle: the connection is forgotten once CLOSED (it may still
    /// be finishing its close, or waiting in TIME-WAIT).
    pub fn release(&mut self, id: ConnId) {
        if let Some(entry) = self.conns.get_mut(&id) {
            entry.owned = false;
        }
    }

    /// How many connections the stack holds, in any state.
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Takes one IPv4 packet from the network.
    pub fn receive_packet(&mut self, packet: &[u8], now: Instant) {
        match Segment::parse(packet) {
            Ok(segment) => self.receive_segment(&segment, now),
            Err(error) => self.drop_malformed(&error),
        }
    }

    fn drop_malformed(&mut self, error: &WireError) {
        self.drops.malformed += 1;
        tracing::debug!(%error, "dropped a malformed packet");
    }

    /// Takes one parsed segment from the network.
    pub fn receive_segment(&mut self, segment: &Segment, now: Instant) {
        let local = segment.dst_addr();
        let remote = segment.src_addr();
        if *local.ip() != self.addr || !self.owns_port(local.port()) {
            self.drops.wrong_address += 1;
            return;
        }
        if let Some(&id) = self.by_tuple.get(&(local, remote))
            && let Some(entry) = self.conns.get_mut(&id)
        {
            entry.conn.on_segment(segment, now);
            self.after_event(id, now);
            return;
        }
        let is_syn = segment.flags.syn && !segment.flags.ack && !segment.flags.rst;
        if let Some(listener) = self.listeners.get(&local.port())
            && is_syn
        {
            let held = self
                .conns
                .values()
                .filter(|e| e.pending_on == Some(local.port()))
                .count();
            if held >= listener.backlog {
                self.drops.backlog_full += 1;
                tracing::debug!(port = local.port(), "listen backlog full; SYN dropped");
                return;
            }
            let iss = self.isn.isn(local, remote, now);
            let mut conn = Connection::listening(self.cfg.clone(), local, iss);
            conn.on_segment(segment, now);
            let id = self.insert(conn, local, remote, Some(local.port()), false);
            self.after_event(id, now);
            return;
        }
        // RFC 9293 §3.10.7.1: no connection (and no listener for a SYN) - reset.
        if let Some(rst) = reset_for(segment) {
            self.outbox.push_back(rst);
        }
    }

    /// Runs every connection's timers and collects what they send.
    pub fn poll(&mut self, now: Instant) {
        let ids: Vec<ConnId> = self.conns.keys().copied().collect();
        for id in ids {
            if let Some(entry) = self.conns.get_mut(&id) {
                entry.conn.poll(now);
            }
            self.after_event(id, now);
        }
    }

    /// Collects a connection's output, queues it for accept, or forgets it once closed.
    fn after_event(&mut self, id: ConnId, now: Instant) {
        let Some(entry) = self.conns.get_mut(&id) else {
            return;
        };
        entry.conn.poll(now);
        self.outbox.extend(entry.conn.take_outbox());
        let state = entry.conn.state();
        if let Some(port) = entry.pending_on
            && matches!(state, StateId::Established | StateId::CloseWait)
            && let Some(listener) = self.listeners.get_mut(&port)
            && !listener.ready.contains(&id)
        {
            listener.ready.push_back(id);
        }
        let entry = &self.conns[&id];
        if state == StateId::Closed && !entry.owned {
            let tcb = entry.conn.tcb();
            self.by_tuple.remove(&(tcb.local(), tcb.remote()));
            if let Some(port) = entry.pending_on
                && let Some(listener) = self.listeners.get_mut(&port)
            {
                listener.ready.retain(|x| *x != id);
            }
            self.conns.remove(&id);
        }
    }

    /// The next segment to send, if any.
    pub fn transmit_segment(&mut self) -> Option<Segment> {
        self.outbox.pop_front()
    }

    /// The next packet to send, as IPv4 bytes with checksums, if any.
    pub fn transmit(&mut self) -> Option<Vec<u8>> {
        loop {
            let segment = self.outbox.pop_front()?;
            match segment.emit() {
                Ok(bytes) => return Some(bytes),
                Err(error) => tracing::debug!(%error, "could not build a segment"),
            }
        }
    }

    /// When [`poll`](Stack::poll) must next run.
    pub fn poll_at(&self) -> Option<Instant> {
        self.conns.values().filter_map(|e| e.conn.poll_at()).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Flags;

    const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);

    fn syn_from(port: u16) -> Segment {
        Segment {
            src: Some(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), port)),
            dst: Some(SocketAddrV4::new(ME, 80)),
            seq: 100,
            flags: Flags::SYN,
            window: 1000,
            ..Segment::default()
        }
    }

    fn replies(stack: &mut Stack) -> Vec<Segment> {
        std::iter::from_fn(|| stack.transmit_segment()).collect()
    }

    /// The backlog bounds connections not yet accepted, half-open ones included; a SYN
    /// beyond it is dropped without a reply, and accepting makes room again.
    #[test]
    fn listen_backlog_is_bounded() {
        let mut stack = Stack::new(ME, Config::default(), [0; 16]);
        stack.listen(80, 2).unwrap();
        for port in [1001, 1002, 1003] {
            stack.receive_segment(&syn_from(port), Instant::ZERO);
        }
        let out = replies(&mut stack);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|s| s.flags == Flags::SYN_ACK));
        assert_eq!(stack.drops().backlog_full, 1);

        // Complete the first handshake, accept it, and the next SYN gets in.
        let ack = Segment {
            seq: 101,
            ack: out[0].seq.wrapping_add(1),
            flags: Flags::ACK,
            ..syn_from(out[0].dst_addr().port())
        };
        stack.receive_segment(&ack, Instant::ZERO);
        let id = stack.accept(80).expect("an established connection");
        assert_eq!(stack.connection(id).unwrap().state(), StateId::Established);
        stack.receive_segment(&syn_from(1004), Instant::ZERO);
        assert_eq!(replies(&mut stack).len(), 1);
        assert_eq!(stack.connection_count(), 3);
    }

    /// Segments go to the connection of their four-tuple; one to nobody gets a RST
    /// (RFC 9293 §3.10.7.1).
    #[test]
    fn demultiplexes_by_four_tuple_and_resets_strays() {
        let mut stack = Stack::new(ME, Config::default(), [0; 16]);
        stack.listen(80, 8).unwrap();
        stack.receive_segment(&syn_from(2001), Instant::ZERO);
        stack.receive_segment(&syn_from(2002), Instant::ZERO);
        let out = replies(&mut stack);
        assert_eq!(out[0].dst_addr().port(), 2001);
        assert_eq!(out[1].dst_addr().port(), 2002);
        assert_ne!(
            out[0].seq, out[1].seq,
            "RFC 6528: ISNs differ per four-tuple"
        );
        let mut stray = syn_from(2003);
        stray.dst = Some(SocketAddrV4::new(ME, 81));
        stack.receive_segment(&stray, Instant::ZERO);
        let out = replies(&mut stack);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].flags, Flags::RST_ACK);
        assert_eq!(out[0].ack, 101);
    }

    /// A stack that shares its address with the host ignores the host's ports.
    #[test]
    fn shared_address_ignores_foreign_ports() {
        let mut stack = Stack::new(ME, Config::default(), [0; 16]);
        stack.set_exclusive(false);
        stack.set_ephemeral_ports(61000, 65535);
        let mut stray = syn_from(3000);
        stray.dst = Some(SocketAddrV4::new(ME, 22));
        stack.receive_segment(&stray, Instant::ZERO);
        assert!(replies(&mut stack).is_empty());
        assert_eq!(stack.drops().wrong_address, 1);
    }
}
