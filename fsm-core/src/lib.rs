//! Typestate finite-state machines: an illegal move is a compile error, not a run-time bug.
//!
//! Declare a machine once with [`machine!`]. Each state becomes a type, each legal move a
//! consuming method that exists only on the states it leaves from, and the same
//! declaration gives a run-time enum for events that arrive at run time, a `const`
//! transition table, diagrams, an optional bounded history and (for tests) seeded random
//! walks.
//!
//! ```
//! use fsm_core::machine;
//!
//! machine! {
//!     /// A door that can be locked with a code.
//!     pub Door {
//!         context: u32,
//!         initial: Closed,
//!         states: { Open, Closed, Locked { code: u16 } },
//!         edges: {
//!             Closed + open => Open,
//!             Open + close => Closed,
//!             Closed + lock => Locked,
//!             Locked + unlock => Closed,
//!         },
//!     }
//! }
//!
//! // Typestate: each call consumes the door and returns it in its new state.
//! let door = Door::new(0, door::Closed).open().close();
//! let door = door.lock(door::Locked { code: 1234 });
//! assert_eq!(door.state().code, 1234);
//! // door.open();  // does not compile: `Door` has no `open` move from state `Locked`
//!
//! // Run time: the event arrives as a value, and an illegal one hands the door back.
//! let door: door::Runtime = door.unlock().into();
//! let door = door.fire(door::Event::Open).unwrap();
//! let refused = door.fire(door::Event::Unlock).unwrap_err();
//! assert_eq!(refused.to_string(), "`Door` has no `unlock` move from state `Open`; legal from there: `close`");
//! assert_eq!(refused.into_machine().state_id(), door::StateId::Open);
//! ```
//!
//! # What `machine!` generates
//!
//! For `pub Door { ... }` it writes a module `door` and re-exports `door::Door`. The
//! [`example`] module shows the generated items of exactly that machine.
//!
//! | item | what it is |
//! |---|---|
//! | `Door<S, H = NoHistory>` | the machine in state `S`: the context, the state's data and a [`Recorder`] `H`; nothing else, so a move never allocates |
//! | `door::Closed`, ... | one type per state: zero-sized for a unit state, a struct for a state with data; sealed. No derives: write `#[derive(..)]` on a state to give it some |
//! | `door::event::open`, ... | one zero-sized type per event, naming an edge at compile time |
//! | `door::DoorState` | the sealed trait of the door's states: each state's `ID` and legal `Moves` |
//! | `door::Edge<E, Moves>` | the edge trait, implemented exactly for the declared edges; its error names the legal moves |
//! | `Door::<S, H>::transition`, `transition_with` | the primitive that moves along a declared edge, for writing your own consuming methods |
//! | `Door::open`, ... | one consuming method per event (visibility set by `transitions:`) |
//! | `door::cap::CanKnock`, ... | one trait per declared capability (`knock`), implemented for the states that have it |
//! | `door::Runtime<H>` | the enum over all states, with `fire(Event)`; see [`Runtime`], also for `step` |
//! | `door::StateId`, `door::EventId`, `door::Event` | identifiers, and run-time events (`Event` is another name for `EventId` when no event carries data) |
//! | `door::Spec` | implements [`Machine`]: the `const` [`Table`], rendered by [`Table::mermaid`] and [`Table::dot`] |
//!
//! The declaration syntax, and the rules it is checked against, are documented on
//! [`machine!`].
//!
//! # Features
//!
//! - `std` (default) and `alloc`: a `Vec` of [`Breadcrumb`]s as an unbounded recorder.
//!   Without them the crate is `no_std` and allocates nothing.
//! - `serde`: machines declared with `serde: true` serialize their run-time enum.
//! - `rand`: [`walk::RandomWalk`], seeded random walks over legal events.

#![no_std]
#![deny(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

// Lets the generated code's `::fsm_core` paths resolve inside this crate, for `example`.
#[cfg(doc)]
extern crate self as fsm_core;

mod diagram;
#[cfg(doc)]
pub mod example;
mod history;
mod machine;
mod runtime;
#[cfg(feature = "rand")]
pub mod walk;

pub use diagram::{Dot, Mermaid};
pub use history::{Breadcrumb, History, NoHistory, Recorder};
pub use machine::{EdgeInfo, Id, Machine, StateInfo, Table, UnitState};
pub use runtime::{Rejected, Runtime, RuntimeEvent};

