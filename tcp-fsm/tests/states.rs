//! The engine, state by state: each test builds a connection in one RFC 9293 state, feeds
//! it segments at virtual time, and asserts the exact reply and the next state.

use std::net::SocketAddrV4;
use std::time::Duration;

use tcp_fsm::tcp::StateId;
use tcp_fsm::{Config, ConnError, Connection, Flags, Instant, Segment, reset_for};

const ISS: u32 = 1000;
const IRS: u32 = 5000;
const WND: u16 = 8000;

fn local() -> SocketAddrV4 {
    "10.0.0.1:80".parse().unwrap()
}

fn remote() -> SocketAddrV4 {
    "10.0.0.2:4000".parse().unwrap()
}

fn config() -> Config {
    Config {
        mss: 1000,
        recv_buffer: 8000,
        send_buffer: 64_000,
        time_wait: Duration::from_secs(4),
        rto_initial: Duration::from_secs(1),
        rto_min: Duration::from_millis(200),
        max_retries: 3,
        ..Config::default()
    }
}

fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// A segment from the peer.
fn seg(seq: u32, ack: u32, flags: Flags, payload: &[u8]) -> Segment<'static> {
    Segment {
        src: Some(remote()),
        dst: Some(local()),
        seq,
        ack,
        flags,
        window: WND,
        payload: payload.to_vec().into(),
        ..Segment::default()
    }
}

/// What we check of a reply: SEQ, ACK, control bits and payload length.
fn shape(s: &Segment) -> (u32, u32, Flags, usize) {
    (s.seq, s.ack, s.flags, s.payload.len())
}

/// Feeds one segment at `now`, runs the timers, and returns what was sent.
fn feed(conn: &mut Connection, segment: Segment, now: Instant) -> Vec<(u32, u32, Flags, usize)> {
    conn.on_segment(&segment, now);
    conn.poll(now);
    conn.take_outbox().iter().map(shape).collect()
}

fn tick(conn: &mut Connection, now: Instant) -> Vec<(u32, u32, Flags, usize)> {
    conn.poll(now);
    conn.take_outbox().iter().map(shape).collect()
}

const DATA_ACK: Flags = Flags {
    psh: true,
    ..Flags::ACK
};

const FIN_ACK: Flags = Flags::FIN_ACK;

fn listening() -> Connection {
    Connection::listening(config(), local(), ISS)
}

fn syn_sent() -> Connection {
    let mut conn = Connection::connecting(config(), local(), remote(), ISS, t(0));
    conn.take_outbox();
    conn
}

fn syn_received() -> Connection {
    let mut conn = listening();
    let syn = Segment {
        mss: Some(1000),
        ..seg(IRS, 0, Flags::SYN, b"")
    };
    feed(&mut conn, syn, t(0));
    conn
}

/// ESTABLISHED with SND.NXT = ISS+1 and RCV.NXT = IRS+1.
fn established() -> Connection {
    let mut conn = syn_received();
    feed(&mut conn, seg(IRS + 1, ISS + 1, Flags::ACK, b""), t(10));
    assert_eq!(conn.state(), StateId::Established);
    conn
}

fn fin_wait_1() -> Connection {
    let mut conn = established();
    conn.close().unwrap();
    assert_eq!(tick(&mut conn, t(20)), [(ISS + 1, IRS + 1, FIN_ACK, 0)]);
    conn
}

fn fin_wait_2() -> Connection {
    let mut conn = fin_wait_1();
    feed(&mut conn, seg(IRS + 1, ISS + 2, Flags::ACK, b""), t(30));
    assert_eq!(conn.state(), StateId::FinWait2);
    conn
}

fn close_wait() -> Connection {
    let mut conn = established();
    feed(&mut conn, seg(IRS + 1, ISS + 1, FIN_ACK, b""), t(20));
    assert_eq!(conn.state(), StateId::CloseWait);
    conn
}

fn time_wait() -> Connection {
    let mut conn = fin_wait_2();
    feed(&mut conn, seg(IRS + 1, ISS + 2, FIN_ACK, b""), t(40));
    assert_eq!(conn.state(), StateId::TimeWait);
    conn
}

mod closed {
    use super::*;

