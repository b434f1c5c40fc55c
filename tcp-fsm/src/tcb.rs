//! The transmission control block (RFC 9293 §3.3.1): the variables and buffers of one
//! connection, and the state-independent operations on them.
//!
//! Which state the connection is in lives in the typestate machine around the TCB (see
//! [`crate::machine`]); what each state does with a segment lives in [`crate::engine`].
//! Here are the send and receive sequence spaces, the retransmission queue (the send
//! buffer from SND.UNA on), out-of-order reassembly, the RFC 6298 timer and congestion
//! control, and the building of outgoing segments.
//!
//! A data segment in the outbox holds no copy of its text: the text stays in the send
//! buffer until the driver asks for the packet, and is copied from there straight into
//! it. Before the buffer lets go of bytes (an ACK, a reset, an abort), segments still
//! waiting take a copy of theirs, so the outbox is right whenever it is read.

use std::borrow::Cow;
use std::collections::{BTreeMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use crate::machine::tcp::StateId;
use crate::seq;
use crate::time::Instant;
use crate::wire::{Flags, PacketQueue, Segment};

/// Tunables of one connection. `Default` follows the RFCs' recommendations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The MSS we announce: the largest segment we accept (RFC 9293 §3.7.1). 1460 fits a
    /// 1500-byte MTU.
    pub mss: u16,
    /// Receive buffer in bytes; the receive window never exceeds it.
    pub recv_buffer: usize,
    /// Send buffer in bytes: how much SEND accepts before the peer acknowledges it.
    pub send_buffer: usize,
    /// Whether to offer the window scale option (RFC 7323 §2).
    pub window_scaling: bool,
    /// How long TIME-WAIT lasts: 2 MSL (RFC 9293 §3.4.2 takes MSL as 2 minutes; most
    /// stacks use less).
    pub time_wait: Duration,
    /// RTO before any RTT measurement (RFC 6298 §2.1: 1 s).
    pub rto_initial: Duration,
    /// Lower bound on the RTO (RFC 6298 §2.4: 1 s).
    pub rto_min: Duration,
    /// Upper bound on the RTO (RFC 6298 §2.5 allows a bound of at least 60 s).
    pub rto_max: Duration,
    /// Retransmissions of one segment before the connection is given up (RFC 9293
    /// §3.8.3's R2).
    pub max_retries: u32,
    /// The initial congestion window in segments (RFC 6928: 10).
    pub initial_window: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mss: 1460,
            recv_buffer: 1 << 20,
            send_buffer: 1 << 20,
            window_scaling: true,
            time_wait: Duration::from_secs(60),
            rto_initial: Duration::from_secs(1),
            rto_min: Duration::from_secs(1),
            rto_max: Duration::from_secs(60),
            max_retries: 12,
            initial_window: 10,
        }
    }
}

/// Why a connection ended other than by an orderly close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConnError {
    /// The peer reset the connection (RFC 9293 §3.10.7.4).
    #[error("connection reset")]
    Reset,
    /// The peer refused the connection: a RST answered our SYN (RFC 9293 §3.10.7.3).
    #[error("connection refused")]
    Refused,
    /// A segment was retransmitted `max_retries` times without an acknowledgment.
    #[error("connection timed out")]
    TimedOut,
    /// Our user aborted the connection.
    #[error("connection aborted")]
    Aborted,
}

/// What STATUS reports (RFC 9293 §3.10.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The connection state.
    pub state: StateId,
    /// Local address.
    pub local: SocketAddrV4,
    /// Remote address.
    pub remote: SocketAddrV4,
    /// SND.UNA.
    pub snd_una: u32,
    /// SND.NXT.
    pub snd_nxt: u32,
    /// SND.WND.
    pub snd_wnd: u32,
    /// RCV.NXT.
    pub rcv_nxt: u32,
    /// RCV.WND.
    pub rcv_wnd: u32,
    /// Bytes queued for sending, including those sent but not acknowledged.
    pub send_queued: usize,
    /// Bytes received in order and not yet read.
    pub recv_queued: usize,
    /// The current retransmission timeout.
    pub rto: Duration,
}

/// The RFC 6298 estimator: SRTT, RTTVAR and RTO.
#[derive(Debug, Clone)]
pub(crate) struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    pub(crate) rto: Duration,
}

