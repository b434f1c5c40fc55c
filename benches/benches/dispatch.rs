//! Run-time dispatch: the bench player driven by events that are only known at run time.
//!
//! What it measures: nanoseconds per event to push a precomputed stream of 4096 or 65,536
//! events (seeded; exactly one in four illegal for the state the machine is in when it
//! arrives, see [`benches::event_stream`]) through the player, for
//!
//! - `hand`: a hand-written `enum` + `match` (an illegal event leaves the state as it is),
//!   the baseline;
//! - `fsm-core`: our `machine!`'s run-time enum and `fire`, with a rejection turned back
//!   into the machine by `Rejected::into_machine`;
//! - `fsm-core-step`: the same enum through `Runtime::step`, which does that in a
//!   function that is never inlined;
//! - `statig` 0.4, `rust-fsm` 0.8, `sm` 0.9 and `statum` 0.9, each written as its own
//!   documentation shows.
//!
//! Why: a typestate framework still needs a run-time path for events that arrive from
//! outside (packets, timers, user input). Its promise is that this path costs no more
//! than the `match` one would write by hand, and no more than the other crates' paths.
//!
//! Every variant is first checked, untimed, against the hand-written trace (same state
//! after every event), so that a variant that silently ignores or mis-routes events
//! cannot look fast. The stream is converted to each variant's own event type outside the
//! timed part (criterion's `iter_batched`), and the timed loop is the same generic function
//! for all of them; it consumes the events by value, as they would come off a queue.
//!
//! Each variant is timed with its loop at four offsets within a 64-byte line, as
//! `variant@0` to `variant@48` (see [`OFFSETS`]); `benches/dispatch-summary.sh` prints
//! the medians.

use std::hint::black_box;
use std::time::Duration;

use benches::{Event, State, event_stream, reference_trace};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

/// Events per iteration, in two groups. The same stream is replayed in every iteration,
/// and a branch predictor with a long history learns part of a 4096-event stream, so
/// that the short stream's figures depend on where the code happens to sit (two variants
/// with identical machine code measured 6 and 10 µs); 65,536 events are too many to
/// learn, and measure dispatch on events that are truly unpredictable.
const LENS: [usize; 2] = [4096, 1 << 16];
/// Seed of the event stream (any value works; fixed so that runs are comparable).
const SEED: u64 = 0x5EED_F5A1;

/// One way of writing the player with a run-time entry point.
trait Variant {
    /// Name in the benchmark output.
    const NAME: &'static str;
    /// The variant's own event type.
    type Event;
    /// The machine, in whichever state it is.
    type Machine;
    /// The variant's event for the shared one (done once, before timing).
    fn event(event: Event) -> Self::Event;
    /// A machine in `Idle`.
    fn new() -> Self::Machine;
    /// Dispatches one event, taken by value as it would arrive from a queue; an illegal
    /// event leaves the state as it was.
    fn step(machine: Self::Machine, event: Self::Event) -> Self::Machine;
    /// The state, as the shared enum (used to check, and once per iteration).
    fn state(machine: &Self::Machine) -> State;
}

/// Where each variant's timed loop is placed: `PAD` bytes of no-ops at the top of `run`
/// move the loop below them, so the same loop is timed at each 16-byte offset within a
/// 64-byte line. Branch-heavy loops like these change speed with their placement alone
/// (docs/performance.md measured identical loops 40% apart), so each variant is timed at
/// all four offsets and compared on the median.
const OFFSETS: [usize; 4] = [0, 16, 32, 48];

/// The timed loop, the same for every variant. The events are owned and consumed, since
/// not every variant's event type is `Copy` (ours is not when an event carries a state's
/// data).
#[inline(never)]
fn run<V: Variant, const PAD: usize>(events: Vec<V::Event>) -> State {
    pad::<PAD>();
    let mut machine = V::new();
    for event in events {
        machine = V::step(machine, event);
    }
    V::state(&machine)
}