    /// RFC 9293 §3.10.7.1: an ACK-bearing segment to no connection gets <SEQ=SEG.ACK><CTL=RST>.
    #[test]
    fn ack_gets_rst_at_its_ack() {
        let rst = reset_for(&seg(7, 99, Flags::ACK, b"x")).unwrap();
        assert_eq!(shape(&rst), (99, 0, Flags::RST, 0));
        assert_eq!((rst.src, rst.dst), (Some(local()), Some(remote())));
    }

    /// RFC 9293 §3.10.7.1: otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
    #[test]
    fn syn_gets_rst_ack() {
        let rst = reset_for(&seg(7, 0, Flags::SYN, b"ab")).unwrap();
        assert_eq!(shape(&rst), (0, 10, Flags::RST_ACK, 0));
    }

    /// RFC 9293 §3.10.7.1: a RST is never answered.
    #[test]
    fn rst_gets_nothing() {
        assert!(reset_for(&seg(7, 0, Flags::RST, b"")).is_none());
    }
}

mod listen {
    use super::*;

    /// RFC 9293 §3.10.7.2: a SYN is answered with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> and
    /// the MSS option (RFC 9293 §3.7.1); the connection enters SYN-RECEIVED.
    #[test]
    fn syn_gets_syn_ack() {
        let mut conn = listening();
        conn.on_segment(&seg(IRS, 0, Flags::SYN, b""), t(0));
        let out = conn.take_outbox();
        assert_eq!(
            out.iter().map(shape).collect::<Vec<_>>(),
            [(ISS, IRS + 1, Flags::SYN_ACK, 0)]
        );
        assert_eq!(out[0].mss, Some(1000));
        // RFC 7323 §1.3: no window scale in the reply to a SYN that offered none.
        assert_eq!(out[0].window_scale, None);
        assert_eq!(conn.state(), StateId::SynReceived);
    }

    /// RFC 7323 §2.2: a SYN offering window scaling gets ours back.
    #[test]
    fn syn_with_window_scale_gets_ours() {
        let mut conn = Connection::listening(
            Config {
                recv_buffer: 1 << 20,
                ..config()
            },
            local(),
            ISS,
        );
        let mut syn = seg(IRS, 0, Flags::SYN, b"");
        syn.window_scale = Some(7);
        conn.on_segment(&syn, t(0));
        let out = conn.take_outbox();
        assert_eq!(out[0].window_scale, Some(5));
        // After the handshake the peer's windows are scaled by its shift.
        feed(
            &mut conn,
            Segment {
                window: 10,
                ..seg(IRS + 1, ISS + 1, Flags::ACK, b"")
            },
            t(1),
        );
        assert_eq!(conn.status().snd_wnd, 10 << 7);
    }

    /// RFC 9293 §3.10.7.2: an ACK in LISTEN gets <SEQ=SEG.ACK><CTL=RST>.
    #[test]
    fn ack_gets_rst() {
        let mut conn = listening();
        assert_eq!(
            feed(&mut conn, seg(IRS, 42, Flags::ACK, b""), t(0)),
            [(42, 0, Flags::RST, 0)]
        );
        assert_eq!(conn.state(), StateId::Listen);
    }

    /// RFC 9293 §3.10.7.2: a RST in LISTEN is ignored.
    #[test]
    fn rst_is_ignored() {
        let mut conn = listening();
        assert_eq!(feed(&mut conn, seg(IRS, 0, Flags::RST, b""), t(0)), []);
        assert_eq!(conn.state(), StateId::Listen);
    }
}

mod syn_sent {
    use super::*;