impl RttEstimator {
    fn new(initial: Duration) -> Self {
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            rto: initial,
        }
    }

    /// Takes one measurement `r` (RFC 6298 §2.2 and §2.3), clamping per §2.4 and §2.5.
    pub(crate) fn sample(&mut self, r: Duration, min: Duration, max: Duration) {
        let (srtt, rttvar) = match self.srtt {
            None => (r, r / 2),
            Some(srtt) => {
                let delta = srtt.abs_diff(r);
                (srtt * 7 / 8 + r / 8, self.rttvar * 3 / 4 + delta / 4)
            }
        };
        self.srtt = Some(srtt);
        self.rttvar = rttvar;
        // G, the clock granularity, is 1 µs here; 4*RTTVAR dominates it.
        let rto = srtt + (rttvar * 4).max(Duration::from_micros(1));
        self.rto = rto.clamp(min, max);
    }

    /// Backs the timer off after an expiry (RFC 6298 §5.5).
    fn back_off(&mut self, max: Duration) {
        self.rto = (self.rto * 2).min(max);
    }
}

/// A segment waiting to be sent. A data segment's `text` bytes at SEG.SEQ are still in
/// the send buffer; its own payload is empty until [`Tcb::pin_outbox`] copies them.
#[derive(Debug)]
pub(crate) struct Queued {
    segment: Segment<'static>,
    text: usize,
}

/// The transmission control block of one connection.
#[derive(Debug)]
pub struct Tcb {
    pub(crate) cfg: Config,
    pub(crate) local: SocketAddrV4,
    pub(crate) remote: SocketAddrV4,

    // Send sequence space (RFC 9293 §3.3.1).
    pub(crate) iss: u32,
    pub(crate) snd_una: u32,
    pub(crate) snd_nxt: u32,
    /// The highest sequence number sent so far: SND.NXT moves back after a timeout
    /// (go-back-N), and acknowledgments up to here stay acceptable.
    pub(crate) snd_max: u32,
    pub(crate) snd_wnd: u32,
    pub(crate) snd_wl1: u32,
    pub(crate) snd_wl2: u32,
    /// The peer's window shift (RFC 7323 §2.3), 0 unless both sides offered scaling.
    pub(crate) snd_shift: u8,
    /// The MSS we may send: the peer's announced MSS, or 536 without one (RFC 9293 §3.7.1).
    pub(crate) send_mss: usize,
    /// Bytes from `buf_seq` on: sent and unacknowledged, then not yet sent.
    pub(crate) send_buf: VecDeque<u8>,
    /// The sequence number of `send_buf[0]`.
    pub(crate) buf_seq: u32,
    /// Our user has called CLOSE: a FIN follows the last byte of `send_buf`.
    pub(crate) fin_queued: bool,

    // Receive sequence space.
    pub(crate) irs: u32,
    pub(crate) rcv_nxt: u32,
    /// Our window shift, announced in our SYN.
    pub(crate) rcv_shift: u8,
    /// Whether we announced a window scale in our SYN (the peer's counts only if we did).
    pub(crate) offered_scale: bool,
    /// Whether the peer's SYN carried a window scale option.
    pub(crate) peer_offered_scale: bool,
    /// Received in order, not yet read by our user.
    pub(crate) recv_buf: VecDeque<u8>,
    /// Out-of-order data, by sequence offset from RCV.NXT's stream position.
    pub(crate) ooo: BTreeMap<u64, Vec<u8>>,
    /// Stream position (bytes since the peer's SYN) of RCV.NXT's data byte.
    pub(crate) rcv_pos: u64,
    /// Stream position of the peer's FIN, once seen (possibly ahead of RCV.NXT).
    pub(crate) fin_pos: Option<u64>,
    /// Whether the peer's FIN has been taken in order.
    pub(crate) fin_received: bool,
    /// The right edge of the window we last announced.
    pub(crate) adv_edge: u32,
    /// An ACK is owed to the peer.
    pub(crate) ack_due: bool,
    /// The owed ACK must go out with the segment's own replies rather than at the end of
    /// the batch of arrivals (see [`Tcb::accept_text`]).
    pub(crate) ack_now: bool,
    /// Bytes taken in order since our last ACK.
    pub(crate) rcv_unacked: usize,

    // Timers, all as deadlines against the caller's clock.
    pub(crate) rtt: RttEstimator,
    pub(crate) rtx_deadline: Option<Instant>,
    pub(crate) retries: u32,
    /// Karn's rule (RFC 6298 §3): one timed segment, forgotten once anything is resent.
    pub(crate) rtt_probe: Option<(u32, Instant)>,
    pub(crate) time_wait_deadline: Option<Instant>,
    /// Zero-window probing (RFC 9293 §3.8.6.1).
    pub(crate) persist_deadline: Option<Instant>,

    // Congestion control (RFC 5681, with RFC 6582's recovery point).
    pub(crate) cwnd: usize,
    pub(crate) ssthresh: usize,
    pub(crate) dup_acks: u32,
    pub(crate) recover: Option<u32>,

