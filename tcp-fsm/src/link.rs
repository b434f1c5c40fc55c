//! An in-memory link between two stacks with seeded loss, delay, reordering and
//! duplication, and a two-stack network that runs on virtual time.
//!
//! Everything is deterministic for a seed: a failing run replays exactly. The random
//! numbers come from SplitMix64, written here, so that the library needs no RNG crate.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use crate::stack::Stack;
use crate::time::Instant;

/// SplitMix64 (Steele, Lea and Flood, 2014): small, fast, and good enough for faults.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
}

/// How a link misbehaves.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkConfig {
    /// One-way delay of every packet.
    pub delay: Duration,
    /// Extra random delay, up to this much; unequal delays reorder packets.
    pub jitter: Duration,
    /// Probability that a packet is lost.
    pub loss: f64,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Probability that a packet is held back by an extra `reorder_delay`.
    pub reorder: f64,
    /// How long a reordered packet is held back.
    pub reorder_delay: Duration,
}

impl Default for LinkConfig {
    fn default() -> Self {
        LinkConfig {
            delay: Duration::from_millis(5),
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
            reorder: 0.0,
            reorder_delay: Duration::from_millis(3),
        }
    }
}

/// One direction of a link: packets in flight, ordered by delivery time.
#[derive(Debug)]
pub struct Link {
    cfg: LinkConfig,
    rng: SplitMix64,
    in_flight: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    sent: u64,
    /// Packets the link dropped on purpose.
    pub lost: u64,
}

impl Link {
    /// A link with faults drawn from `seed`.
    pub fn new(cfg: LinkConfig, seed: u64) -> Self {
        Link {
            cfg,
            rng: SplitMix64::new(seed),
            in_flight: BinaryHeap::new(),
            sent: 0,
            lost: 0,
        }
    }

    /// Puts a packet on the link at `now`.
    pub fn send(&mut self, packet: Vec<u8>, now: Instant) {
        if self.rng.chance(self.cfg.loss) {
            self.lost += 1;
            return;
        }
        if self.rng.chance(self.cfg.duplicate) {
            self.enqueue(packet.clone(), now);
        }
        self.enqueue(packet, now);
    }

    fn enqueue(&mut self, packet: Vec<u8>, now: Instant) {
        let jitter = self.rng.below(self.cfg.jitter.as_micros() as u64 + 1);
        let mut at = now + self.cfg.delay + Duration::from_micros(jitter);
        if self.rng.chance(self.cfg.reorder) {
            at = at + self.cfg.reorder_delay;
        }
        self.sent += 1;
        self.in_flight.push(Reverse((at, self.sent, packet)));
    }

    /// When the next packet arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.in_flight.peek().map(|Reverse((at, _, _))| *at)
    }

    /// A packet that has arrived by `now`, if any.
    pub fn deliver(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.next_arrival()? > now {
            return None;
        }
        self.in_flight.pop().map(|Reverse((_, _, packet))| packet)
    }
}

/// Two stacks joined by a link each way, on virtual time.
#[derive(Debug)]
pub struct Network {
    /// The first stack.
    pub a: Stack,
    /// The second stack.
    pub b: Stack,
    /// From `a` to `b`.
    pub a_to_b: Link,
    /// From `b` to `a`.
    pub b_to_a: Link,
    /// The current virtual time.
    pub now: Instant,
}

impl Network {
    /// Joins `a` and `b` with links configured by `cfg`, faults drawn from `seed`.
    pub fn new(a: Stack, b: Stack, cfg: LinkConfig, seed: u64) -> Self {
        Network {
            a,
            b,
            a_to_b: Link::new(cfg.clone(), seed),
            b_to_a: Link::new(cfg, seed ^ 0x5555_5555_5555_5555),
            now: Instant::ZERO,
        }
    }

    /// Moves every stack's output onto the links and delivers what has arrived, until
    /// nothing more happens at the current time.
    pub fn settle(&mut self) {
        loop {
            self.a.poll(self.now);
            self.b.poll(self.now);
            let mut moved = false;
            while let Some(packet) = self.a.transmit() {
                self.a_to_b.send(packet, self.now);
                moved = true;
            }
            while let Some(packet) = self.b.transmit() {
                self.b_to_a.send(packet, self.now);
                moved = true;
            }
            while let Some(packet) = self.a_to_b.deliver(self.now) {
                self.b.receive_packet(&packet, self.now);
                moved = true;
            }
            while let Some(packet) = self.b_to_a.deliver(self.now) {
                self.a.receive_packet(&packet, self.now);
                moved = true;
            }
            if !moved {
                return;
            }
        }
    }

    /// Settles, then advances the clock to the next arrival or timer, if any. Returns
    /// false when nothing is pending anywhere.
    pub fn step(&mut self) -> bool {
        self.settle();
        let next = [
            self.a_to_b.next_arrival(),
            self.b_to_a.next_arrival(),
            self.a.poll_at(),
            self.b.poll_at(),
        ]
        .into_iter()
        .flatten()
        .min();
        match next {
            Some(at) => {
                self.now = self.now.max(at);
                true
            }
            None => false,
        }
    }
}