    /// RFC 9293 §3.10.7.3: a SYN,ACK acknowledging our SYN completes the handshake with
    /// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
    #[test]
    fn syn_ack_establishes() {
        let mut conn = syn_sent();
        let out = feed(&mut conn, seg(IRS, ISS + 1, Flags::SYN_ACK, b""), t(5));
        assert_eq!(out, [(ISS + 1, IRS + 1, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::Established);
    }

    /// RFC 9293 §3.10.7.3: an unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>, state kept.
    #[test]
    fn bad_ack_gets_rst() {
        let mut conn = syn_sent();
        let out = feed(&mut conn, seg(IRS, ISS + 7, Flags::SYN_ACK, b""), t(5));
        assert_eq!(out, [(ISS + 7, 0, Flags::RST, 0)]);
        assert_eq!(conn.state(), StateId::SynSent);
    }

    /// RFC 9293 §3.10.7.3: a RST with an acceptable ACK refuses the connection.
    #[test]
    fn rst_with_acceptable_ack_refuses() {
        let mut conn = syn_sent();
        assert_eq!(
            feed(&mut conn, seg(0, ISS + 1, Flags::RST_ACK, b""), t(5)),
            []
        );
        assert_eq!(conn.state(), StateId::Closed);
        assert_eq!(conn.tcb().error(), Some(ConnError::Refused));
    }

    /// RFC 9293 §3.10.7.3: a RST without an ACK is dropped.
    #[test]
    fn rst_without_ack_is_dropped() {
        let mut conn = syn_sent();
        feed(&mut conn, seg(0, 0, Flags::RST, b""), t(5));
        assert_eq!(conn.state(), StateId::SynSent);
    }

    /// RFC 9293 §3.5 Figure 8: simultaneous open. A bare SYN in SYN-SENT is answered with
    /// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; the peer's SYN,ACK then establishes.
    #[test]
    fn simultaneous_open() {
        let mut conn = syn_sent();
        let out = feed(&mut conn, seg(IRS, 0, Flags::SYN, b""), t(5));
        assert_eq!(out, [(ISS, IRS + 1, Flags::SYN_ACK, 0)]);
        assert_eq!(conn.state(), StateId::SynReceived);
        let out = feed(&mut conn, seg(IRS, ISS + 1, Flags::SYN_ACK, b""), t(6));
        assert_eq!(out, [(ISS + 1, IRS + 1, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::Established);
    }

    /// RFC 6298 §5.4 and §5.5: the SYN is resent when the RTO expires, and the RTO doubles.
    #[test]
    fn syn_is_retransmitted_with_back_off() {
        let mut conn = syn_sent();
        assert_eq!(tick(&mut conn, t(999)), []);
        assert_eq!(tick(&mut conn, t(1000)), [(ISS, 0, Flags::SYN, 0)]);
        assert_eq!(tick(&mut conn, t(2999)), []);
        assert_eq!(tick(&mut conn, t(3000)), [(ISS, 0, Flags::SYN, 0)]);
    }

    /// RFC 9293 §3.8.3: past the retransmission limit the connection is given up.
    #[test]
    fn gives_up_after_max_retries() {
        let mut conn = syn_sent();
        let mut now = 0;
        for _ in 0..10 {
            now += 20_000;
            tick(&mut conn, t(now));
        }
        assert_eq!(conn.state(), StateId::Closed);
        assert_eq!(conn.tcb().error(), Some(ConnError::TimedOut));
    }
}

mod syn_received {
    use super::*;

    /// RFC 9293 §3.10.7.4 fifth: an ACK of our SYN establishes the connection.
    #[test]
    fn ack_of_syn_establishes() {
        established();
    }

    /// RFC 9293 §3.10.7.4 fifth: an unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>.
    #[test]
    fn bad_ack_gets_rst() {
        let mut conn = syn_received();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 9, Flags::ACK, b""), t(5));
        assert_eq!(out, [(ISS + 9, 0, Flags::RST, 0)]);
        assert_eq!(conn.state(), StateId::SynReceived);
    }

    /// A retransmitted SYN means our SYN,ACK was lost: send it again.
    #[test]
    fn repeated_syn_gets_syn_ack_again() {
        let mut conn = syn_received();
        let out = feed(&mut conn, seg(IRS, 0, Flags::SYN, b""), t(5));
        assert_eq!(out, [(ISS, IRS + 1, Flags::SYN_ACK, 0)]);
    }

    /// RFC 5961 §3.2: a RST exactly at RCV.NXT ends the half-open connection.
    #[test]
    fn rst_at_rcv_nxt_closes() {
        let mut conn = syn_received();
        feed(&mut conn, seg(IRS + 1, 0, Flags::RST, b""), t(5));
        assert_eq!(conn.state(), StateId::Closed);
    }
}

mod established {
    use super::*;

    /// RFC 9293 §3.10.7.4 seventh: in-order text is delivered and acknowledged.
    #[test]
    fn in_order_data_is_acked_and_readable() {
        let mut conn = established();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 1, DATA_ACK, b"hello"), t(20));
        assert_eq!(out, [(ISS + 1, IRS + 6, Flags::ACK, 0)]);
        let mut buf = [0u8; 16];
        assert_eq!(conn.receive(&mut buf), Ok(5));
        assert_eq!(&buf[..5], b"hello");
    }