    pub(crate) outbox: VecDeque<Queued>,
    pub(crate) error: Option<ConnError>,
    pub(crate) challenge_acks: u64,
}

fn window_shift(buffer: usize) -> u8 {
    let mut shift = 0u8;
    while shift < 14 && (buffer >> shift) > 65535 {
        shift += 1;
    }
    shift
}

impl Tcb {
    /// A TCB bound to `local`, with initial send sequence number `iss`.
    ///
    /// Use [`crate::IsnGenerator`] for `iss` (RFC 6528); tests may pick any value.
    pub fn new(cfg: Config, local: SocketAddrV4, iss: u32) -> Self {
        let rcv_shift = if cfg.window_scaling {
            window_shift(cfg.recv_buffer)
        } else {
            0
        };
        let rtt = RttEstimator::new(cfg.rto_initial);
        let cwnd = cfg.initial_window as usize * usize::from(cfg.mss);
        Tcb {
            local,
            remote: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0),
            iss,
            snd_una: iss,
            snd_nxt: iss,
            snd_max: iss,
            snd_wnd: 0,
            snd_wl1: 0,
            snd_wl2: 0,
            snd_shift: 0,
            send_mss: 536,
            send_buf: VecDeque::new(),
            buf_seq: iss.wrapping_add(1),
            fin_queued: false,
            irs: 0,
            rcv_nxt: 0,
            rcv_shift,
            offered_scale: false,
            peer_offered_scale: false,
            recv_buf: VecDeque::new(),
            ooo: BTreeMap::new(),
            rcv_pos: 0,
            fin_pos: None,
            fin_received: false,
            adv_edge: 0,
            ack_due: false,
            ack_now: false,
            rcv_unacked: 0,
            rtt,
            rtx_deadline: None,
            retries: 0,
            rtt_probe: None,
            time_wait_deadline: None,
            persist_deadline: None,
            cwnd,
            ssthresh: usize::MAX,
            dup_acks: 0,
            recover: None,
            outbox: VecDeque::new(),
            error: None,
            challenge_acks: 0,
            cfg,
        }
    }

    /// The local address.
    pub fn local(&self) -> SocketAddrV4 {
        self.local
    }

    /// The remote address (`0.0.0.0:0` until known).
    pub fn remote(&self) -> SocketAddrV4 {
        self.remote
    }

    /// Why the connection ended abnormally, if it did.
    pub fn error(&self) -> Option<ConnError> {
        self.error
    }

    /// Whether the peer's FIN has been received in order: no more data will come.
    pub fn peer_closed(&self) -> bool {
        self.fin_received
    }

    /// Bytes received in order and not yet read.
    pub fn recv_queued(&self) -> usize {
        self.recv_buf.len()
    }

    /// Bytes our user queued that the peer has not acknowledged yet.
    pub fn send_queued(&self) -> usize {
        self.send_buf.len()
    }

    /// Room left in the send buffer.
    pub fn send_capacity(&self) -> usize {
        self.cfg.send_buffer.saturating_sub(self.send_buf.len())
    }

    /// How many challenge ACKs (RFC 5961) this connection has sent.
    pub fn challenge_acks(&self) -> u64 {
        self.challenge_acks
    }

    /// Takes the segments waiting to be sent, each with a copy of its text.
    pub fn take_outbox(&mut self) -> Vec<Segment<'static>> {
        self.pin_outbox();
        std::mem::take(&mut self.outbox)
            .into_iter()
            .map(|queued| queued.segment)
            .collect()
    }

    /// Whether segments are waiting to be sent.
    pub fn has_output(&self) -> bool {
        !self.outbox.is_empty()
    }

    /// Builds the oldest segment waiting to be sent into `out` (cleared first), its text
    /// copied straight from the send buffer; false when none is waiting. A segment that
    /// cannot be built is logged and skipped.
    pub fn emit_next(&mut self, out: &mut Vec<u8>) -> bool {
        while let Some(Queued { segment, text }) = self.outbox.pop_front() {
            let built = if text == 0 {
                segment.emit_into(out)
            } else {
                segment.emit_with(&self.send_text(segment.seq, text), out)
            };
            match built {
                Ok(()) => return true,
                Err(error) => tracing::debug!(%error, "could not build a segment"),
            }
        }
        false
    }

    /// Builds every segment waiting to be sent into packets at the back of `queue`,
    /// oldest first.
    pub fn emit_outbox(&mut self, queue: &mut PacketQueue) {
        while !self.outbox.is_empty() {
            let mut packet = queue.buffer();
            if self.emit_next(&mut packet) {
                queue.push_packet(packet);
            } else {
                queue.recycle(packet);
            }
        }
    }

    /// Queues a segment that carries no text from the send buffer.
    pub(crate) fn queue_segment(&mut self, segment: Segment<'static>) {
        self.outbox.push_back(Queued { segment, text: 0 });
    }

    /// The `len` bytes at sequence number `at` in the send buffer, in the two pieces the
    /// ring may hold them in. Bytes outside the buffer are left out rather than indexed:
    /// [`Tcb::pin_outbox`] keeps every queued range inside it.
    fn send_text(&self, at: u32, len: usize) -> [&[u8]; 2] {
        let offset = at.wrapping_sub(self.buf_seq) as usize;
        let end = offset.saturating_add(len);
        debug_assert!(
            end <= self.send_buf.len(),
            "queued text left the send buffer"
        );
        let (front, back) = self.send_buf.as_slices();
        let split = front.len();
        let first = front.get(offset.min(split)..end.min(split));
        let second = back.get(offset.saturating_sub(split)..end.saturating_sub(split));
        [first.unwrap_or(&[]), second.unwrap_or(&[])]
    }

    /// Gives every queued data segment a copy of its text, before the send buffer drops
    /// bytes. Drivers take the packets before they feed in more, so there is rarely any.
    fn pin_outbox(&mut self) {
        for i in 0..self.outbox.len() {
            let Queued { segment, text } = &self.outbox[i];
            if *text > 0 {
                let owned = self.send_text(segment.seq, *text).concat();
                let queued = &mut self.outbox[i];
                queued.segment.payload = Cow::Owned(owned);
                queued.text = 0;
            }
        }
    }

    /// Drops the whole send buffer (a reset or an abort: nothing will be resent).
    pub(crate) fn drop_send_buf(&mut self) {
        self.pin_outbox();
        self.send_buf.clear();
    }

    /// STATUS (RFC 9293 §3.10.6) for a connection in `state`.
    pub fn status(&self, state: StateId) -> Status {
        Status {
            state,
            local: self.local,
            remote: self.remote,
            snd_una: self.snd_una,
            snd_nxt: self.snd_nxt,
            snd_wnd: self.snd_wnd,
            rcv_nxt: self.rcv_nxt,
            rcv_wnd: self.rcv_wnd(),
            send_queued: self.send_buf.len(),
            recv_queued: self.recv_buf.len(),
            rto: self.rtt.rto,
        }
    }

    // ----- user calls (the state checks are the machine's; these are the actions) -----

    pub(crate) fn open_active(&mut self, remote: SocketAddrV4, now: Instant) {
        self.remote = remote;
        self.send_syn(false, now);
    }

    pub(crate) fn queue_send(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.send_capacity());
        self.send_buf.extend(&data[..n]);
        n
    }

    pub(crate) fn read(&mut self, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.recv_buf.len());
        let (front, back) = self.recv_buf.as_slices();
        let first = n.min(front.len());
        buf[..first].copy_from_slice(&front[..first]);
        buf[first..n].copy_from_slice(&back[..n - first]);
        self.recv_buf.drain(..n);
        self.maybe_window_update();
        n
    }

    pub(crate) fn queue_fin(&mut self) {
        self.fin_queued = true;
    }

    /// ABORT's action (RFC 9293 §3.10.5): a RST in the states where the peer knows us.
    pub(crate) fn abort(&mut self, state: StateId) {
        use StateId::*;
        if matches!(
            state,
            SynReceived | Established | FinWait1 | FinWait2 | CloseWait
        ) {
            let mut rst = self.segment(self.snd_max, Flags::RST);
            rst.window = 0;
            self.queue_segment(rst);
        }
        self.error = Some(ConnError::Aborted);
        self.drop_send_buf();
        self.clear_timers();
    }

    pub(crate) fn clear_timers(&mut self) {
        self.rtx_deadline = None;
        self.persist_deadline = None;
        self.time_wait_deadline = None;
    }

    // ----- sequence-space helpers -----

    /// RCV.WND: the free space of the receive buffer.
    pub(crate) fn rcv_wnd(&self) -> u32 {
        let free = self.cfg.recv_buffer.saturating_sub(self.recv_buf.len());
        u32::try_from(free)
            .unwrap_or(u32::MAX)
            .min(u32::from(u16::MAX) << self.rcv_shift)
    }

    /// The sequence number our FIN has or will have.
    pub(crate) fn fin_seq(&self) -> u32 {
        self.buf_seq.wrapping_add(self.send_buf.len() as u32)
    }

    /// Whether our FIN has been sent (at least once).
    pub(crate) fn fin_sent(&self) -> bool {
        self.fin_queued && seq::gt(self.snd_max, self.fin_seq())
    }

    /// Whether our FIN has been acknowledged.
    pub(crate) fn fin_acked(&self) -> bool {
        self.fin_queued && self.snd_una == self.fin_seq().wrapping_add(1)
    }

    /// Whether our SYN has been acknowledged.
    pub(crate) fn syn_acked(&self) -> bool {
        seq::gt(self.snd_una, self.iss)
    }

    /// Whether anything we sent is unacknowledged.
    pub(crate) fn in_flight(&self) -> bool {
        self.snd_una != self.snd_max
    }

    // ----- building segments -----

    /// A segment from us to the peer with the current ACK and window.
    pub(crate) fn segment(&mut self, seq: u32, flags: Flags) -> Segment<'static> {
        let wnd = self.rcv_wnd();
        let window = if flags.syn {
            // RFC 7323 §2.2: the window in a SYN is never scaled.
            wnd.min(65535) as u16
        } else {
            (wnd >> self.rcv_shift).min(65535) as u16
        };
        if flags.ack {
            self.adv_edge = self
                .rcv_nxt
                .wrapping_add(u32::from(window) << if flags.syn { 0 } else { self.rcv_shift });
            self.ack_due = false;
            self.ack_now = false;
            self.rcv_unacked = 0;
        }
        Segment {
            src: Some(self.local),
            dst: Some(self.remote),
            seq,
            ack: if flags.ack { self.rcv_nxt } else { 0 },
            flags,
            window,
            mss: None,
            window_scale: None,
            payload: Cow::Borrowed(&[]),
        }
    }

    /// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, where SND.NXT is the highest sequence
    /// number sent: after a time-out SND.NXT moves back to resend, and an ACK carrying
    /// the lower number would fall left of the peer's window and be dropped, ACK and all.
    pub(crate) fn send_ack(&mut self) {
        let ack = self.segment(self.snd_max, Flags::ACK);
        self.queue_segment(ack);
    }

    /// A challenge ACK (RFC 5961 §3.2, §4.2): the same ACK, counted.
    pub(crate) fn send_challenge_ack(&mut self) {
        self.challenge_acks += 1;
        self.send_ack();
    }

    /// Our SYN (active open) or SYN-ACK (passive open), with MSS and window scale options.
    pub(crate) fn send_syn(&mut self, with_ack: bool, now: Instant) {
        let flags = if with_ack { Flags::SYN_ACK } else { Flags::SYN };
        let mut syn = self.segment(self.iss, flags);
        syn.mss = Some(self.cfg.mss);
        // RFC 7323 §1.3: a SYN-ACK may carry the option only if the SYN did.
        let offer = self.cfg.window_scaling && (!with_ack || self.snd_shift_offered());
        if offer {
            syn.window_scale = Some(self.rcv_shift);
            self.offered_scale = true;
        }
        self.queue_segment(syn);
        self.snd_nxt = self.iss.wrapping_add(1);
        if seq::lt(self.snd_max, self.snd_nxt) {
            self.snd_max = self.snd_nxt;
        }
        if self.rtx_deadline.is_none() {
            self.rtx_deadline = Some(now + self.rtt.rto);
        }
        if self.retries == 0 && self.rtt_probe.is_none() {
            self.rtt_probe = Some((self.snd_nxt, now));
        }
    }

    fn snd_shift_offered(&self) -> bool {
        self.snd_shift != 0 || self.peer_offered_scale
    }

    /// Reads the options of the peer's SYN (RFC 9293 §3.7.1, RFC 7323 §2.2).
    pub(crate) fn take_syn_options(&mut self, syn: &Segment<'_>) {
        self.send_mss = usize::from(syn.mss.unwrap_or(536)).clamp(64, usize::from(self.cfg.mss));
        self.peer_offered_scale = syn.window_scale.is_some();
        // RFC 7323 §2.3: a shift above 14 is taken as 14.
        self.snd_shift = syn.window_scale.map_or(0, |s| s.min(14));
        self.cwnd = self.cfg.initial_window as usize * self.send_mss;
    }

    /// Applies the scale negotiation once both SYNs are known (RFC 7323 §2.2): scaling
    /// is on only if both sides offered it.
    pub(crate) fn settle_scaling(&mut self) {
        if !(self.offered_scale && self.peer_offered_scale) {
            self.snd_shift = 0;
            self.rcv_shift = 0;
        }
    }
}

