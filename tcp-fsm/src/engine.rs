//! The sans-I/O connection engine: segments, user calls and the time go in, segments
//! come out. No clock, socket or thread is touched here.
//!
//! A [`Connection`] holds the typestate machine of [`crate::machine`] in its run-time
//! form. Each handler below is one part of RFC 9293 §3.10.7 ("SEGMENT ARRIVES") and moves
//! the machine only with `fire`, so every state change is a declared edge; a move the
//! declaration does not allow is logged and counted, never taken.

use std::net::{Ipv4Addr, SocketAddrV4};

use crate::machine::{Tcp, tcp};
use crate::seq;
use crate::tcb::{Config, ConnError, Status, Tcb};
use crate::time::Instant;
use crate::wire::{Flags, PacketQueue, Segment};

use tcp::StateId;

/// Why a user call was refused (the errors RFC 9293 §3.10 names for each state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// "error: connection does not exist": the call needs a connection and it is CLOSED.
    #[error("connection does not exist")]
    DoesNotExist,
    /// "error: connection closing": our side has closed, or the call comes too late.
    #[error("connection closing")]
    Closing,
    /// The handshake has not finished; this stack does not queue data before it.
    #[error("connection not yet established")]
    NotYetEstablished,
    /// "error: connection already exists": OPEN on an open connection.
    #[error("connection already exists")]
    AlreadyExists,
    /// The connection ended abnormally.
    #[error("{0}")]
    Failed(ConnError),
}

/// One connection: the typestate machine in its run-time form, driven by segments and
/// time.
///
/// After [`on_segment`](Connection::on_segment), a user call or when
/// [`poll_at`](Connection::poll_at) is due, call [`poll`](Connection::poll) and send the
/// packets [`emit_next`](Connection::emit_next) builds (or, to look at the segments,
/// what [`take_outbox`](Connection::take_outbox) returns). A batch of segments may arrive
/// before the poll: what the segments themselves call for (RSTs, SYN,ACKs, challenge
/// ACKs, and the ACKs RFC 5681 §4.2 wants at once) is queued as they arrive, and the
/// poll sends data and acknowledges the rest of the batch once.
#[derive(Debug)]
pub struct Connection {
    machine: tcp::Runtime,
    illegal_moves: u64,
}

impl<S: tcp::TcpState> From<Tcp<S>> for Connection {
    fn from(machine: Tcp<S>) -> Self {
        Connection {
            machine: machine.into(),
            illegal_moves: 0,
        }
    }
}

fn placeholder() -> tcp::Runtime {
    let nowhere = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0);
    Tcp::new(Tcb::new(Config::default(), nowhere, 0), tcp::Closed).into()
}