    /// Out-of-order text is held and acknowledged at the old RCV.NXT (a duplicate ACK for
    /// the sender's fast retransmit); the missing piece releases all of it in order.
    #[test]
    fn out_of_order_data_is_reassembled() {
        let mut conn = established();
        let out = feed(&mut conn, seg(IRS + 4, ISS + 1, DATA_ACK, b"def"), t(20));
        assert_eq!(out, [(ISS + 1, IRS + 1, Flags::ACK, 0)]);
        let out = feed(&mut conn, seg(IRS + 1, ISS + 1, DATA_ACK, b"abc"), t(21));
        assert_eq!(out, [(ISS + 1, IRS + 7, Flags::ACK, 0)]);
        let mut buf = [0u8; 16];
        assert_eq!(conn.receive(&mut buf), Ok(6));
        assert_eq!(&buf[..6], b"abcdef");
    }

    /// A batch of arrivals is acknowledged once, when the connection is next polled, as
    /// long as it holds less than two full-sized segments.
    #[test]
    fn a_batch_is_acked_once_at_poll() {
        let mut conn = established();
        conn.on_segment(&seg(IRS + 1, ISS + 1, DATA_ACK, &[1; 400]), t(20));
        conn.on_segment(&seg(IRS + 401, ISS + 1, DATA_ACK, &[2; 400]), t(20));
        assert!(conn.take_outbox().is_empty());
        assert_eq!(
            tick(&mut conn, t(20)),
            [(ISS + 1, IRS + 801, Flags::ACK, 0)]
        );
    }

    /// RFC 9293 §3.8.6.3 (SHLD-19): an ACK for at least every second full-sized segment,
    /// sent as the second arrives rather than at the end of the batch.
    #[test]
    fn every_second_full_sized_segment_is_acked_at_once() {
        let mut conn = established();
        conn.on_segment(&seg(IRS + 1, ISS + 1, DATA_ACK, &[1; 1000]), t(20));
        assert!(conn.take_outbox().is_empty());
        conn.on_segment(&seg(IRS + 1001, ISS + 1, DATA_ACK, &[2; 1000]), t(20));
        let out: Vec<_> = conn.take_outbox().iter().map(shape).collect();
        assert_eq!(out, [(ISS + 1, IRS + 2001, Flags::ACK, 0)]);
        assert_eq!(tick(&mut conn, t(20)), []);
    }

    /// RFC 5681 §4.2: a segment out of order, and one that fills the gap, are
    /// acknowledged as they arrive, so that the sender sees its duplicate ACKs.
    #[test]
    fn out_of_order_segments_are_acked_at_once() {
        let mut conn = established();
        for gap in [4, 7] {
            conn.on_segment(&seg(IRS + gap, ISS + 1, DATA_ACK, b"xyz"), t(20));
        }
        let out: Vec<_> = conn.take_outbox().iter().map(shape).collect();
        assert_eq!(out, [(ISS + 1, IRS + 1, Flags::ACK, 0); 2]);
        conn.on_segment(&seg(IRS + 1, ISS + 1, DATA_ACK, b"abc"), t(21));
        let out: Vec<_> = conn.take_outbox().iter().map(shape).collect();
        assert_eq!(out, [(ISS + 1, IRS + 10, Flags::ACK, 0)]);
    }

    /// Queued segments keep their data in the send buffer until they are built; an ACK
    /// that frees the buffer before then leaves them their copy.
    #[test]
    fn queued_data_survives_an_ack_that_frees_the_buffer() {
        let mut conn = established();
        let data: Vec<u8> = (0..2500u32).map(|i| (i % 251) as u8).collect();
        assert_eq!(conn.send(&data), Ok(2500));
        conn.poll(t(20));
        conn.on_segment(&seg(IRS + 1, ISS + 2001, Flags::ACK, b""), t(30));
        let out = conn.take_outbox();
        let sent: Vec<u8> = out.iter().flat_map(|s| s.payload.iter().copied()).collect();
        assert_eq!(sent, data);
        assert_eq!(conn.tcb().send_queued(), 500);
    }