impl Tcb {
    // ----- sending data (RFC 9293 §3.8, RFC 5681) -----

    /// Segments queued data and a queued FIN as the windows allow, and owes-ACKs.
    /// `may_send_data` is false before the handshake is complete.
    pub(crate) fn transmit(&mut self, now: Instant, may_send_data: bool) {
        if may_send_data {
            while self.send_one(now) {}
            self.maybe_persist(now);
        }
        if self.ack_due {
            self.send_ack();
        }
    }

    /// Sends the next segment at SND.NXT if there is something to send and room for it.
    fn send_one(&mut self, now: Instant) -> bool {
        let offset = self.snd_nxt.wrapping_sub(self.buf_seq) as usize;
        let unsent = self.send_buf.len().saturating_sub(offset);
        let flight = self.snd_nxt.wrapping_sub(self.snd_una) as usize;
        let window = (self.snd_wnd as usize).min(self.cwnd);
        let room = window.saturating_sub(flight);
        let len = unsent.min(room).min(self.send_mss);
        let fin_now = self.fin_queued
            && len == unsent
            && self.snd_nxt.wrapping_add(len as u32) == self.fin_seq();
        // Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1): send a short segment
        // only if it empties the queue or nothing is in flight.
        if len == 0 && !fin_now {
            return false;
        }
        if len < self.send_mss && len < unsent && flight > 0 {
            return false;
        }
        self.emit_at(self.snd_nxt, len, fin_now, now);
        true
    }

