//! An in-memory link between two stacks with seeded loss, delay, reordering and
//! duplication, and a two-stack network that runs on virtual time.
//!
//! Everything is deterministic for a seed: a failing run replays exactly. The random
//! numbers come from SplitMix64, written here, so that the library needs no RNG crate.

use std::collections::VecDeque;
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

    /// A number in `0..n` (0 when `n` is 0). For `n` of 1, as a link without jitter asks
    /// for every packet, the number is still drawn, so that the run stays the same, but
    /// the division is skipped.
    pub fn below(&mut self, n: u64) -> u64 {
        match n {
            0 => 0,
            1 => {
                self.next_u64();
                0
            }
            _ => self.next_u64() % n,
        }
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
///
/// The queue is kept sorted, packets due at the same time in the order they were sent.
/// Without jitter or reordering every packet goes to the back, so a steady flow costs
/// nothing to order; a delayed one is inserted where it belongs.
#[derive(Debug)]
pub struct Link {
    cfg: LinkConfig,
    rng: SplitMix64,
    in_flight: VecDeque<(Instant, Vec<u8>)>,
    /// Packets the link dropped on purpose.
    pub lost: u64,
}

impl Link {
    /// A link with faults drawn from `seed`.
    pub fn new(cfg: LinkConfig, seed: u64) -> Self {
        Link {
            cfg,
            rng: SplitMix64::new(seed),
            in_flight: VecDeque::new(),
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
        if self.in_flight.back().is_none_or(|(due, _)| *due <= at) {
            self.in_flight.push_back((at, packet));
        } else {
            let behind = self.in_flight.partition_point(|(due, _)| *due <= at);
            self.in_flight.insert(behind, (at, packet));
        }
    }

    /// When the next packet arrives.
    pub fn next_arrival(&self) -> Option<Instant> {
        self.in_flight.front().map(|(at, _)| *at)
    }

    /// A packet that has arrived by `now`, if any.
    pub fn deliver(&mut self, now: Instant) -> Option<Vec<u8>> {
        if self.next_arrival()? > now {
            return None;
        }
        self.in_flight.pop_front().map(|(_, packet)| packet)
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
            let moved = self.carry_a_to_b() | self.carry_b_to_a();
            if !moved {
                return;
            }
        }
    }

    /// Puts `a`'s packets on the link one by one, each delivered to `b` as soon as it is
    /// due: with no delay at once, so that the next one is built in the buffer this one
    /// gives back. Returns whether anything moved.
    fn carry_a_to_b(&mut self) -> bool {
        let mut moved = self.deliver_to_b();
        while let Some(packet) = self.a.transmit() {
            self.a_to_b.send(packet, self.now);
            self.deliver_to_b();
            moved = true;
        }
        moved
    }

    /// [`Network::carry_a_to_b`] the other way.
    fn carry_b_to_a(&mut self) -> bool {
        let mut moved = self.deliver_to_a();
        while let Some(packet) = self.b.transmit() {
            self.b_to_a.send(packet, self.now);
            self.deliver_to_a();
            moved = true;
        }
        moved
    }

    /// Delivers what has arrived at `b`; each buffer goes back to `a`, which built it.
    fn deliver_to_b(&mut self) -> bool {
        let mut moved = false;
        while let Some(packet) = self.a_to_b.deliver(self.now) {
            self.b.receive_packet(&packet, self.now);
            self.a.recycle(packet);
            moved = true;
        }
        moved
    }

    /// Delivers what has arrived at `a`; each buffer goes back to `b`.
    fn deliver_to_a(&mut self) -> bool {
        let mut moved = false;
        while let Some(packet) = self.b_to_a.deliver(self.now) {
            self.a.receive_packet(&packet, self.now);
            self.b.recycle(packet);
            moved = true;
        }
        moved
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

#[cfg(test)]
mod tests {
    use super::*;

    /// With jitter, packets arrive in the order of their delivery times, and those due
    /// at the same time in the order they were sent.
    #[test]
    fn packets_arrive_in_time_order() {
        let cfg = LinkConfig {
            delay: Duration::from_millis(1),
            jitter: Duration::from_millis(3),
            ..LinkConfig::default()
        };
        let mut link = Link::new(cfg, 9);
        for i in 0..200u8 {
            link.send(vec![i], Instant::from_micros(u64::from(i) * 10));
        }
        let mut last = Instant::ZERO;
        let mut seen = 0;
        while let Some(at) = link.next_arrival() {
            assert!(at >= last);
            last = at;
            link.deliver(at).unwrap();
            seen += 1;
        }
        assert_eq!(seen, 200);
    }

    /// Without faults the link is first in, first out.
    #[test]
    fn a_plain_link_keeps_the_order() {
        let cfg = LinkConfig {
            delay: Duration::ZERO,
            ..LinkConfig::default()
        };
        let mut link = Link::new(cfg, 1);
        for i in 0..10u8 {
            link.send(vec![i], Instant::ZERO);
        }
        let order: Vec<u8> = std::iter::from_fn(|| link.deliver(Instant::ZERO))
            .map(|p| p[0])
            .collect();
        assert_eq!(order, (0..10).collect::<Vec<u8>>());
    }
}