    /// Packets are built straight from the send buffer, checksums and all.
    #[test]
    fn packets_are_built_from_the_send_buffer() {
        let mut conn = established();
        let data: Vec<u8> = (0..2500u32).map(|i| (i % 253) as u8).collect();
        assert_eq!(conn.send(&data), Ok(2500));
        conn.poll(t(20));
        let mut packet = Vec::new();
        let mut sent = Vec::new();
        while conn.emit_next(&mut packet) {
            let segment = Segment::parse(&packet).unwrap();
            assert_eq!(segment.seq, ISS + 1 + sent.len() as u32);
            sent.extend_from_slice(&segment.payload);
        }
        assert_eq!(sent, data);
        assert!(!conn.has_output());
    }

    /// RFC 9293 §3.10.7.4 first: a segment wholly before RCV.NXT is answered with an ACK.
    #[test]
    fn old_duplicate_gets_ack() {
        let mut conn = established();
        feed(&mut conn, seg(IRS + 1, ISS + 1, DATA_ACK, b"abc"), t(20));
        let out = feed(&mut conn, seg(IRS + 1, ISS + 1, DATA_ACK, b"abc"), t(21));
        assert_eq!(out, [(ISS + 1, IRS + 4, Flags::ACK, 0)]);
    }

    /// RFC 9293 §3.8.6: the window shrinks as unread data fills the buffer, and text
    /// beyond it is cut off.
    #[test]
    fn receive_window_limits_what_is_taken() {
        let mut conn = established();
        let big = vec![7u8; 9000];
        conn.on_segment(&seg(IRS + 1, ISS + 1, DATA_ACK, &big), t(20));
        conn.poll(t(20));
        let out = conn.take_outbox();
        assert_eq!(shape(&out[0]), (ISS + 1, IRS + 8001, Flags::ACK, 0));
        assert_eq!(out[0].window, 0);
        // With the window at zero, only a segment exactly at RCV.NXT is looked at, and
        // its text is not taken.
        let out = feed(&mut conn, seg(IRS + 8001, ISS + 1, DATA_ACK, b"x"), t(21));
        assert_eq!(out, [(ISS + 1, IRS + 8001, Flags::ACK, 0)]);
        // Reading reopens the window, and the peer is told (RFC 9293 §3.8.6.2.2).
        let mut buf = vec![0u8; 8000];
        assert_eq!(conn.receive(&mut buf), Ok(8000));
        conn.poll(t(22));
        let update = conn.take_outbox();
        assert_eq!(update.len(), 1);
        assert_eq!(update[0].window, 8000);
    }

    /// RFC 5961 §3.2: a RST exactly at RCV.NXT resets the connection.
    #[test]
    fn rst_at_rcv_nxt_resets() {
        let mut conn = established();
        assert_eq!(feed(&mut conn, seg(IRS + 1, 0, Flags::RST, b""), t(20)), []);
        assert_eq!(conn.state(), StateId::Closed);
        assert_eq!(conn.tcb().error(), Some(ConnError::Reset));
    }