    /// Queues the segment of `len` bytes at `at` (plus our FIN if `fin`); its text stays
    /// in the send buffer until the segment is built.
    fn emit_at(&mut self, at: u32, len: usize, fin: bool, now: Instant) {
        let flags = Flags {
            fin,
            psh: len > 0,
            ..Flags::ACK
        };
        let segment = self.segment(at, flags);
        let end = at.wrapping_add(len as u32 + u32::from(fin));
        self.outbox.push_back(Queued { segment, text: len });
        if seq::gt(end, self.snd_nxt) {
            self.snd_nxt = end;
        }
        if seq::gt(end, self.snd_max) {
            // New data: time it unless a retransmission is pending (Karn, RFC 6298 §3).
            if self.rtt_probe.is_none() && self.retries == 0 {
                self.rtt_probe = Some((end, now));
            }
            self.snd_max = end;
        }
        if self.rtx_deadline.is_none() {
            // RFC 6298 §5.1: start the timer when data goes out and it is not running.
            self.rtx_deadline = Some(now + self.rtt.rto);
        }
    }

    /// Zero-window probing (RFC 9293 §3.8.6.1): with data queued, nothing in flight and
    /// a zero send window, a persist timer sends one byte now and then.
    fn maybe_persist(&mut self, now: Instant) {
        let unsent = (self.snd_nxt.wrapping_sub(self.buf_seq) as usize) < self.send_buf.len();
        if self.snd_wnd == 0 && unsent && !self.in_flight() {
            if self.persist_deadline.is_none() {
                self.persist_deadline = Some(now + self.rtt.rto);
            }
        } else {
            self.persist_deadline = None;
        }
    }

