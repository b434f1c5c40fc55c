//! The typestate layer: the eleven RFC 9293 connection states, declared with `machine!`,
//! and the user calls of RFC 9293 §3.10 as methods that exist only in the states where
//! the RFC allows them.
//!
//! The machine's context is the transmission control block ([`Tcb`]), so a typed
//! [`Tcp<S>`] *is* a connection: `Tcp<Established>` can [`send`](Tcp::send), and
//! `Tcp<FinWait2>` cannot, at compile time. The engine keeps the same machine in its
//! run-time form ([`tcp::Runtime`]) and moves it with `fire`, so every state change the
//! engine makes, on a segment or a timer, is one of the edges declared here.
//!
//! Event names follow the arcs of RFC 9293 Figure 5 (`rcv_syn`, `rcv_ack_of_fin`,
//! `timeout_2msl`, ...). User calls that change the state are events named `user_*`, so
//! that the typed methods can carry the RFC's call names (`close`, `abort`).

use std::net::SocketAddrV4;

use fsm_core::machine;

use crate::tcb::{Status, Tcb};
use crate::time::Instant;

machine! {
    /// A TCP connection (RFC 9293 §3.3.2) in state `S`.
    ///
    /// Make one with `Tcp::new(Tcb::new(..), tcp::Closed)`, then
    /// [`connect`](Tcp::connect) or [`listen`](Tcp::listen); hand it to a
    /// [`Connection`](crate::Connection) to feed it segments and time.
    pub Tcp {
        context: Tcb,
        initial: Closed,
        transitions: pub(crate),
        states: {
            /// CLOSED: no connection state at all (RFC 9293 §3.3.2).
            Closed,
            /// LISTEN: waiting for a connection request from any remote TCP.
            Listen,
            /// SYN-SENT: waiting for a matching connection request after sending one.
            SynSent,
            /// SYN-RECEIVED: waiting for the acknowledgment of our SYN after both sides
            /// sent one.
            SynReceived,
            /// ESTABLISHED: an open connection; data flows both ways.
            Established,
            /// FIN-WAIT-1: we closed; waiting for the peer's FIN or the ACK of ours.
            FinWait1,
            /// FIN-WAIT-2: our FIN is acknowledged; waiting for the peer's FIN.
            FinWait2,
            /// CLOSE-WAIT: the peer closed; waiting for our user to close.
            CloseWait,
            /// CLOSING: both closed at once; waiting for the ACK of our FIN.
            Closing,
            /// LAST-ACK: the peer closed first, then we did; waiting for the ACK of our FIN.
            LastAck,
            /// TIME-WAIT: waiting 2 MSL so that the peer surely got the ACK of its FIN.
            TimeWait,
        },
        edges: {
            Closed | Listen + active_open => SynSent,
            Closed + passive_open => Listen,
            Listen | SynSent + rcv_syn => SynReceived,
            SynSent + rcv_syn_ack => Established,
            SynReceived + rcv_ack_of_syn => Established,
            Established + rcv_fin => CloseWait,
            FinWait1 + rcv_fin => Closing,
            FinWait2 + rcv_fin => TimeWait,
            FinWait1 + rcv_ack_of_fin => FinWait2,
            Closing + rcv_ack_of_fin => TimeWait,
            LastAck + rcv_ack_of_fin => Closed,
            Listen | SynSent + user_close => Closed,
            SynReceived | Established + user_close => FinWait1,
            CloseWait + user_close => LastAck,
            Listen | SynSent | SynReceived | Established | FinWait1 | FinWait2 | CloseWait
                | Closing | LastAck | TimeWait + user_abort => Closed,
            SynSent | SynReceived | Established | FinWait1 | FinWait2 | CloseWait | Closing
                | LastAck + rcv_rst => Closed,
            SynSent | SynReceived | Established | FinWait1 | CloseWait | Closing | LastAck
                + user_timeout => Closed,
            TimeWait + timeout_2msl => Closed,
        },
        capabilities: {
            /// OPEN, active (RFC 9293 §3.10.1): from CLOSED, or from LISTEN to turn a
            /// passive connection active.
            connect: [Closed, Listen],
            /// OPEN, passive (RFC 9293 §3.10.1).
            listen: [Closed],
            /// SEND (RFC 9293 §3.10.2): only once the handshake is done and until we close.
            send: [Established, CloseWait],
            /// RECEIVE (RFC 9293 §3.10.3): while the peer may still have data for us.
            receive: [Established, FinWait1, FinWait2, CloseWait],
            /// CLOSE (RFC 9293 §3.10.4): where there is something left to close.
            close: [Listen, SynSent, SynReceived, Established, CloseWait],
            /// ABORT (RFC 9293 §3.10.5): wherever a connection exists.
            abort: [Listen, SynSent, SynReceived, Established, FinWait1, FinWait2, CloseWait,
                Closing, LastAck, TimeWait],
            /// STATUS (RFC 9293 §3.10.6): wherever a connection exists.
            status: [Listen, SynSent, SynReceived, Established, FinWait1, FinWait2, CloseWait,
                Closing, LastAck, TimeWait],
        },
    }
}