    /// RFC 5961 §3.2: a RST in the window but not at RCV.NXT gets a challenge ACK.
    #[test]
    fn rst_in_window_gets_challenge_ack() {
        let mut conn = established();
        let out = feed(&mut conn, seg(IRS + 100, 0, Flags::RST, b""), t(20));
        assert_eq!(out, [(ISS + 1, IRS + 1, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::Established);
        assert_eq!(conn.tcb().challenge_acks(), 1);
    }

    /// RFC 5961 §3.2: a RST outside the window is dropped silently.
    #[test]
    fn rst_out_of_window_is_dropped() {
        let mut conn = established();
        assert_eq!(
            feed(&mut conn, seg(IRS + 100_000, 0, Flags::RST, b""), t(20)),
            []
        );
        assert_eq!(conn.state(), StateId::Established);
    }

    /// RFC 5961 §4.2: a SYN in a synchronized state gets a challenge ACK, whatever its
    /// sequence number.
    #[test]
    fn syn_gets_challenge_ack() {
        let mut conn = established();
        let out = feed(&mut conn, seg(IRS + 1, 0, Flags::SYN, b""), t(20));
        assert_eq!(out, [(ISS + 1, IRS + 1, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::Established);
    }

    /// RFC 9293 §3.10.7.4 fifth: an ACK of something not yet sent is answered with an
    /// ACK and the segment dropped.
    #[test]
    fn ack_of_unsent_data_gets_ack() {
        let mut conn = established();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 500, DATA_ACK, b"zz"), t(20));
        assert_eq!(out, [(ISS + 1, IRS + 1, Flags::ACK, 0)]);
        assert_eq!(conn.tcb().recv_queued(), 0);
    }

    /// Data goes out in MSS-sized segments; RFC 6298 §5: unacknowledged, the first is
    /// resent when the RTO expires.
    #[test]
    fn data_is_segmented_and_retransmitted() {
        let mut conn = established();
        assert_eq!(conn.send(&[1u8; 2500]), Ok(2500));
        let out = tick(&mut conn, t(20));
        assert_eq!(
            out,
            [
                (ISS + 1, IRS + 1, DATA_ACK, 1000),
                (ISS + 1001, IRS + 1, DATA_ACK, 1000),
                (ISS + 2001, IRS + 1, DATA_ACK, 500),
            ]
        );
        // RFC 6298 §2.2 and §2.4: the handshake gave one sample of 10 ms, so the RTO is
        // max(rto_min, 10 + 4 * 5 ms) = 200 ms.
        assert_eq!(conn.status().rto, Duration::from_millis(200));
        assert_eq!(tick(&mut conn, t(219)), []);
        assert_eq!(
            tick(&mut conn, t(220)),
            [(ISS + 1, IRS + 1, DATA_ACK, 1000)]
        );
    }

    /// RFC 5681 §3.2: the third duplicate ACK resends the first unacknowledged segment
    /// without waiting for the timer.
    #[test]
    fn fast_retransmit_on_third_duplicate_ack() {
        let mut conn = established();
        conn.send(&[1u8; 5000]).unwrap();
        assert_eq!(tick(&mut conn, t(20)).len(), 5);
        let ack = seg(IRS + 1, ISS + 1001, Flags::ACK, b"");
        feed(&mut conn, ack.clone(), t(30));
        assert_eq!(feed(&mut conn, ack.clone(), t(31)), []);
        assert_eq!(feed(&mut conn, ack.clone(), t(32)), []);
        assert_eq!(
            feed(&mut conn, ack, t(33)),
            [(ISS + 1001, IRS + 1, DATA_ACK, 1000)]
        );
    }

    /// RFC 6298 §3 (Karn): an ACK of a retransmitted segment gives no RTT sample, so the
    /// backed-off RTO stays.
    #[test]
    fn karn_no_sample_from_retransmission() {
        let mut conn = established();
        conn.send(&[1u8; 100]).unwrap();
        tick(&mut conn, t(20));
        tick(&mut conn, t(220)); // retransmission; RTO doubles to 400 ms
        feed(&mut conn, seg(IRS + 1, ISS + 101, Flags::ACK, b""), t(221));
        assert_eq!(conn.status().rto, Duration::from_millis(400));
    }

    /// RFC 6298 §2.2: the first measurement R sets RTO = R + 4 * R/2 (here above the floor).
    #[test]
    fn first_rtt_sample_sets_rto() {
        let mut conn = Connection::connecting(config(), local(), remote(), ISS, t(0));
        conn.take_outbox();
        feed(&mut conn, seg(IRS, ISS + 1, Flags::SYN_ACK, b""), t(100));
        assert_eq!(conn.status().rto, Duration::from_millis(300));
    }

    /// RFC 9293 §3.8.6.1: with a zero send window and data queued, a probe of one byte
    /// goes out when the persist timer fires.
    #[test]
    fn zero_window_probe() {
        let mut conn = established();
        feed(
            &mut conn,
            Segment {
                window: 0,
                ..seg(IRS + 1, ISS + 1, Flags::ACK, b"")
            },
            t(20),
        );
        conn.send(b"abc").unwrap();
        assert_eq!(tick(&mut conn, t(21)), []);
        assert_eq!(tick(&mut conn, t(300)), [(ISS + 1, IRS + 1, DATA_ACK, 1)]);
        // The window opens: the rest follows.
        let out = feed(&mut conn, seg(IRS + 1, ISS + 2, Flags::ACK, b""), t(310));
        assert_eq!(out, [(ISS + 2, IRS + 1, DATA_ACK, 2)]);
    }

    /// RFC 9293 §3.10.7.4 eighth: a FIN is acknowledged and the connection enters
    /// CLOSE-WAIT; receiving then reports the end of the stream.
    #[test]
    fn fin_enters_close_wait() {
        let mut conn = established();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 1, FIN_ACK, b""), t(20));
        assert_eq!(out, [(ISS + 1, IRS + 2, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::CloseWait);
        assert!(conn.tcb().peer_closed());
    }

    /// A FIN ahead of missing data waits for it.
    #[test]
    fn early_fin_waits_for_the_hole() {
        let mut conn = established();
        feed(&mut conn, seg(IRS + 4, ISS + 1, FIN_ACK, b"def"), t(20));
        assert_eq!(conn.state(), StateId::Established);
        let out = feed(&mut conn, seg(IRS + 1, ISS + 1, DATA_ACK, b"abc"), t(21));
        assert_eq!(out, [(ISS + 1, IRS + 8, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::CloseWait);
    }

    /// RFC 9293 §3.10.4: CLOSE sends a FIN after the queued data and enters FIN-WAIT-1.
    #[test]
    fn close_sends_fin_after_data() {
        let mut conn = established();
        conn.send(b"bye").unwrap();
        conn.close().unwrap();
        assert_eq!(conn.state(), StateId::FinWait1);
        let out = tick(&mut conn, t(20));
        assert_eq!(
            out,
            [(
                ISS + 1,
                IRS + 1,
                Flags {
                    fin: true,
                    ..DATA_ACK
                },
                3
            )]
        );
    }

    /// RFC 9293 §3.10.5: ABORT sends <SEQ=SND.NXT><CTL=RST> and closes.
    #[test]
    fn abort_sends_rst() {
        let mut conn = established();
        conn.abort().unwrap();
        let out: Vec<_> = conn.take_outbox().iter().map(shape).collect();
        assert_eq!(out, [(ISS + 1, 0, Flags::RST, 0)]);
        assert_eq!(conn.state(), StateId::Closed);
    }
}

mod fin_wait_1 {
    use super::*;

    /// RFC 9293 §3.10.7.4 fifth: the ACK of our FIN moves to FIN-WAIT-2.
    #[test]
    fn ack_of_fin_enters_fin_wait_2() {
        fin_wait_2();
    }

    /// RFC 9293 §3.5 Figure 13: simultaneous close. The peer's FIN before the ACK of ours
    /// enters CLOSING; the ACK of ours then enters TIME-WAIT.
    #[test]
    fn simultaneous_close() {
        let mut conn = fin_wait_1();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 1, FIN_ACK, b""), t(30));
        assert_eq!(out, [(ISS + 2, IRS + 2, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::Closing);
        assert_eq!(
            feed(&mut conn, seg(IRS + 2, ISS + 2, Flags::ACK, b""), t(31)),
            []
        );
        assert_eq!(conn.state(), StateId::TimeWait);
    }

    /// A FIN that also acknowledges ours goes through FIN-WAIT-2 to TIME-WAIT at once.
    #[test]
    fn fin_with_ack_of_fin_enters_time_wait() {
        let mut conn = fin_wait_1();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 2, FIN_ACK, b""), t(30));
        assert_eq!(out, [(ISS + 2, IRS + 2, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::TimeWait);
    }

    /// Data still arrives and is readable in FIN-WAIT-1 (RFC 9293 §3.10.7.4 seventh).
    #[test]
    fn data_is_still_received() {
        let mut conn = fin_wait_1();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 1, DATA_ACK, b"late"), t(30));
        assert_eq!(out, [(ISS + 2, IRS + 5, Flags::ACK, 0)]);
        assert_eq!(conn.tcb().recv_queued(), 4);
    }
}

mod fin_wait_2 {
    use super::*;

    /// RFC 9293 §3.10.7.4 eighth: the peer's FIN is acknowledged and TIME-WAIT begins.
    #[test]
    fn fin_enters_time_wait() {
        let mut conn = fin_wait_2();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 2, FIN_ACK, b""), t(40));
        assert_eq!(out, [(ISS + 2, IRS + 2, Flags::ACK, 0)]);
        assert_eq!(conn.state(), StateId::TimeWait);
    }

