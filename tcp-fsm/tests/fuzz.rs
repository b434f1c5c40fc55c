//! Property test: random and mutated segments into a connection in every state, and
//! random and bit-flipped packets into a stack, never panic, never make the engine try an
//! undeclared move, and keep SND.UNA <= SND.NXT.
//!
//! Seeded, so a failure replays; the seed is in the assertion message.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use tcp_fsm::link::SplitMix64;
use tcp_fsm::tcp::StateId;
use tcp_fsm::{Config, Connection, Flags, Instant, Segment, Stack, seq};

const ISS: u32 = 1000;
const IRS: u32 = 5000;

fn local() -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 80)
}

fn remote() -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 4000)
}

fn config() -> Config {
    Config {
        mss: 1000,
        recv_buffer: 4000,
        send_buffer: 8000,
        time_wait: Duration::from_secs(1),
        max_retries: 4,
        ..Config::default()
    }
}

fn seg(seq: u32, ack: u32, flags: Flags, payload: &[u8]) -> Segment<'static> {
    Segment {
        src: Some(remote()),
        dst: Some(local()),
        seq,
        ack,
        flags,
        window: 4000,
        payload: payload.to_vec().into(),
        ..Segment::default()
    }
}

fn feed(conn: &mut Connection, s: Segment) {
    conn.on_segment(&s, Instant::ZERO);
    conn.poll(Instant::ZERO);
    conn.take_outbox();
}

/// A connection in `state`, reached by a scripted, loss-free exchange.
fn in_state(state: StateId) -> Connection {
    use StateId::*;
    let mut conn = match state {
        Closed => {
            let mut c = Connection::listening(config(), local(), ISS);
            c.close().unwrap();
            return c;
        }
        Listen => return Connection::listening(config(), local(), ISS),
        SynSent => {
            let mut c = Connection::connecting(config(), local(), remote(), ISS, Instant::ZERO);
            c.take_outbox();
            return c;
        }
        _ => Connection::listening(config(), local(), ISS),
    };
    feed(&mut conn, seg(IRS, 0, Flags::SYN, b""));
    if state == SynReceived {
        return conn;
    }
    feed(&mut conn, seg(IRS + 1, ISS + 1, Flags::ACK, b""));
    conn.send(b"some data").unwrap();
    conn.poll(Instant::ZERO);
    conn.take_outbox();
    let acked = ISS + 10;
    match state {
        Established => {}
        FinWait1 | FinWait2 | Closing | TimeWait => {
            conn.close().unwrap();
            conn.poll(Instant::ZERO);
            conn.take_outbox();
            match state {
                FinWait2 => feed(&mut conn, seg(IRS + 1, acked + 1, Flags::ACK, b"")),
                Closing => feed(&mut conn, seg(IRS + 1, acked, Flags::FIN_ACK, b"")),
                TimeWait => feed(&mut conn, seg(IRS + 1, acked + 1, Flags::FIN_ACK, b"")),
                _ => {}
            }
        }
        CloseWait | LastAck => {
            feed(&mut conn, seg(IRS + 1, acked, Flags::FIN_ACK, b""));
            if state == LastAck {
                conn.close().unwrap();
                conn.poll(Instant::ZERO);
                conn.take_outbox();
            }
        }
        _ => unreachable!(),
    }
    assert_eq!(conn.state(), state, "building {state:?}");
    conn
}

/// A random segment near the connection's sequence numbers, or anywhere.
fn random_segment(rng: &mut SplitMix64) -> Segment<'static> {
    let near = |rng: &mut SplitMix64, base: u32| {
        if rng.chance(0.2) {
            rng.next_u64() as u32
        } else {
            base.wrapping_add(rng.below(40) as u32).wrapping_sub(20)
        }
    };
    let bits = rng.next_u64();
    let flags = Flags {
        syn: bits & 1 != 0 && rng.chance(0.3),
        ack: bits & 2 != 0,
        fin: bits & 4 != 0 && rng.chance(0.5),
        rst: bits & 8 != 0 && rng.chance(0.3),
        psh: bits & 16 != 0,
    };
    let len = if rng.chance(0.5) {
        0
    } else {
        rng.below(3000) as usize
    };
    let payload: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
    let mut s = seg(near(rng, IRS + 1), near(rng, ISS + 10), flags, &payload);
    s.window = rng.next_u64() as u16;
    if rng.chance(0.2) {
        s.mss = Some(rng.next_u64() as u16);
        s.window_scale = Some(rng.below(20) as u8);
    }
    s
}

fn check(conn: &Connection, context: &str) {
    assert_eq!(conn.illegal_moves(), 0, "{context}: undeclared move");
    let status = conn.status();
    assert!(
        seq::le(status.snd_una, status.snd_nxt),
        "{context}: SND.UNA {} > SND.NXT {}",
        status.snd_una,
        status.snd_nxt
    );
}

/// RFC 9293 §3.10.7: whatever arrives, in whatever state, the engine answers or drops it
/// without panicking and moves only along declared edges.
#[test]
fn random_segments_into_every_state() {
    for (index, &state) in <StateId as fsm_core::Id>::ALL.iter().enumerate() {
        for seed in 0..300u64 {
            let seed = seed * 100 + index as u64;
            let mut rng = SplitMix64::new(seed);
            let mut conn = in_state(state);
            let mut now = 0u64;
            for step in 0..40 {
                now += rng.below(3000);
                let s = random_segment(&mut rng);
                conn.on_segment(&s, Instant::from_millis(now));
                if rng.chance(0.2) {
                    let _ = conn.send(b"x");
                }
                if rng.chance(0.1) {
                    let mut buf = [0u8; 512];
                    let _ = conn.receive(&mut buf);
                }
                if rng.chance(0.05) {
                    let _ = conn.close();
                }
                conn.poll(Instant::from_millis(now));
                for out in conn.take_outbox() {
                    assert!(out.emit().is_ok(), "seed {seed}: unbuildable reply {out:?}");
                }
                check(&conn, &format!("state {state:?}, seed {seed}, step {step}"));
            }
        }
    }
}

/// Malformed packets are typed drops: flipped bits, truncation and garbage are counted
/// and never reach a connection.
#[test]
fn mutated_packets_into_a_stack() {
    let mut rng = SplitMix64::new(7);
    let mut stack = Stack::new(*local().ip(), config(), [7; 16]);
    stack.listen(80, 4).unwrap();
    let good = seg(IRS, 0, Flags::SYN, b"hello").emit().unwrap();
    let mut malformed = 0;
    for round in 0..20_000u64 {
        let mut packet = good.clone();
        match round % 3 {
            0 => {
                let bit = rng.below(packet.len() as u64 * 8) as usize;
                packet[bit / 8] ^= 1 << (bit % 8);
            }
            1 => packet.truncate(rng.below(packet.len() as u64) as usize),
            _ => packet = (0..rng.below(100)).map(|_| rng.next_u64() as u8).collect(),
        }
        let before = stack.drops().malformed;
        stack.receive_packet(&packet, Instant::from_millis(round));
        malformed += stack.drops().malformed - before;
        stack.poll(Instant::from_millis(round));
        while stack.transmit().is_some() {}
    }
    // Every truncation and nearly every bit flip and garbage packet fails a check.
    assert!(
        malformed > 15_000,
        "only {malformed} of 20000 were rejected"
    );
}