impl<S: tcp::TcpState> Tcp<S> {
    /// OPEN, active (RFC 9293 §3.10.1): sends a SYN to `remote` and enters SYN-SENT.
    pub fn connect(self, remote: SocketAddrV4, now: Instant) -> Tcp<tcp::SynSent>
    where
        S: tcp::cap::CanConnect
            + tcp::Edge<tcp::event::active_open, <S as tcp::TcpState>::Moves, To = tcp::SynSent>,
    {
        self.transition_with(tcp::event::active_open, |_, tcb| {
            tcb.open_active(remote, now);
            tcp::SynSent
        })
    }

    /// OPEN, passive (RFC 9293 §3.10.1): waits in LISTEN for a SYN.
    pub fn listen(self) -> Tcp<tcp::Listen>
    where
        S: tcp::cap::CanListen
            + tcp::Edge<tcp::event::passive_open, <S as tcp::TcpState>::Moves, To = tcp::Listen>,
    {
        self.transition(tcp::event::passive_open, tcp::Listen)
    }

    /// SEND (RFC 9293 §3.10.2): queues as much of `data` as the send buffer holds and
    /// returns how much that was; the engine segments it as the windows allow.
    pub fn send(&mut self, data: &[u8]) -> usize
    where
        S: tcp::cap::CanSend,
    {
        self.context_mut().queue_send(data)
    }

    /// RECEIVE (RFC 9293 §3.10.3): moves in-order received bytes into `buf` and returns
    /// how many; zero means none are buffered now (see [`Tcb::peer_closed`] for the end).
    pub fn receive(&mut self, buf: &mut [u8]) -> usize
    where
        S: tcp::cap::CanReceive,
    {
        self.context_mut().read(buf)
    }

    /// CLOSE (RFC 9293 §3.10.4): from LISTEN or SYN-SENT the connection is deleted; in the
    /// other states a FIN is queued behind the data already sent.
    pub fn close<T>(self) -> Tcp<T>
    where
        S: tcp::cap::CanClose
            + tcp::Edge<tcp::event::user_close, <S as tcp::TcpState>::Moves, To = T>,
        T: tcp::TcpState + fsm_core::UnitState,
    {
        self.transition_with(tcp::event::user_close, |_, tcb| {
            tcb.queue_fin();
            T::VALUE
        })
    }

    /// ABORT (RFC 9293 §3.10.5): a RST goes out where the peer knows the connection
    /// (SYN-RECEIVED to CLOSE-WAIT), queued data is dropped, and the connection is closed.
    pub fn abort(self) -> Tcp<tcp::Closed>
    where
        S: tcp::cap::CanAbort
            + tcp::Edge<tcp::event::user_abort, <S as tcp::TcpState>::Moves, To = tcp::Closed>,
    {
        let id = <S as tcp::TcpState>::ID;
        self.transition_with(tcp::event::user_abort, |_, tcb| {
            tcb.abort(id);
            tcp::Closed
        })
    }

    /// STATUS (RFC 9293 §3.10.6).
    pub fn status(&self) -> Status
    where
        S: tcp::cap::CanStatus,
    {
        self.context().status(self.state_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcb::Config;
    use fsm_core::Machine;

    fn closed() -> Tcp<tcp::Closed> {
        let local = "10.0.0.1:1000".parse().unwrap();
        Tcp::new(Tcb::new(Config::default(), local, 7), tcp::Closed)
    }

    /// RFC 9293 §3.10.1: an active OPEN sends a SYN at the ISS and enters SYN-SENT.
    #[test]
    fn connect_sends_a_syn() {
        let mut conn = closed().connect("10.0.0.2:80".parse().unwrap(), Instant::ZERO);
        let out = conn.context_mut().take_outbox();
        assert_eq!(out.len(), 1);
        assert!(out[0].flags.syn && !out[0].flags.ack);
        assert_eq!(out[0].seq, 7);
        assert_eq!(conn.status().state, tcp::StateId::SynSent);
    }

    /// RFC 9293 §3.10.4: CLOSE in LISTEN deletes the connection.
    #[test]
    fn close_from_listen_is_closed() {
        let closed: Tcp<tcp::Closed> = closed().listen().close();
        assert_eq!(closed.state_id(), tcp::StateId::Closed);
    }

    /// Every state is named as RFC 9293 §3.3.2 names it, in its order.
    #[test]
    fn states_are_the_rfc_states() {
        let names: Vec<&str> = tcp::Spec::TABLE.states.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "Closed",
                "Listen",
                "SynSent",
                "SynReceived",
                "Established",
                "FinWait1",
                "FinWait2",
                "CloseWait",
                "Closing",
                "LastAck",
                "TimeWait"
            ]
        );
    }
}
