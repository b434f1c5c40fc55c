//! A stack: many connections on one IPv4 address, demultiplexed by their four-tuple,
//! with listeners whose backlog is bounded. Still sans-I/O: IP packets and time go in,
//! IP packets come out.
//!
//! A SYN for a listening port makes a new connection in LISTEN and hands it the SYN
//! (RFC 9293 §3.10.7.2), so every connection, passive or active, runs the same engine.
//! The backlog bounds the connections a listener holds that the user has not accepted
//! yet, half-open ones included; a SYN beyond it is dropped, so the peer retries later.
//!
//! Arriving packets are parsed in place and handed to their connection. What a segment
//! itself calls for is queued at once; data and the ACK of a batch of arrivals are
//! queued by the next [`Stack::poll`]. Each packet is built only when the driver asks for
//! it with [`Stack::transmit`], its data copied from the send buffer into a buffer the
//! driver gave back with [`Stack::recycle`], so a driver that sends each packet before
//! asking for the next keeps reusing one buffer.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::net::{Ipv4Addr, SocketAddrV4};

use crate::engine::{CallError, Connection, reset_for};
use crate::isn::IsnGenerator;
use crate::machine::tcp::StateId;
use crate::tcb::Config;
use crate::time::Instant;
use crate::wire::{PacketQueue, Segment, WireError};

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

/// Hashes the stack's own connection ids, which no peer chooses, with one
/// multiplication (Fibonacci hashing) rather than SipHash. The four-tuple map, whose keys
/// come from the network, keeps std's keyed SipHash against collision attacks.
#[derive(Debug, Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(byte));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<V> = HashMap<ConnId, V, BuildHasherDefault<IdHasher>>;

/// A connection's four-tuple packed into one number, so that looking it up hashes one
/// 16-byte word instead of four fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FourTuple(u128);

impl FourTuple {
    fn new(local: SocketAddrV4, remote: SocketAddrV4) -> Self {
        let half =
            |addr: SocketAddrV4| u64::from(addr.ip().to_bits()) << 16 | u64::from(addr.port());
        FourTuple(u128::from(half(local)) << 64 | u128::from(half(remote)))
    }
}

impl Hash for FourTuple {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(self.0);
    }
}

#[derive(Debug)]
struct Entry {
    conn: Connection,
    /// The listening port that created it, until the user accepts it.
    pending_on: Option<u16>,
    /// Whether the user holds a handle (accepted or connected).
    owned: bool,
    /// Whether the connection is in [`Stack::sending`].
    sending: bool,
}