    /// RFC 9293 §3.10.4: a second CLOSE is an error, "connection closing".
    #[test]
    fn close_again_is_an_error() {
        let mut conn = fin_wait_2();
        assert_eq!(conn.close(), Err(tcp_fsm::CallError::Closing));
    }
}

mod close_wait {
    use super::*;

    /// RFC 9293 §3.10.2: SEND is still legal in CLOSE-WAIT.
    #[test]
    fn send_still_works() {
        let mut conn = close_wait();
        assert_eq!(conn.send(b"reply"), Ok(5));
        assert_eq!(tick(&mut conn, t(30)), [(ISS + 1, IRS + 2, DATA_ACK, 5)]);
    }

    /// RFC 9293 §3.10.4: CLOSE in CLOSE-WAIT sends a FIN and enters LAST-ACK; the ACK of
    /// that FIN closes the connection.
    #[test]
    fn close_then_ack_is_closed() {
        let mut conn = close_wait();
        conn.close().unwrap();
        assert_eq!(conn.state(), StateId::LastAck);
        assert_eq!(tick(&mut conn, t(30)), [(ISS + 1, IRS + 2, FIN_ACK, 0)]);
        assert_eq!(
            feed(&mut conn, seg(IRS + 2, ISS + 2, Flags::ACK, b""), t(40)),
            []
        );
        assert_eq!(conn.state(), StateId::Closed);
        assert_eq!(conn.tcb().error(), None);
    }
}

