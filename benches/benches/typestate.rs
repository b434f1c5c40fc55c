//! Typestate transitions: the bench player moved through its states by consuming methods.
//!
//! What it measures: nanoseconds per transition for a loop of player cycles
//! (`start, pause, resume, stop, reset, start, pause, stop, reset`: nine steps that take
//! all six edges), written once with the methods `fsm_core::machine!` generates and once
//! with the same typestate written by hand (zero-sized state structs, one consuming
//! method per edge, the context carried along). Every intermediate machine goes through
//! `black_box`, so that no step can be removed.
//!
//! Two groups: `typestate`, the bench player as declared (context `()`, so every machine
//! is zero-sized and a step is nothing but the `black_box` barrier), and
//! `typestate-u64-context`, the same player with a `u64` context, so that each
//! intermediate machine is eight bytes that must be stored and reloaded.
//!
//! Why: the claim of a typestate framework is that a move checked at compile time costs
//! nothing at run time, exactly as much as the hand-written pattern it replaces. The ratio
//! should be 1.00 within noise.
//!
//! The loops are `#[inline(never)]` functions, [`cycles_hand`] / [`cycles_ours`] and
//! [`cycles_hand_ctx`] / [`cycles_ours_ctx`], so that their machine code can be compared:
//! `benches/typestate-asm.sh` disassembles each pair from the bench binary and diffs them
//! (see `docs/performance.md`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Player cycles per timed iteration.
const CYCLES: u64 = 1000;
/// Transitions per cycle.
const STEPS_PER_CYCLE: u64 = 9;

/// The bench player, declared with our macro.
mod ours {
    fsm_core::machine! {
        pub Player {
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
}

/// The same player with a `u64` context, so that every intermediate machine is eight
/// bytes that `black_box` must materialise, not a zero-sized value.
mod ours_ctx {
    fsm_core::machine! {
        pub Player {
            context: u64,
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
}

/// The bench player, as one would write the typestate pattern by hand: zero-sized state
/// structs, and the context (`C`) carried from state to state.
mod hand {
    #[derive(Debug, PartialEq, Eq)]
    pub struct Idle;
    #[derive(Debug, PartialEq, Eq)]
    pub struct Running;
    #[derive(Debug, PartialEq, Eq)]
    pub struct Paused;
    #[derive(Debug, PartialEq, Eq)]
    pub struct Stopped;

    /// The player in state `S`, with its context.
    #[derive(Debug)]
    pub struct Player<S, C> {
        context: C,
        state: S,
    }

    impl<S, C> Player<S, C> {
        pub fn state(&self) -> &S {
            &self.state
        }

        pub fn context(&self) -> &C {
            &self.context
        }
    }

    impl<C> Player<Idle, C> {
        pub fn new(context: C, state: Idle) -> Self {
            Player { context, state }
        }

        pub fn start(self) -> Player<Running, C> {
            Player {
                context: self.context,
                state: Running,
            }
        }
    }

    impl<C> Player<Running, C> {
        pub fn pause(self) -> Player<Paused, C> {
            Player {
                context: self.context,
                state: Paused,
            }
        }

        pub fn stop(self) -> Player<Stopped, C> {
            Player {
                context: self.context,
                state: Stopped,
            }
        }
    }

    impl<C> Player<Paused, C> {
        pub fn resume(self) -> Player<Running, C> {
            Player {
                context: self.context,
                state: Running,
            }
        }

        pub fn stop(self) -> Player<Stopped, C> {
            Player {
                context: self.context,
                state: Stopped,
            }
        }
    }

    impl<C> Player<Stopped, C> {
        pub fn reset(self) -> Player<Idle, C> {
            Player {
                context: self.context,
                state: Idle,
            }
        }
    }
}

/// The cycle, the same text for every variant: `$player` starts in `Idle`.
macro_rules! cycles {
    ($player:expr, $n:expr) => {{
        let mut player = $player;
        for _ in 0..$n {
            let running = black_box(player.start());
            let paused = black_box(running.pause());
            let running = black_box(paused.resume());
            let stopped = black_box(running.stop());
            let idle = black_box(stopped.reset());
            let running = black_box(idle.start());
            let paused = black_box(running.pause());
            let stopped = black_box(paused.stop());
            player = black_box(stopped.reset());
        }
        player
    }};
}

/// `n` cycles with the hand-written typestate.
#[inline(never)]
pub fn cycles_hand(n: u64) -> hand::Player<hand::Idle, ()> {
    cycles!(hand::Player::new((), hand::Idle), n)
}

/// `n` cycles with the typestate generated by `fsm_core::machine!`.
#[inline(never)]
pub fn cycles_ours(n: u64) -> ours::Player<ours::player::Idle> {
    cycles!(ours::Player::new((), ours::player::Idle), n)
}

/// `n` cycles with the hand-written typestate, `u64` context.
#[inline(never)]
pub fn cycles_hand_ctx(n: u64, context: u64) -> hand::Player<hand::Idle, u64> {
    cycles!(hand::Player::new(context, hand::Idle), n)
}

/// `n` cycles with the generated typestate, `u64` context.
#[inline(never)]
pub fn cycles_ours_ctx(n: u64, context: u64) -> ours_ctx::Player<ours_ctx::player::Idle> {
    cycles!(ours_ctx::Player::new(context, ours_ctx::player::Idle), n)
}

fn typestate(c: &mut Criterion) {
    // Every loop ends where it started, in `Idle`, with its context intact.
    assert_eq!(*cycles_hand(3).state(), hand::Idle);
    assert_eq!(cycles_ours(3).state_id(), ours::player::StateId::Idle);
    assert_eq!(*cycles_hand_ctx(3, 42).context(), 42);
    let ours = cycles_ours_ctx(3, 42);
    assert_eq!(ours.state_id(), ours_ctx::player::StateId::Idle);
    assert_eq!(*ours.context(), 42);

    let mut group = c.benchmark_group("typestate");
    group.throughput(Throughput::Elements(CYCLES * STEPS_PER_CYCLE));
    group.bench_function("hand", |b| b.iter(|| cycles_hand(black_box(CYCLES))));
    group.bench_function("fsm-core", |b| b.iter(|| cycles_ours(black_box(CYCLES))));
    group.finish();

    let mut group = c.benchmark_group("typestate-u64-context");
    group.throughput(Throughput::Elements(CYCLES * STEPS_PER_CYCLE));
    group.bench_function("hand", |b| {
        b.iter(|| cycles_hand_ctx(black_box(CYCLES), black_box(7)))
    });
    group.bench_function("fsm-core", |b| {
        b.iter(|| cycles_ours_ctx(black_box(CYCLES), black_box(7)))
    });
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50)
}

criterion_group! {
    name = benches;
    config = config();
    targets = typestate
}
criterion_main!(benches);