    /// The persist timer fired: probe with one byte beyond the window. The byte then
    /// counts as in flight, so the retransmission timer repeats the probe, backing off,
    /// until the window opens.
    fn probe_zero_window(&mut self, now: Instant) {
        self.persist_deadline = None;
        self.emit_at(self.snd_nxt, 1, false, now);
    }

    // ----- acknowledgments (RFC 9293 §3.10.7.4 fifth, RFC 6298, RFC 5681) -----

    /// Handles an acceptable SEG.ACK in a synchronized state: `SND.UNA < ack <= SND.MAX`.
    pub(crate) fn ack_advances(&mut self, ack: u32, now: Instant) {
        let acked = ack.wrapping_sub(self.snd_una) as usize;
        self.snd_una = ack;
        if seq::lt(self.snd_nxt, ack) {
            self.snd_nxt = ack;
        }
        // Drop acknowledged data from the retransmission queue (the SYN and the FIN
        // occupy sequence space but no buffer).
        let data_acked = ack.wrapping_sub(self.buf_seq) as i32;
        if data_acked > 0 {
            let n = (data_acked as usize).min(self.send_buf.len());
            self.pin_outbox();
            self.send_buf.drain(..n);
            self.buf_seq = self.buf_seq.wrapping_add(n as u32);
        }
        if let Some((end, sent)) = self.rtt_probe
            && seq::ge(ack, end)
        {
            self.rtt
                .sample(now - sent, self.cfg.rto_min, self.cfg.rto_max);
            self.rtt_probe = None;
        }
        self.retries = 0;
        self.grow_cwnd(acked, now);
        // RFC 6298 §5.2 and §5.3: stop the timer when all is acknowledged, else restart it.
        self.rtx_deadline = self.in_flight().then(|| now + self.rtt.rto);
        self.dup_acks = 0;
    }