/// Declares a typestate machine. See the [crate documentation](crate) for an overview.
///
/// ```text
/// machine! {
///     /// Docs for the machine type.
///     pub Name {
///         context: Type,                 // optional; travels through every state; default ()
///         initial: State,                // required
///         final: State | State,          // optional; no edge may leave a final state
///         transitions: pub(crate),       // optional; visibility of the moves; default: the machine's
///         serde: true,                   // optional; needs fsm-core's `serde` feature
///         states: {
///             /// Docs and attributes go onto the state's type.
///             Unit,
///             WithData { field: Type },
///         },
///         edges: {
///             From + event => To,
///             A | B + event => To,       // the same event from several states
///         },
///         capabilities: {                // optional
///             operation: [State, State], // generates the trait `name::cap::CanOperation`
///         },
///     }
/// }
/// ```
///
/// Rejected at compile time, each with an error on the offending token: an edge naming an
/// unknown state, a duplicate state, two edges from one state with the same event (to
/// different or the same target), an edge leaving a final state, a state unreachable from
/// the initial state, a missing `initial`, and any misuse of the syntax. All errors of a
/// declaration are reported together, and the machine is still generated from what was
/// valid, so that uses of it do not fail in turn.
pub use fsm_macros::machine;

/// The README's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The guide's examples, compiled and run as doctests so that they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/guide.md")]
pub struct GuideDoctests;

/// Items used by the code that `machine!` generates. Not public API.
///
/// The helpers here keep the expansion small: what would otherwise be written out once
/// per state or per edge is written once, here, and called with a few tokens.
#[doc(hidden)]
pub mod __private {
    use core::fmt;
    use core::mem::size_of;

    pub use static_assertions;

    #[cfg(feature = "serde")]
    pub use serde;

    use crate::machine::EdgeInfo;

    /// Whether machine type `M` in a unit state `S` with context `C` is exactly the
    /// context: `S` is zero-sized and adds nothing.
    pub const fn unit_layout<M, C, S>() -> bool {
        size_of::<S>() == 0 && size_of::<M>() == size_of::<C>()
    }

    /// Whether machine type `M` in a state `S` with data is exactly the context and the
    /// data, laid out as a pair.
    pub const fn data_layout<M, C, S>() -> bool {
        size_of::<M>() == size_of::<(C, S)>()
    }

    /// Whether every one of `checks` holds.
    pub const fn all(checks: &[bool]) -> bool {
        let mut i = 0;
        while i < checks.len() {
            if !checks[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// The edges of a table from `[from, event, to]` triples of indices.
    pub const fn edges<const N: usize>(raw: [[usize; 3]; N]) -> [EdgeInfo; N] {
        let mut out = [EdgeInfo::new(0, 0, 0); N];
        let mut i = 0;
        while i < N {
            let [from, event, to] = raw[i];
            out[i] = EdgeInfo::new(from, event, to);
            i += 1;
        }
        out
    }

    /// How a machine prints with `{:?}`: its name and state only, since the context and
    /// the history need not be `Debug`.
    pub struct MachineDebug<I>(pub &'static str, pub I);

    impl<I: fmt::Debug> fmt::Debug for MachineDebug<I> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct(self.0)
                .field("state", &self.1)
                .finish_non_exhaustive()
        }
    }

    /// How the run-time enum prints with `{:?}`: `State(Machine { state: State, .. })`,
    /// as a derive would print it.
    pub fn debug_runtime<I: crate::Id>(
        f: &mut fmt::Formatter<'_>,
        machine: &'static str,
        state: I,
    ) -> fmt::Result {
        f.debug_tuple(state.name())
            .field(&MachineDebug(machine, state))
            .finish()
    }
}

/// Emits its input only when fsm-core's `serde` feature is on. Not public API.
#[cfg(feature = "serde")]
#[doc(hidden)]
#[macro_export]
macro_rules! __serde_impls {
    ($machine:literal, $($tokens:tt)*) => { $($tokens)* };
}

/// Emits its input only when fsm-core's `serde` feature is on. Not public API.
#[cfg(not(feature = "serde"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __serde_impls {
    ($machine:literal, $($tokens:tt)*) => {
        ::core::compile_error!(::core::concat!(
            "machine `",
            $machine,
            "` is declared with `serde: true`, ",
            "but fsm-core's `serde` feature is off"
        ));
    };
}