/// No-ops up to the next 64-byte boundary, then `PAD` more: the code after this point
/// starts `PAD` bytes into a line, whatever the address of the function. Run once per
/// call of `run`.
#[inline(always)]
fn pad<const PAD: usize>() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the bytes are `nop` instructions: they touch no register, flag or memory.
    unsafe {
        std::arch::asm!(
            ".p2align 6, 0x90",
            ".skip {pad}, 0x90",
            pad = const PAD,
            options(nomem, nostack, preserves_flags)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Hand-written `enum` + `match` (the baseline): `benches::State::on`.
// ---------------------------------------------------------------------------------------

struct Hand;

impl Variant for Hand {
    const NAME: &'static str = "hand";
    type Event = Event;
    type Machine = State;

    fn event(event: Event) -> Event {
        event
    }

    fn new() -> State {
        State::Idle
    }

    #[inline]
    fn step(state: State, event: Event) -> State {
        state.on(event)
    }

    fn state(state: &State) -> State {
        *state
    }
}

// ---------------------------------------------------------------------------------------
// fsm-core (ours): `machine!`'s run-time enum; `fire` moves along a declared edge or hands
// the machine back inside `Rejected`, which `into_machine` unwraps.
// ---------------------------------------------------------------------------------------

mod with_fsm_core {
    // Only the run-time side is used here; the typed moves are measured in typestate.rs.
    #![allow(dead_code)]

    benches::bench_player!();
}

struct FsmCore;

impl Variant for FsmCore {
    const NAME: &'static str = "fsm-core";
    type Event = with_fsm_core::player::Event;
    type Machine = with_fsm_core::player::Runtime;

    fn event(event: Event) -> Self::Event {
        use with_fsm_core::player::Event as E;
        match event {
            Event::Start => E::Start,
            Event::Pause => E::Pause,
            Event::Resume => E::Resume,
            Event::Stop => E::Stop,
            Event::Reset => E::Reset,
        }
    }

    fn new() -> Self::Machine {
        use with_fsm_core::{Player, player};
        Player::new((), player::Idle).into()
    }

    #[inline]
    fn step(machine: Self::Machine, event: Self::Event) -> Self::Machine {
        match machine.fire(event) {
            Ok(machine) => machine,
            Err(rejected) => rejected.into_machine(),
        }
    }

    fn state(machine: &Self::Machine) -> State {
        use with_fsm_core::player::StateId;
        match machine.state_id() {
            StateId::Idle => State::Idle,
            StateId::Running => State::Running,
            StateId::Paused => State::Paused,
            StateId::Stopped => State::Stopped,
        }
    }
}

/// The same machine through `Runtime::step`, which keeps the machine on an illegal event
/// and is compiled as a function of its own: the call it costs is what this variant
/// shows beside `fsm-core`, whose `fire` is inlined into the loop.
struct FsmCoreStep;

impl Variant for FsmCoreStep {
    const NAME: &'static str = "fsm-core-step";
    type Event = <FsmCore as Variant>::Event;
    type Machine = <FsmCore as Variant>::Machine;

    fn event(event: Event) -> Self::Event {
        FsmCore::event(event)
    }

    fn new() -> Self::Machine {
        FsmCore::new()
    }

    #[inline]
    fn step(machine: Self::Machine, event: Self::Event) -> Self::Machine {
        fsm_core::Runtime::step(machine, event)
    }

    fn state(machine: &Self::Machine) -> State {
        FsmCore::state(machine)
    }
}

// ---------------------------------------------------------------------------------------
// rust-fsm 0.8: the `state_machine!` DSL; `consume` returns `Err` for an illegal input
// and leaves the state unchanged, so the error is simply dropped.
// ---------------------------------------------------------------------------------------

mod with_rust_fsm {
    use rust_fsm::state_machine;

    state_machine! {
        pub player(Idle)

        Idle(Start) => Running,
        Running => {
            Pause => Paused,
            Stop => Stopped,
        },
        Paused => {
            Resume => Running,
            Stop => Stopped,
        },
        Stopped(Reset) => Idle,
    }
}

struct RustFsm;

impl Variant for RustFsm {
    const NAME: &'static str = "rust-fsm";
    type Event = with_rust_fsm::player::Input;
    type Machine = with_rust_fsm::player::StateMachine;

    fn event(event: Event) -> Self::Event {
        use with_rust_fsm::player::Input;
        match event {
            Event::Start => Input::Start,
            Event::Pause => Input::Pause,
            Event::Resume => Input::Resume,
            Event::Stop => Input::Stop,
            Event::Reset => Input::Reset,
        }
    }

    fn new() -> Self::Machine {
        with_rust_fsm::player::StateMachine::new()
    }

    #[inline]
    fn step(mut machine: Self::Machine, event: Self::Event) -> Self::Machine {
        // `Err(TransitionImpossibleError)` means "illegal here, nothing changed".
        let _ = machine.consume(&event);
        machine
    }

    fn state(machine: &Self::Machine) -> State {
        use with_rust_fsm::player::State as S;
        match machine.state() {
            S::Idle => State::Idle,
            S::Running => State::Running,
            S::Paused => State::Paused,
            S::Stopped => State::Stopped,
        }
    }
}

// ---------------------------------------------------------------------------------------
// statig 0.4: one handler per state; an event a state does not handle is deferred with
// `Super` to the implicit top state, which ignores it.
// ---------------------------------------------------------------------------------------

mod with_statig {
    use statig::prelude::*;

    pub enum Event {
        Start,
        Pause,
        Resume,
        Stop,
        Reset,
    }

    #[derive(Default)]
    pub struct Player;

    #[state_machine(initial = "State::idle()")]
    impl Player {
        #[state]
        fn idle(event: &Event) -> Outcome<State> {
            match event {
                Event::Start => Transition(State::running()),
                _ => Super,
            }
        }

        #[state]
        fn running(event: &Event) -> Outcome<State> {
            match event {
                Event::Pause => Transition(State::paused()),
                Event::Stop => Transition(State::stopped()),
                _ => Super,
            }
        }

        #[state]
        fn paused(event: &Event) -> Outcome<State> {
            match event {
                Event::Resume => Transition(State::running()),
                Event::Stop => Transition(State::stopped()),
                _ => Super,
            }
        }

        #[state]
        fn stopped(event: &Event) -> Outcome<State> {
            match event {
                Event::Reset => Transition(State::idle()),
                _ => Super,
            }
        }
    }
}

struct Statig;

impl Variant for Statig {
    const NAME: &'static str = "statig";
    type Event = with_statig::Event;
    type Machine = statig::blocking::StateMachine<with_statig::Player>;

    fn event(event: Event) -> Self::Event {
        use with_statig::Event as E;
        match event {
            Event::Start => E::Start,
            Event::Pause => E::Pause,
            Event::Resume => E::Resume,
            Event::Stop => E::Stop,
            Event::Reset => E::Reset,
        }
    }

    fn new() -> Self::Machine {
        use statig::blocking::IntoStateMachineExt as _;
        // As in statig's README: a lazily initialised machine, then `handle`.
        with_statig::Player.state_machine()
    }

    #[inline]
    fn step(mut machine: Self::Machine, event: Self::Event) -> Self::Machine {
        machine.handle(&event);
        machine
    }

    fn state(machine: &Self::Machine) -> State {
        use with_statig::State as S;
        match machine.state() {
            S::Idle {} => State::Idle,
            S::Running {} => State::Running,
            S::Paused {} => State::Paused,
            S::Stopped {} => State::Stopped,
        }
    }
}

// ---------------------------------------------------------------------------------------
// sm 0.9: a typestate library. Its documented run-time form is `as_enum()`, an enum with
// one variant per (state, event that led there), matched exhaustively; an event that has
// no `transition` from the current variant is not representable, so the match arm keeps
// the machine as it is.
// ---------------------------------------------------------------------------------------

mod with_sm {
    #![allow(missing_debug_implementations, missing_copy_implementations)]

    use benches::{Event, State};
    use sm::{AsEnum as _, Initializer as _, Transition as _, sm};

    sm! {
        Player {
            InitialStates { Idle }

            Start {
                Idle => Running
            }

            Pause {
                Running => Paused
            }

            Resume {
                Paused => Running
            }

            Stop {
                Running, Paused => Stopped
            }

            Reset {
                Stopped => Idle
            }
        }
    }

    // `sm!` declares a private module, so the run-time functions live next to it.
    use Player::Variant::*;
    use Player::{Pause, Reset, Resume, Start, Stop};

    pub type Machine = Player::Variant;

    pub fn new() -> Machine {
        Player::Machine::new(Player::Idle).as_enum()
    }

    #[inline]
    pub fn step(machine: Machine, event: Event) -> Machine {
        match (machine, event) {
            (InitialIdle(m), Event::Start) => m.transition(Start).as_enum(),
            (IdleByReset(m), Event::Start) => m.transition(Start).as_enum(),
            (RunningByStart(m), Event::Pause) => m.transition(Pause).as_enum(),
            (RunningByResume(m), Event::Pause) => m.transition(Pause).as_enum(),
            (RunningByStart(m), Event::Stop) => m.transition(Stop).as_enum(),
            (RunningByResume(m), Event::Stop) => m.transition(Stop).as_enum(),
            (PausedByPause(m), Event::Resume) => m.transition(Resume).as_enum(),
            (PausedByPause(m), Event::Stop) => m.transition(Stop).as_enum(),
            (StoppedByStop(m), Event::Reset) => m.transition(Reset).as_enum(),
            // Illegal here: sm has no run-time rejection, the machine is kept as it is.
            (machine, _) => machine,
        }
    }

    pub fn state(machine: &Machine) -> State {
        match machine {
            InitialIdle(_) | IdleByReset(_) => State::Idle,
            RunningByStart(_) | RunningByResume(_) => State::Running,
            PausedByPause(_) => State::Paused,
            StoppedByStop(_) => State::Stopped,
        }
    }
}

struct Sm;

impl Variant for Sm {
    const NAME: &'static str = "sm";
    type Event = Event;
    type Machine = with_sm::Machine;

    fn event(event: Event) -> Event {
        event
    }

    fn new() -> Self::Machine {
        with_sm::new()
    }

    #[inline]
    fn step(machine: Self::Machine, event: Event) -> Self::Machine {
        with_sm::step(machine, event)
    }

    fn state(machine: &Self::Machine) -> State {
        with_sm::state(machine)
    }
}

// ---------------------------------------------------------------------------------------
// statum 0.9: a typestate library. `#[machine]` generates `player::SomeState`, the enum it
// documents for matching a machine whose state is only known at run time; each legal
// (state, event) pair calls the typed transition and wraps the result again, anything
// else keeps the machine.
// ---------------------------------------------------------------------------------------

mod with_statum {
    #![allow(missing_debug_implementations, dead_code)]

    use statum::{machine, state, transition};

    #[state]
    pub enum PlayerState {
        Idle,
        Running,
        Paused,
        Stopped,
    }

    #[machine]
    pub struct Player<PlayerState> {}

    #[transition]
    impl Player<Idle> {
        pub fn start(self) -> Player<Running> {
            self.transition()
        }
    }

    #[transition]
    impl Player<Running> {
        pub fn pause(self) -> Player<Paused> {
            self.transition()
        }

        pub fn stop(self) -> Player<Stopped> {
            self.transition()
        }
    }

    #[transition]
    impl Player<Paused> {
        pub fn resume(self) -> Player<Running> {
            self.transition()
        }

        pub fn stop(self) -> Player<Stopped> {
            self.transition()
        }
    }

    #[transition]
    impl Player<Stopped> {
        pub fn reset(self) -> Player<Idle> {
            self.transition()
        }
    }

    pub fn idle() -> player::SomeState {
        player::SomeState::Idle(Player::<Idle>::builder().build())
    }
}

struct Statum;

impl Variant for Statum {
    const NAME: &'static str = "statum";
    type Event = Event;
    type Machine = with_statum::player::SomeState;

    fn event(event: Event) -> Event {
        event
    }

    fn new() -> Self::Machine {
        with_statum::idle()
    }

    #[inline]
    fn step(machine: Self::Machine, event: Event) -> Self::Machine {
        use with_statum::player::SomeState as S;
        match (machine, event) {
            (S::Idle(m), Event::Start) => S::Running(m.start()),
            (S::Running(m), Event::Pause) => S::Paused(m.pause()),
            (S::Running(m), Event::Stop) => S::Stopped(m.stop()),
            (S::Paused(m), Event::Resume) => S::Running(m.resume()),
            (S::Paused(m), Event::Stop) => S::Stopped(m.stop()),
            (S::Stopped(m), Event::Reset) => S::Idle(m.reset()),
            // Illegal here: statum has no run-time rejection, the machine is kept as it is.
            (machine, _) => machine,
        }
    }

    fn state(machine: &Self::Machine) -> State {
        use with_statum::player::SomeState as S;
        match machine {
            S::Idle(_) => State::Idle,
            S::Running(_) => State::Running,
            S::Paused(_) => State::Paused,
            S::Stopped(_) => State::Stopped,
        }
    }
}

// ---------------------------------------------------------------------------------------
// Harness.
// ---------------------------------------------------------------------------------------

/// Checks `V` against the reference trace, then registers the timed loop. The stream is
/// converted to `V`'s own event type in the (untimed) setup of every iteration.
fn bench_variant<V: Variant>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    events: &[Event],
    expected: &[State],
) {
    let own = || -> Vec<V::Event> { events.iter().map(|&e| V::event(e)).collect() };

    let mut machine = V::new();
    for (i, (event, want)) in own().into_iter().zip(expected).enumerate() {
        machine = V::step(machine, event);
        assert_eq!(
            V::state(&machine),
            *want,
            "{} diverges at event {i}",
            V::NAME
        );
    }
    let last = *expected.last().expect("the stream is not empty");
    assert_eq!(run::<V, 0>(own()), last);

    // One benchmark per placement, named `variant@offset`; `benches/dispatch-summary.sh`
    // prints the median over the four.
    bench_at::<V, { OFFSETS[0] }>(group, &own);
    bench_at::<V, { OFFSETS[1] }>(group, &own);
    bench_at::<V, { OFFSETS[2] }>(group, &own);
    bench_at::<V, { OFFSETS[3] }>(group, &own);
}

fn bench_at<V: Variant, const PAD: usize>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    own: &dyn Fn() -> Vec<V::Event>,
) {
    group.bench_function(format!("{}@{PAD}", V::NAME), |b| {
        b.iter_batched(
            own,
            |events| run::<V, PAD>(black_box(events)),
            BatchSize::LargeInput,
        );
    });
}

fn dispatch(c: &mut Criterion) {
    for len in LENS {
        let events = event_stream(len, SEED);
        let (expected, rejected) = reference_trace(&events);
        assert_eq!(
            rejected,
            len / 4,
            "exactly a quarter of the stream is illegal"
        );

        let mut group = c.benchmark_group(format!("dispatch-{len}"));
        group.throughput(Throughput::Elements(len as u64));
        bench_variant::<Hand>(&mut group, &events, &expected);
        bench_variant::<FsmCore>(&mut group, &events, &expected);
        bench_variant::<FsmCoreStep>(&mut group, &events, &expected);
        bench_variant::<RustFsm>(&mut group, &events, &expected);
        bench_variant::<Statig>(&mut group, &events, &expected);
        bench_variant::<Sm>(&mut group, &events, &expected);
        bench_variant::<Statum>(&mut group, &events, &expected);
        group.finish();
    }
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
    targets = dispatch
}
criterion_main!(benches);