/// The reply to a segment for which no connection exists (RFC 9293 §3.10.7.1): a RST
/// unless the segment is one.
pub fn reset_for(segment: &Segment<'_>) -> Option<Segment<'static>> {
    if segment.flags.rst {
        return None;
    }
    let mut reply = Segment {
        src: segment.dst,
        dst: segment.src,
        ..Segment::default()
    };
    if segment.flags.ack {
        reply.seq = segment.ack;
        reply.flags = Flags::RST;
    } else {
        reply.ack = segment.seq_end();
        reply.flags = Flags::RST_ACK;
    }
    Some(reply)
}

impl Connection {
    /// A connection in LISTEN bound to `local`, as a stack makes one per incoming SYN.
    pub fn listening(cfg: Config, local: SocketAddrV4, iss: u32) -> Self {
        Tcp::new(Tcb::new(cfg, local, iss), tcp::Closed)
            .listen()
            .into()
    }

    /// A connection that has sent its SYN to `remote` (active OPEN).
    pub fn connecting(
        cfg: Config,
        local: SocketAddrV4,
        remote: SocketAddrV4,
        iss: u32,
        now: Instant,
    ) -> Self {
        Tcp::new(Tcb::new(cfg, local, iss), tcp::Closed)
            .connect(remote, now)
            .into()
    }

    /// The state.
    pub fn state(&self) -> StateId {
        self.machine.state_id()
    }

    /// The typestate machine, to match on and reach its typed calls.
    pub fn machine(&self) -> &tcp::Runtime {
        &self.machine
    }

    /// The typestate machine, mutably.
    pub fn machine_mut(&mut self) -> &mut tcp::Runtime {
        &mut self.machine
    }

    /// The transmission control block.
    pub fn tcb(&self) -> &Tcb {
        self.machine.context()
    }

    fn tcb_mut(&mut self) -> &mut Tcb {
        self.machine.context_mut()
    }

    /// How many times the engine tried a move the declaration does not have (a bug if
    /// ever non-zero; the tests assert it stays zero).
    pub fn illegal_moves(&self) -> u64 {
        self.illegal_moves
    }

    /// Segments to send, oldest first, each with a copy of its data.
    pub fn take_outbox(&mut self) -> Vec<Segment<'static>> {
        self.tcb_mut().take_outbox()
    }

    /// Builds the segments to send into packets at the back of `queue`, oldest first,
    /// their data copied once, from the send buffer into the packet.
    pub fn emit_outbox(&mut self, queue: &mut PacketQueue) {
        self.tcb_mut().emit_outbox(queue);
    }

    /// Builds the oldest segment to send into `out`, as [`emit_outbox`] does, one at a
    /// time; false when there is none.
    ///
    /// [`emit_outbox`]: Connection::emit_outbox
    pub fn emit_next(&mut self, out: &mut Vec<u8>) -> bool {
        self.tcb_mut().emit_next(out)
    }

    /// Whether segments are waiting to be sent.
    pub fn has_output(&self) -> bool {
        self.tcb().has_output()
    }

    /// When [`poll`](Connection::poll) must next run, if a timer is set.
    pub fn poll_at(&self) -> Option<Instant> {
        self.tcb().next_deadline()
    }

    /// STATUS, in any state.
    pub fn status(&self) -> Status {
        self.tcb().status(self.state())
    }

    fn fire(&mut self, event: tcp::Event) {
        let machine = std::mem::replace(&mut self.machine, placeholder());
        let from = machine.state_id();
        self.machine = match machine.fire(event) {
            Ok(next) => {
                tracing::trace!(?from, to = ?next.state_id(), "state change");
                next
            }
            Err(refused) => {
                tracing::error!(%refused, "engine attempted an undeclared move");
                self.illegal_moves += 1;
                refused.into_machine()
            }
        };
    }

    fn replace(&mut self, f: impl FnOnce(tcp::Runtime) -> tcp::Runtime) {
        let machine = std::mem::replace(&mut self.machine, placeholder());
        self.machine = f(machine);
    }

    // ----- user calls at run time, each through the typed call of its state -----

    fn closed_error(&self) -> CallError {
        self.tcb()
            .error()
            .map_or(CallError::DoesNotExist, CallError::Failed)
    }

    /// SEND (RFC 9293 §3.10.2).
    ///
    /// # Errors
    ///
    /// The RFC's error for the state; before the handshake this stack refuses rather
    /// than queues.
    pub fn send(&mut self, data: &[u8]) -> Result<usize, CallError> {
        use tcp::Runtime as R;
        match &mut self.machine {
            R::Established(m) => Ok(m.send(data)),
            R::CloseWait(m) => Ok(m.send(data)),
            R::Closed(_) => Err(self.closed_error()),
            R::Listen(_) | R::SynSent(_) | R::SynReceived(_) => Err(CallError::NotYetEstablished),
            _ => Err(CallError::Closing),
        }
    }

    /// RECEIVE (RFC 9293 §3.10.3). `Ok(0)` with [`Tcb::peer_closed`] means end of stream.
    ///
    /// Bytes that arrived before the peer's FIN stay readable after it, in any state: the
    /// FIN pushed them to the user (RFC 9293 §3.10.7.4 eighth, "FIN implies PUSH").
    ///
    /// # Errors
    ///
    /// [`CallError::Failed`] after a reset or a time-out, once nothing is left to read.
    pub fn receive(&mut self, buf: &mut [u8]) -> Result<usize, CallError> {
        use tcp::Runtime as R;
        let n = match &mut self.machine {
            R::Established(m) => m.receive(buf),
            R::FinWait1(m) => m.receive(buf),
            R::FinWait2(m) => m.receive(buf),
            R::CloseWait(m) => m.receive(buf),
            other => other.context_mut().read(buf),
        };
        match self.tcb().error() {
            Some(e) if n == 0 && !buf.is_empty() && e != ConnError::Aborted => {
                Err(CallError::Failed(e))
            }
            _ => Ok(n),
        }
    }

    /// CLOSE (RFC 9293 §3.10.4): our side sends no more; the peer may still send.
    ///
    /// # Errors
    ///
    /// [`CallError::DoesNotExist`] in CLOSED, [`CallError::Closing`] once closed already.
    pub fn close(&mut self) -> Result<(), CallError> {
        use tcp::Runtime as R;
        match self.state() {
            StateId::Closed => return Err(self.closed_error()),
            StateId::FinWait1
            | StateId::FinWait2
            | StateId::Closing
            | StateId::LastAck
            | StateId::TimeWait => return Err(CallError::Closing),
            _ => {}
        }
        self.replace(|machine| match machine {
            R::Listen(m) => m.close::<tcp::Closed>().into(),
            R::SynSent(m) => m.close::<tcp::Closed>().into(),
            R::SynReceived(m) => m.close::<tcp::FinWait1>().into(),
            R::Established(m) => m.close::<tcp::FinWait1>().into(),
            R::CloseWait(m) => m.close::<tcp::LastAck>().into(),
            other => other,
        });
        Ok(())
    }

    /// ABORT (RFC 9293 §3.10.5).
    ///
    /// # Errors
    ///
    /// [`CallError::DoesNotExist`] in CLOSED.
    pub fn abort(&mut self) -> Result<(), CallError> {
        use tcp::Runtime as R;
        if self.state() == StateId::Closed {
            return Err(self.closed_error());
        }
        self.replace(|machine| match machine {
            R::Listen(m) => m.abort().into(),
            R::SynSent(m) => m.abort().into(),
            R::SynReceived(m) => m.abort().into(),
            R::Established(m) => m.abort().into(),
            R::FinWait1(m) => m.abort().into(),
            R::FinWait2(m) => m.abort().into(),
            R::CloseWait(m) => m.abort().into(),
            R::Closing(m) => m.abort().into(),
            R::LastAck(m) => m.abort().into(),
            R::TimeWait(m) => m.abort().into(),
            closed @ R::Closed(_) => closed,
        });
        Ok(())
    }

    // ----- time -----

    /// Runs due timers and sends what the windows allow.
    pub fn poll(&mut self, now: Instant) {
        let state = self.state();
        if state == StateId::TimeWait {
            if self.tcb().time_wait_deadline.is_some_and(|t| t <= now) {
                // RFC 9293 §3.10.8: the 2 MSL time-out deletes the TCB.
                self.tcb_mut().clear_timers();
                self.fire(tcp::Event::Timeout2msl);
            }
            self.flush_ack();
            return;
        }
        if matches!(state, StateId::Closed | StateId::Listen) {
            return;
        }
        let expired = self.tcb().rtx_deadline.is_some_and(|t| t <= now);
        if self.tcb_mut().on_timers(now) {
            // RFC 9293 §3.8.3: past R2, give the connection up.
            tracing::debug!(?state, "retransmission limit reached");
            if state != StateId::FinWait2 {
                self.fire(tcp::Event::UserTimeout);
            }
            return;
        }
        if expired {
            self.retransmit(state, now);
        }
        self.transmit(now);
    }

    fn retransmit(&mut self, state: StateId, now: Instant) {
        tracing::trace!(?state, "retransmission timeout");
        let tcb = self.tcb_mut();
        match state {
            StateId::SynSent => tcb.send_syn(false, now),
            StateId::SynReceived if !tcb.syn_acked() => tcb.send_syn(true, now),
            _ if tcb.in_flight() => tcb.go_back_n(now),
            _ => {}
        }
    }

    fn transmit(&mut self, now: Instant) {
        let state = self.state();
        let may_send = self.tcb().syn_acked()
            && matches!(
                state,
                StateId::Established
                    | StateId::CloseWait
                    | StateId::FinWait1
                    | StateId::LastAck
                    | StateId::Closing
            );
        if matches!(state, StateId::SynSent | StateId::Listen | StateId::Closed) {
            return;
        }
        self.tcb_mut().transmit(now, may_send);
    }

    fn flush_ack(&mut self) {
        if self.tcb().ack_due {
            self.tcb_mut().send_ack();
        }
    }

    // ----- SEGMENT ARRIVES (RFC 9293 §3.10.7) -----

    /// Processes one segment addressed to this connection.
    pub fn on_segment(&mut self, segment: &Segment<'_>, now: Instant) {
        tracing::trace!(state = ?self.state(), seq = segment.seq, ack = segment.ack, len = segment.len(), "segment arrives");
        match self.state() {
            StateId::Closed => {
                if let Some(rst) = reset_for(segment) {
                    self.tcb_mut().queue_segment(rst);
                }
            }
            StateId::Listen => self.listen_arrives(segment, now),
            StateId::SynSent => self.syn_sent_arrives(segment, now),
            _ => self.synchronized_arrives(segment, now),
        }
        self.tcb_mut().send_pressing_ack();
    }

    /// RFC 9293 §3.10.7.2: LISTEN.
    fn listen_arrives(&mut self, segment: &Segment<'_>, now: Instant) {
        let flags = segment.flags;
        if flags.rst {
            return;
        }
        if flags.ack {
            // An ACK in LISTEN belongs to no connection of ours.
            if let Some(rst) = reset_for(segment) {
                self.tcb_mut().queue_segment(rst);
            }
            return;
        }
        if !flags.syn {
            return;
        }
        let tcb = self.tcb_mut();
        tcb.remote = segment.src_addr();
        tcb.local = segment.dst_addr();
        tcb.irs = segment.seq;
        tcb.rcv_nxt = segment.seq.wrapping_add(1);
        tcb.take_syn_options(segment);
        // RFC 7323 §2.2: the window of a SYN is not scaled.
        tcb.snd_wnd = u32::from(segment.window);
        tcb.snd_wl1 = segment.seq;
        tcb.snd_wl2 = tcb.iss;
        tcb.send_syn(true, now);
        tcb.settle_scaling();
        self.fire(tcp::Event::RcvSyn);
    }

    /// RFC 9293 §3.10.7.3: SYN-SENT.
    fn syn_sent_arrives(&mut self, segment: &Segment<'_>, now: Instant) {
        let flags = segment.flags;
        let tcb = self.tcb_mut();
        if flags.ack && !segment.acks_within(tcb.iss, tcb.snd_max) {
            // First, check the ACK: it must acknowledge our SYN and nothing beyond;
            // an unacceptable one gets <SEQ=SEG.ACK><CTL=RST>, unless it is an RST.
            if let Some(rst) = reset_for(segment) {
                tcb.queue_segment(rst);
            }
            return;
        }
        if flags.rst {
            // Second: a RST is acceptable only with an acceptable ACK (RFC 5961 §3.2
            // keeps this rule for SYN-SENT).
            if flags.ack {
                tcb.error = Some(ConnError::Refused);
                tcb.clear_timers();
                self.fire(tcp::Event::RcvRst);
            }
            return;
        }
        if !flags.syn {
            return;
        }
        tcb.irs = segment.seq;
        tcb.rcv_nxt = segment.seq.wrapping_add(1);
        tcb.take_syn_options(segment);
        tcb.settle_scaling();
        tcb.snd_wnd = u32::from(segment.window);
        tcb.snd_wl1 = segment.seq;
        tcb.snd_wl2 = segment.ack;
        if flags.ack {
            tcb.ack_advances(segment.ack, now);
            tcb.ack_due = true;
            self.fire(tcp::Event::RcvSynAck);
        } else {
            // Simultaneous open (RFC 9293 §3.5, Figure 8): answer with SYN,ACK.
            tcb.snd_nxt = tcb.iss;
            tcb.send_syn(true, now);
            self.fire(tcp::Event::RcvSyn);
        }
    }

    /// The sequence number test (RFC 9293 §3.10.7.4 first, the four cases).
    fn acceptable(tcb: &Tcb, segment: &Segment<'_>) -> bool {
        let wnd = tcb.rcv_wnd();
        let len = segment.len();
        let nxt = tcb.rcv_nxt;
        let end = nxt.wrapping_add(wnd);
        match (len, wnd) {
            (0, 0) => segment.seq == nxt,
            // The right edge itself is let in for empty segments, as Linux does: a peer
            // that filled our window exactly sends its ACKs there.
            (0, _) => seq::in_range(nxt, segment.seq, end.wrapping_add(1)),
            (_, 0) => false,
            _ => {
                seq::in_range(nxt, segment.seq, end)
                    || seq::in_range(nxt, segment.seq.wrapping_add(len - 1), end)
            }
        }
    }

    /// RFC 9293 §3.10.7.4: SYN-RECEIVED and every synchronized state.
    fn synchronized_arrives(&mut self, segment: &Segment<'_>, now: Instant) {
        if self.state() == StateId::SynReceived
            && segment.flags.syn
            && segment.seq == self.tcb().irs
        {
            self.syn_received_syn(segment, now);
            return;
        }
        let mut segment = std::borrow::Cow::Borrowed(segment);
        if !Self::acceptable(self.tcb(), &segment) {
            let zero_window_ack = self.tcb().rcv_wnd() == 0
                && segment.seq == self.tcb().rcv_nxt
                && segment.flags.ack
                && !segment.flags.rst;
            if !zero_window_ack {
                if !segment.flags.rst {
                    self.tcb_mut().send_ack();
                }
                if self.state() == StateId::TimeWait && segment.flags.fin {
                    // RFC 9293 §3.6.1: a retransmitted FIN in TIME-WAIT (an old duplicate
                    // by the sequence test) is acknowledged and restarts the 2 MSL wait.
                    let tcb = self.tcb_mut();
                    tcb.time_wait_deadline = Some(now + tcb.cfg.time_wait);
                }
                return;
            }
            // RFC 9293 §3.10.7.4: with a zero window, still take the ACK of a segment
            // whose text cannot be accepted.
            let owned = segment.to_mut();
            owned.payload = std::borrow::Cow::Borrowed(&[]);
            owned.flags.fin = false;
            self.tcb_mut().ack_due = true;
        }
        if segment.flags.rst {
            if self.state() != StateId::TimeWait {
                self.rst_arrives(&segment);
            }
            // RFC 1337 §3 (TIME-WAIT assassination): a RST in TIME-WAIT is ignored, so
            // that the 2 MSL wait does what it is for.
            return;
        }
        if segment.flags.syn {
            // RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK.
            self.tcb_mut().send_challenge_ack();
            return;
        }
        if !segment.flags.ack {
            return;
        }
        if !self.ack_arrives(&segment, now) {
            return;
        }
        self.text_and_fin(&segment, now);
    }

    /// A SYN at the peer's ISN in SYN-RECEIVED: our SYN,ACK was lost (resend it), or in a
    /// simultaneous open the peer's SYN,ACK arrived (take its ACK). RFC 9293 would drop
    /// the latter after an ACK and wait for our retransmission; Linux takes it, as here.
    fn syn_received_syn(&mut self, segment: &Segment<'_>, now: Instant) {
        let tcb = self.tcb_mut();
        if segment.flags.ack && segment.acks_within(tcb.snd_una, tcb.snd_max) {
            tcb.ack_advances(segment.ack, now);
            tcb.snd_wnd = u32::from(segment.window);
            tcb.snd_wl1 = segment.seq;
            tcb.snd_wl2 = segment.ack;
            tcb.ack_due = true;
            self.fire(tcp::Event::RcvAckOfSyn);
        } else if !segment.flags.ack && !segment.flags.rst {
            tcb.snd_nxt = tcb.iss;
            tcb.send_syn(true, now);
        }
    }

    /// Second, the RST bit (RFC 9293 §3.10.7.4, refined by RFC 5961 §3.2).
    fn rst_arrives(&mut self, segment: &Segment<'_>) {
        let tcb = self.tcb_mut();
        if segment.seq != tcb.rcv_nxt {
            // In the window but not exactly at RCV.NXT: maybe forged; challenge it.
            tcb.send_challenge_ack();
            return;
        }
        tcb.error = Some(ConnError::Reset);
        tcb.drop_send_buf();
        tcb.clear_timers();
        tracing::debug!("connection reset by peer");
        self.fire(tcp::Event::RcvRst);
    }

    /// Fifth, the ACK field. Returns false when the segment is to be dropped here.
    fn ack_arrives(&mut self, segment: &Segment<'_>, now: Instant) -> bool {
        let state = self.state();
        let tcb = self.tcb_mut();
        if state == StateId::SynReceived {
            if !segment.acks_within(tcb.snd_una, tcb.snd_max) {
                // The ACK bit is on here, so this is <SEQ=SEG.ACK><CTL=RST>.
                if let Some(rst) = reset_for(segment) {
                    tcb.queue_segment(rst);
                }
                return false;
            }
            tcb.ack_advances(segment.ack, now);
            tcb.snd_wnd = u32::from(segment.window) << tcb.snd_shift;
            tcb.snd_wl1 = segment.seq;
            tcb.snd_wl2 = segment.ack;
            self.fire(tcp::Event::RcvAckOfSyn);
            return true;
        }
        if seq::gt(segment.ack, tcb.snd_max) {
            // It acknowledges something not yet sent.
            tcb.send_ack();
            return false;
        }
        if seq::lt(tcb.snd_una, segment.ack) {
            tcb.ack_advances(segment.ack, now);
            tcb.update_window(segment);
        } else if segment.ack == tcb.snd_una {
            let window_changed = tcb.update_window(segment);
            let duplicate = segment.payload.is_empty()
                && !segment.flags.fin
                && !window_changed
                && tcb.in_flight();
            if duplicate {
                tcb.duplicate_ack(now);
            }
        }
        self.after_ack(state, now)
    }

    /// The state-specific part of the fifth step.
    fn after_ack(&mut self, state: StateId, now: Instant) -> bool {
        let fin_acked = self.tcb().fin_acked();
        match state {
            StateId::FinWait1 if fin_acked => self.fire(tcp::Event::RcvAckOfFin),
            StateId::Closing => {
                if fin_acked {
                    self.enter_time_wait(tcp::Event::RcvAckOfFin, now);
                }
                return false;
            }
            StateId::LastAck => {
                if fin_acked {
                    self.tcb_mut().clear_timers();
                    self.fire(tcp::Event::RcvAckOfFin);
                }
                return false;
            }
            _ => {}
        }
        true
    }

    fn enter_time_wait(&mut self, event: tcp::Event, now: Instant) {
        let tcb = self.tcb_mut();
        tcb.clear_timers();
        tcb.time_wait_deadline = Some(now + tcb.cfg.time_wait);
        self.fire(event);
    }

    /// Seventh and eighth: the segment text and the FIN.
    fn text_and_fin(&mut self, segment: &Segment<'_>, now: Instant) {
        let state = self.state();
        match state {
            StateId::Established | StateId::FinWait1 | StateId::FinWait2
                if self.tcb_mut().accept_text(segment) =>
            {
                self.fin_arrives(state, now);
            }
            StateId::Established | StateId::FinWait1 | StateId::FinWait2 => {}
            StateId::TimeWait if segment.flags.fin => {
                // A retransmitted FIN: acknowledge it and restart the 2 MSL wait.
                let tcb = self.tcb_mut();
                tcb.ack_due = true;
                tcb.time_wait_deadline = Some(now + tcb.cfg.time_wait);
            }
            _ if segment.flags.fin => self.tcb_mut().ack_due = true,
            _ => {}
        }
    }

    /// The eighth step for a FIN now in order.
    fn fin_arrives(&mut self, state: StateId, now: Instant) {
        self.tcb_mut().take_fin();
        match state {
            StateId::Established => self.fire(tcp::Event::RcvFin),
            StateId::FinWait1 => self.fire(tcp::Event::RcvFin),
            StateId::FinWait2 => self.enter_time_wait(tcp::Event::RcvFin, now),
            _ => {}
        }
    }
}