impl Entry {
    /// Whether [`Stack::tidy`] has work: a connection to queue for accept, or one to
    /// forget.
    fn needs_tidying(&self) -> bool {
        let state = self.conn.state();
        let established = matches!(state, StateId::Established | StateId::CloseWait);
        (self.pending_on.is_some() && established) || (state == StateId::Closed && !self.owned)
    }
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
    conns: IdMap<Entry>,
    by_tuple: HashMap<FourTuple, ConnId>,
    /// The last four-tuple found in `by_tuple`: segments come in runs of one connection,
    /// and comparing against it is cheaper than hashing (the BSD stacks' "one-behind
    /// cache" of the last PCB). Cleared when a connection is forgotten.
    last_found: Option<(FourTuple, ConnId)>,
    listeners: HashMap<u16, Listener>,
    next_id: u64,
    next_port: u16,
    ports: (u16, u16),
    exclusive: bool,
    /// Packets built ahead of [`Stack::transmit`]: RSTs for segments to nobody, and what
    /// a connection still had to send when it was forgotten.
    packets: PacketQueue,
    /// Connections with segments waiting, in the order they got them.
    sending: VecDeque<ConnId>,
    /// Connections [`Stack::poll`] found in need of tidying, kept to reuse its memory.
    to_tidy: Vec<ConnId>,
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
            conns: IdMap::default(),
            by_tuple: HashMap::new(),
            last_found: None,
            listeners: HashMap::new(),
            next_id: 1,
            next_port: 49152,
            ports: (49152, u16::MAX),
            exclusive: true,
            packets: PacketQueue::new(),
            sending: VecDeque::new(),
            to_tidy: Vec::new(),
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
            if !self.by_tuple.contains_key(&FourTuple::new(local, remote))
                && !self.listeners.contains_key(&port)
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
        self.by_tuple.insert(FourTuple::new(local, remote), id);
        self.conns.insert(
            id,
            Entry {
                conn,
                pending_on,
                owned,
                sending: false,
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
    pub fn receive_segment(&mut self, segment: &Segment<'_>, now: Instant) {
        let local = segment.dst_addr();
        let remote = segment.src_addr();
        if *local.ip() != self.addr || !self.owns_port(local.port()) {
            self.drops.wrong_address += 1;
            return;
        }
        if let Some(id) = self.find(FourTuple::new(local, remote))
            && let Some(entry) = self.conns.get_mut(&id)
        {
            entry.conn.on_segment(segment, now);
            Self::note_output(&mut self.sending, id, entry);
            if entry.needs_tidying() {
                self.tidy(id);
            }
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
            if let Some(entry) = self.conns.get_mut(&id) {
                Self::note_output(&mut self.sending, id, entry);
            }
            self.tidy(id);
            return;
        }
        // RFC 9293 §3.10.7.1: no connection (and no listener for a SYN) - reset.
        if let Some(rst) = reset_for(segment) {
            self.packets.push(&rst);
        }
    }

    /// The connection of a four-tuple, if there is one.
    fn find(&mut self, tuple: FourTuple) -> Option<ConnId> {
        if let Some((last, id)) = self.last_found
            && last == tuple
        {
            return Some(id);
        }
        let id = *self.by_tuple.get(&tuple)?;
        self.last_found = Some((tuple, id));
        Some(id)
    }

    /// Runs every connection's timers, and queues what the windows allow and the ACKs
    /// owed for the segments that arrived since the last poll.
    pub fn poll(&mut self, now: Instant) {
        let mut to_tidy = std::mem::take(&mut self.to_tidy);
        for (id, entry) in &mut self.conns {
            entry.conn.poll(now);
            Self::note_output(&mut self.sending, *id, entry);
            if entry.needs_tidying() {
                to_tidy.push(*id);
            }
        }
        for id in to_tidy.drain(..) {
            self.tidy(id);
        }
        self.to_tidy = to_tidy;
    }

    /// Puts a connection with segments waiting in line for [`Stack::transmit`].
    fn note_output(sending: &mut VecDeque<ConnId>, id: ConnId, entry: &mut Entry) {
        if !entry.sending && entry.conn.has_output() {
            entry.sending = true;
            sending.push_back(id);
        }
    }

    /// Queues a connection for accept once established, or forgets it once closed.
    fn tidy(&mut self, id: ConnId) {
        let Some(entry) = self.conns.get(&id) else {
            return;
        };
        let state = entry.conn.state();
        if let Some(port) = entry.pending_on
            && matches!(state, StateId::Established | StateId::CloseWait)
            && let Some(listener) = self.listeners.get_mut(&port)
            && !listener.ready.contains(&id)
        {
            listener.ready.push_back(id);
        }
        if state == StateId::Closed && !entry.owned {
            let tcb = entry.conn.tcb();
            self.by_tuple
                .remove(&FourTuple::new(tcb.local(), tcb.remote()));
            self.last_found = None;
            if let Some(port) = entry.pending_on
                && let Some(listener) = self.listeners.get_mut(&port)
            {
                listener.ready.retain(|x| *x != id);
            }
            // What it still has to say (an abort's RST, say) goes out all the same.
            if let Some(mut entry) = self.conns.remove(&id) {
                entry.conn.emit_outbox(&mut self.packets);
            }
        }
    }

    /// The next packet to send, parsed back into a segment, if any: for looking at what
    /// the stack says, as tests do.
    pub fn transmit_segment(&mut self) -> Option<Segment<'static>> {
        loop {
            let packet = self.transmit()?;
            let segment = Segment::parse(&packet).map(Segment::into_owned);
            self.packets.recycle(packet);
            match segment {
                Ok(segment) => return Some(segment),
                Err(error) => tracing::error!(%error, "the stack built a malformed packet"),
            }
        }
    }

    /// The next packet to send, as IPv4 bytes with checksums, if any, built now. Hand
    /// the buffer back with [`recycle`](Stack::recycle) once it is sent.
    pub fn transmit(&mut self) -> Option<Vec<u8>> {
        if let Some(packet) = self.packets.pop() {
            return Some(packet);
        }
        while let Some(&id) = self.sending.front() {
            if let Some(entry) = self.conns.get_mut(&id) {
                let mut packet = self.packets.buffer();
                if entry.conn.emit_next(&mut packet) {
                    return Some(packet);
                }
                self.packets.recycle(packet);
                entry.sending = false;
            }
            self.sending.pop_front();
        }
        None
    }

    /// Takes back the buffer of a packet from [`transmit`](Stack::transmit) that the
    /// device is done with, to build a later packet in.
    pub fn recycle(&mut self, packet: Vec<u8>) {
        self.packets.recycle(packet);
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

    fn syn_from(port: u16) -> Segment<'static> {
        Segment {
            src: Some(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 9), port)),
            dst: Some(SocketAddrV4::new(ME, 80)),
            seq: 100,
            flags: Flags::SYN,
            window: 1000,
            ..Segment::default()
        }
    }

    fn replies(stack: &mut Stack) -> Vec<Segment<'static>> {
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

    /// What a connection still has to send when the stack forgets it goes out: here
    /// the RST that aborting a half-open connection owes (RFC 9293 §3.10.5).
    #[test]
    fn a_forgotten_connection_still_sends_its_rst() {
        let mut stack = Stack::new(ME, Config::default(), [0; 16]);
        stack.listen(80, 8).unwrap();
        stack.receive_segment(&syn_from(4001), Instant::ZERO);
        assert_eq!(replies(&mut stack)[0].flags, Flags::SYN_ACK);
        stack.unlisten(80);
        stack.poll(Instant::ZERO);
        assert_eq!(stack.connection_count(), 0);
        let out = replies(&mut stack);
        assert_eq!(out.len(), 1);
        assert!(out[0].flags.rst);
    }

    /// A packet's buffer, once given back, is the one the next packet is built in.
    #[test]
    fn transmit_reuses_recycled_buffers() {
        let mut stack = Stack::new(ME, Config::default(), [0; 16]);
        stack.listen(80, 8).unwrap();
        stack.receive_segment(&syn_from(5001), Instant::ZERO);
        let first = stack.transmit().unwrap();
        let at = first.as_ptr();
        stack.recycle(first);
        stack.receive_segment(&syn_from(5002), Instant::ZERO);
        let second = stack.transmit().unwrap();
        assert_eq!(second.as_ptr(), at);
        assert!(stack.transmit().is_none());
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