    /// Congestion window growth and NewReno recovery (RFC 5681 §3.1, RFC 6582 §3.2).
    fn grow_cwnd(&mut self, acked: usize, now: Instant) {
        let mss = self.send_mss;
        match self.recover {
            Some(recover) if seq::lt(self.snd_una, recover) => {
                // Partial acknowledgment: the next hole is lost too; resend it at once.
                self.cwnd = self.cwnd.saturating_sub(acked).max(mss) + mss;
                self.resend_head(now);
            }
            Some(_) => {
                self.recover = None;
                self.cwnd = self.ssthresh;
            }
            None if self.cwnd < self.ssthresh => self.cwnd += acked.min(mss),
            None => self.cwnd += (mss * mss / self.cwnd).max(1),
        }
    }

    /// A duplicate ACK (RFC 5681 §2): on the third, fast retransmit (§3.2).
    pub(crate) fn duplicate_ack(&mut self, now: Instant) {
        self.dup_acks += 1;
        let mss = self.send_mss;
        if self.recover.is_some() {
            self.cwnd += mss;
        } else if self.dup_acks == 3 {
            let flight = self.snd_max.wrapping_sub(self.snd_una) as usize;
            self.ssthresh = (flight / 2).max(2 * mss);
            self.cwnd = self.ssthresh + 3 * mss;
            self.recover = Some(self.snd_max);
            self.rtt_probe = None;
            self.resend_head(now);
        }
    }

    /// Resends the segment at SND.UNA without moving SND.NXT.
    fn resend_head(&mut self, now: Instant) {
        let saved = self.snd_nxt;
        let queued = self.send_buf.len();
        let head_offset = self.snd_una.wrapping_sub(self.buf_seq) as usize;
        let len = queued.saturating_sub(head_offset).min(self.send_mss);
        let fin = self.fin_sent() && self.snd_una.wrapping_add(len as u32) == self.fin_seq();
        if len > 0 || fin {
            self.emit_at(self.snd_una, len, fin, now);
        }
        self.snd_nxt = saved;
    }

    /// Updates SND.WND from a segment if it is newer (RFC 9293 §3.10.7.4 fifth, the
    /// SND.WL1/SND.WL2 rule). Returns whether the window changed.
    pub(crate) fn update_window(&mut self, segment: &Segment<'_>) -> bool {
        let newer = seq::lt(self.snd_wl1, segment.seq)
            || (self.snd_wl1 == segment.seq && seq::le(self.snd_wl2, segment.ack));
        if !newer {
            return false;
        }
        let wnd = u32::from(segment.window) << self.snd_shift;
        let changed = wnd != self.snd_wnd;
        self.snd_wnd = wnd;
        self.snd_wl1 = segment.seq;
        self.snd_wl2 = segment.ack;
        changed
    }

    // ----- timers -----

    /// Runs the timers due at `now`. Returns true when the connection must be given up
    /// (RFC 9293 §3.8.3: too many retransmissions).
    pub(crate) fn on_timers(&mut self, now: Instant) -> bool {
        if self.persist_deadline.is_some_and(|t| t <= now) {
            self.probe_zero_window(now);
        }
        let Some(deadline) = self.rtx_deadline else {
            return false;
        };
        if deadline > now {
            return false;
        }
        if self.retries >= self.cfg.max_retries {
            self.error = Some(ConnError::TimedOut);
            self.clear_timers();
            return true;
        }
        self.retries += 1;
        // RFC 6298 §5.5 and §5.6: back off and restart; Karn: no sample from this.
        self.rtt.back_off(self.cfg.rto_max);
        self.rtt_probe = None;
        self.rtx_deadline = Some(now + self.rtt.rto);
        // RFC 5681 §3.1 (eq. 4): after a timeout, one segment and slow start again.
        let flight = self.snd_max.wrapping_sub(self.snd_una) as usize;
        self.ssthresh = (flight / 2).max(2 * self.send_mss);
        self.cwnd = self.send_mss;
        self.recover = None;
        self.dup_acks = 0;
        false
    }

    /// After a retransmission timeout in a synchronized state: go back to SND.UNA.
    pub(crate) fn go_back_n(&mut self, now: Instant) {
        self.snd_nxt = self.snd_una;
        if !self.send_one(now) {
            // Nothing fits (zero window): resend the head anyway as the probe.
            self.resend_head(now);
        }
    }

    /// The earliest deadline of any timer.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        [
            self.rtx_deadline,
            self.persist_deadline,
            self.time_wait_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    // ----- receiving data (RFC 9293 §3.10.7.4 seventh) -----