mod closing {
    use super::*;

    /// RFC 9293 §3.10.7.4 fifth: in CLOSING, an ACK that does not cover our FIN is ignored.
    #[test]
    fn ack_short_of_fin_is_ignored() {
        let mut conn = fin_wait_1();
        feed(&mut conn, seg(IRS + 1, ISS + 1, FIN_ACK, b""), t(30));
        assert_eq!(
            feed(&mut conn, seg(IRS + 2, ISS + 1, Flags::ACK, b""), t(31)),
            []
        );
        assert_eq!(conn.state(), StateId::Closing);
    }
}

mod last_ack {
    use super::*;

    /// Our FIN is resent in LAST-ACK until acknowledged (RFC 6298 §5.4).
    #[test]
    fn fin_is_retransmitted() {
        let mut conn = close_wait();
        conn.close().unwrap();
        tick(&mut conn, t(30));
        let rto = conn.status().rto;
        let at = 30 + rto.as_millis() as u64;
        assert_eq!(tick(&mut conn, t(at)), [(ISS + 1, IRS + 2, FIN_ACK, 0)]);
    }
}

mod time_wait {
    use super::*;

    /// RFC 9293 §3.10.7.4 eighth: a retransmitted FIN is acknowledged again and the 2 MSL
    /// wait restarts.
    #[test]
    fn repeated_fin_is_acked_and_restarts_the_wait() {
        let mut conn = time_wait();
        let out = feed(&mut conn, seg(IRS + 1, ISS + 2, FIN_ACK, b""), t(3000));
        assert_eq!(out, [(ISS + 2, IRS + 2, Flags::ACK, 0)]);
        tick(&mut conn, t(4100));
        assert_eq!(conn.state(), StateId::TimeWait);
        tick(&mut conn, t(7000));
        assert_eq!(conn.state(), StateId::Closed);
    }

    /// RFC 9293 §3.10.8: TIME-WAIT ends after the configured 2 MSL.
    #[test]
    fn ends_after_two_msl() {
        let mut conn = time_wait();
        tick(&mut conn, t(4039));
        assert_eq!(conn.state(), StateId::TimeWait);
        tick(&mut conn, t(4040));
        assert_eq!(conn.state(), StateId::Closed);
        assert_eq!(conn.tcb().error(), None);
    }

    /// RFC 1337 §3: a RST does not cut TIME-WAIT short.
    #[test]
    fn rst_is_ignored() {
        let mut conn = time_wait();
        feed(&mut conn, seg(IRS + 2, 0, Flags::RST, b""), t(50));
        assert_eq!(conn.state(), StateId::TimeWait);
    }
}
