//! Shared pieces of the `typestate-fsm` benchmarks.
//!
//! The benchmarks themselves live in `benches/` (`typestate.rs`, `dispatch.rs`); the
//! compile-time measurement is `compile-time/measure.sh`. This library holds what every
//! variant of the run-time benchmark agrees on, so that no variant can be measured on a
//! different workload:
//!
//! - [`State`] and [`Event`], the bench machine written by hand as a plain `enum` + `match`
//!   (the baseline every other variant is compared with);
//! - [`event_stream`], a seeded stream of events in which exactly one event in four is
//!   illegal for the state the machine is in when it arrives;
//! - [`bench_player!`], the same machine declared with `fsm_core::machine!`, for the
//!   benchmarks that measure ours.
//!
//! The bench machine is a media player with four states and five events:
//!
//! ```text
//! Idle    + start  => Running
//! Running + pause  => Paused
//! Paused  + resume => Running
//! Running + stop   => Stopped
//! Paused  + stop   => Stopped
//! Stopped + reset  => Idle
//! ```

/// Declares the bench machine with `fsm_core::machine!`, as `Player` in the calling
/// module, optionally with a context: `bench_player!()` or `bench_player!(context: u64,)`.
///
/// The calling crate must depend on `fsm-core`; this crate does not, since only the
/// benchmarks expand the macro.
#[macro_export]
macro_rules! bench_player {
    ($($context:tt)*) => {
        ::fsm_core::machine! {
            pub Player {
                $($context)*
                initial: Idle,
                states: { Idle, Running, Paused, Stopped },
                edges: {
                    Idle + start => Running,
                    Running + pause => Paused,
                    Paused + resume => Running,
                    Running | Paused + stop => Stopped,
                    Stopped + reset => Idle,
                },
            }
        }
    };
}

/// A state of the bench machine, as a plain fieldless enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Nothing loaded; `start` leads to `Running`.
    Idle,
    /// Playing; `pause` or `stop`.
    Running,
    /// Paused; `resume` or `stop`.
    Paused,
    /// Stopped; `reset` leads back to `Idle`.
    Stopped,
}

/// An event of the bench machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// `Idle => Running`.
    Start,
    /// `Running => Paused`.
    Pause,
    /// `Paused => Running`.
    Resume,
    /// `Running | Paused => Stopped`.
    Stop,
    /// `Stopped => Idle`.
    Reset,
}

impl Event {
    /// Every event, in declaration order.
    pub const ALL: [Event; 5] = [
        Event::Start,
        Event::Pause,
        Event::Resume,
        Event::Stop,
        Event::Reset,
    ];
}

impl State {
    /// Every state, in declaration order.
    pub const ALL: [State; 4] = [State::Idle, State::Running, State::Paused, State::Stopped];

    /// The hand-written run-time transition: the next state, or `self` unchanged when
    /// `event` is not legal here. This is the baseline of the dispatch benchmark.
    #[inline]
    #[must_use]
    pub fn on(self, event: Event) -> State {
        match (self, event) {
            (State::Idle, Event::Start) | (State::Paused, Event::Resume) => State::Running,
            (State::Running, Event::Pause) => State::Paused,
            (State::Running | State::Paused, Event::Stop) => State::Stopped,
            (State::Stopped, Event::Reset) => State::Idle,
            (state, _) => state,
        }
    }

    /// The target of `event` from `self`, or `None` when the move is not declared.
    #[must_use]
    pub fn target(self, event: Event) -> Option<State> {
        let next = self.on(event);
        // The machine has no self-loops, so "unchanged" means "illegal".
        (next != self).then_some(next)
    }
}

/// SplitMix64: a tiny, well-known seeded generator, so that the stream does not depend on
/// the version of any random-number crate.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..bound` (`bound > 0`). The modulo bias is irrelevant here.
    fn below(&mut self, bound: usize) -> usize {
        // Lossless on every target this crate is built for: `bound` fits in a `u64`.
        (self.next_u64() % bound as u64) as usize
    }
}

/// A deterministic stream of `len` events, starting from [`State::Idle`], in which exactly
/// `len / 4` events are illegal for the state the machine is in when they arrive.
///
/// Which positions are illegal is a seeded shuffle; each event is then drawn uniformly
/// from the legal (or the illegal) events of the simulated current state, and a legal one
/// advances the simulation. Every state has at least one legal and one illegal event, so
/// the count is exact.
///
/// # Panics
///
/// If `len` is not a multiple of 4.
#[must_use]
pub fn event_stream(len: usize, seed: u64) -> Vec<Event> {
    assert!(
        len.is_multiple_of(4),
        "the stream length must be a multiple of 4"
    );
    let mut rng = SplitMix64(seed);
    let mut illegal: Vec<bool> = (0..len).map(|i| i < len / 4).collect();
    for i in (1..len).rev() {
        illegal.swap(i, rng.below(i + 1));
    }
    let mut state = State::Idle;
    let mut stream = Vec::with_capacity(len);
    let mut legal_here = Vec::with_capacity(Event::ALL.len());
    let mut illegal_here = Vec::with_capacity(Event::ALL.len());
    for want_illegal in illegal {
        legal_here.clear();
        illegal_here.clear();
        for event in Event::ALL {
            if state.target(event).is_some() {
                legal_here.push(event);
            } else {
                illegal_here.push(event);
            }
        }
        let pool = if want_illegal {
            &illegal_here
        } else {
            &legal_here
        };
        let event = pool[rng.below(pool.len())];
        state = state.on(event);
        stream.push(event);
    }
    stream
}

/// The state after each event of `events`, starting from [`State::Idle`], and the number
/// of events that were illegal. Used to check every variant against the hand-written one
/// before anything is timed.
#[must_use]
pub fn reference_trace(events: &[Event]) -> (Vec<State>, usize) {
    let mut state = State::Idle;
    let mut rejected = 0;
    let trace = events
        .iter()
        .map(|&event| {
            match state.target(event) {
                Some(next) => state = next,
                None => rejected += 1,
            }
            state
        })
        .collect();
    (trace, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_has_exactly_a_quarter_illegal() {
        for seed in [0, 1, 0x5EED] {
            let events = event_stream(4096, seed);
            assert_eq!(events.len(), 4096);
            assert_eq!(reference_trace(&events).1, 1024);
        }
    }

    #[test]
    fn stream_is_deterministic_and_uses_every_edge() {
        let events = event_stream(4096, 7);
        assert_eq!(events, event_stream(4096, 7));
        let (trace, _) = reference_trace(&events);
        let mut from = State::Idle;
        let mut seen = std::collections::HashSet::new();
        for (&event, &to) in events.iter().zip(&trace) {
            if to != from {
                seen.insert((from, event));
            }
            from = to;
        }
        assert_eq!(seen.len(), 6, "every declared edge is taken at least once");
    }
}