    /// Accepts the payload of an acceptable segment (already trimmed to the window) and
    /// notes a FIN; returns true when RCV.NXT now covers the peer's FIN.
    ///
    /// The ACK it owes waits for the end of the batch of arrivals (the next poll), so a
    /// burst is acknowledged once, except that RFC 5681 §4.2 wants one at once for a
    /// segment out of order or one that fills a gap (the sender's duplicate ACKs and
    /// recovery depend on them), and RFC 9293 §3.8.6.3 at least one for every second
    /// full-sized segment.
    pub(crate) fn accept_text(&mut self, segment: &Segment<'_>) -> bool {
        // Stream position of the segment's first data byte.
        let start_seq = segment.seq.wrapping_add(u32::from(segment.flags.syn));
        let rel = start_seq.wrapping_sub(self.rcv_nxt) as i32;
        let pos = self.rcv_pos as i64 + i64::from(rel);
        let payload = &segment.payload[..];
        if segment.flags.fin {
            let fin_pos = pos + payload.len() as i64;
            if fin_pos >= self.rcv_pos as i64 {
                self.fin_pos = Some(fin_pos as u64);
            }
        }
        let out_of_order = pos > self.rcv_pos as i64 || !self.ooo.is_empty();
        let before = self.rcv_pos;
        if !payload.is_empty() {
            self.store(pos, payload);
        }
        self.rcv_unacked += (self.rcv_pos - before) as usize;
        // Only segments that occupy sequence space are acknowledged; acknowledging a bare
        // ACK would start an endless exchange of them.
        if !segment.is_empty() {
            self.ack_due = true;
            self.ack_now |= out_of_order || self.rcv_unacked >= 2 * usize::from(self.cfg.mss);
        }
        self.fin_pos == Some(self.rcv_pos) && !self.fin_received
    }

    /// Sends the owed ACK now if it cannot wait for the end of the batch.
    pub(crate) fn send_pressing_ack(&mut self) {
        if self.ack_now && self.ack_due {
            self.send_ack();
        }
        self.ack_now = false;
    }

    /// Places data at stream position `pos`, trimming what was already received or lies
    /// beyond the window, and delivers whatever is now in order.
    fn store(&mut self, pos: i64, data: &[u8]) {
        let rcv_pos = self.rcv_pos as i64;
        let skip = (rcv_pos - pos).max(0) as usize;
        if skip >= data.len() {
            return;
        }
        let pos = pos.max(rcv_pos) as u64;
        let data = &data[skip..];
        let limit = (self.rcv_pos + u64::from(self.rcv_wnd())).saturating_sub(pos) as usize;
        let data = &data[..data.len().min(limit)];
        if data.is_empty() {
            return;
        }
        if pos == self.rcv_pos {
            self.deliver(data);
            self.drain_reassembly();
        } else {
            // Out of order: keep it (RFC 9293 §3.10.7.4 seventh allows holding segments
            // that start beyond RCV.NXT); a longer copy at the same place wins.
            let keep = self.ooo.get(&pos).is_none_or(|old| old.len() < data.len());
            if keep {
                self.ooo.insert(pos, data.to_vec());
            }
        }
    }

    fn deliver(&mut self, data: &[u8]) {
        if self.recv_buf.capacity() == 0 {
            // The window promises the whole buffer; taking it at once spares the copies
            // of growing it step by step (untouched pages cost no memory).
            self.recv_buf.reserve_exact(self.cfg.recv_buffer);
        }
        self.recv_buf.extend(data);
        self.rcv_pos += data.len() as u64;
        self.rcv_nxt = self.rcv_nxt.wrapping_add(data.len() as u32);
    }

    fn drain_reassembly(&mut self) {
        while let Some(entry) = self.ooo.first_entry() {
            let pos = *entry.key();
            if pos > self.rcv_pos {
                break;
            }
            let data = entry.remove();
            let skip = (self.rcv_pos - pos) as usize;
            if skip < data.len() {
                self.deliver(&data[skip..]);
            }
        }
    }

    /// Takes the peer's FIN in order: RCV.NXT moves past it (RFC 9293 §3.10.7.4 eighth).
    pub(crate) fn take_fin(&mut self) {
        tracing::trace!(rcv_pos = self.rcv_pos, "peer's FIN taken in order");
        self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
        self.fin_received = true;
        self.ack_due = true;
    }

    /// After our user read data: announce a window that opened by at least one MSS or
    /// half the buffer (receiver silly window avoidance, RFC 9293 §3.8.6.2.2).
    fn maybe_window_update(&mut self) {
        let edge = self.rcv_nxt.wrapping_add(self.rcv_wnd());
        let grown = edge.wrapping_sub(self.adv_edge) as i32;
        let threshold = (self.cfg.recv_buffer / 2).min(usize::from(self.cfg.mss)) as i32;
        if grown >= threshold.max(1) && !self.fin_received {
            self.ack_due = true;
        }
    }
}
