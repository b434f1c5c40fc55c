//! The run-time bridge: one enum over all states, for events that arrive at run time.
//!
//! A packet or a timer does not know at compile time which state the machine is in. The
//! generated `Runtime` enum holds the typed machine in whichever state it is, and `fire`
//! moves it along a declared edge or hands it back untouched inside [`Rejected`].

use core::fmt;

use crate::machine::{Id, Machine};

/// A run-time event of machine `M`: an event name, plus the target state's data when the
/// edge it takes enters a state that carries data.
pub trait RuntimeEvent<M: Machine> {
    /// Which event this is.
    fn id(&self) -> M::EventId;
}

/// The run-time enum over all states of a machine, generated as `<machine>::Runtime`.
pub trait Runtime: Sized {
    /// The machine this enum belongs to.
    type Spec: Machine;

    /// The machine's run-time events.
    type Event: RuntimeEvent<Self::Spec>;

    /// The state the machine is in.
    fn state_id(&self) -> <Self::Spec as Machine>::StateId;

    /// Moves along the edge that `event` names from the current state.
    ///
    /// # Errors
    ///
    /// [`Rejected`], holding the machine unchanged and the event, when the current state
    /// has no edge for `event`.
    fn fire(self, event: Self::Event) -> Result<Self, Rejected<Self>>;

    /// Fires `event` and keeps the machine as it was when the event is illegal in its
    /// current state: for a caller that ignores illegal events, as a hand-written
    /// `match` with a `(state, _) => state` arm does.
    ///
    /// Unlike `fire`, which is inlined into its caller, this is never inlined: it is
    /// compiled once as a function of its own, like that hand-written `match` in a
    /// function. For a machine of many states that keeps the whole dispatch out of the
    /// caller's loop; in a hot loop over a machine of a few states, `fire` with the
    /// rejection matched in place avoids the call.
    ///
    /// ```
    /// use fsm_core::{Runtime as _, machine};
    ///
    /// machine! {
    ///     pub Door {
    ///         initial: Closed,
    ///         states: { Open, Closed },
    ///         edges: { Closed + open => Open, Open + close => Closed },
    ///     }
    /// }
    ///
    /// let door: door::Runtime = Door::new((), door::Closed).into();
    /// let door = door.step(door::Event::Open);
    /// assert_eq!(door.state_id(), door::StateId::Open);
    /// let door = door.step(door::Event::Open); // illegal: ignored
    /// assert_eq!(door.state_id(), door::StateId::Open);
    /// ```
    #[inline(never)]
    fn step(self, event: Self::Event) -> Self {
        match self.fire(event) {
            Ok(machine) => machine,
            Err(rejected) => rejected.into_machine(),
        }
    }

    /// The run-time event for `id`, or `None` when it must carry data that only the caller
    /// can supply (its edge enters a state with data).
    fn event_for(id: <Self::Spec as Machine>::EventId) -> Option<Self::Event>;
}

/// An event that is not legal in the machine's current state, with the machine given back
/// exactly as it was: nothing is lost.
pub struct Rejected<R: Runtime> {
    machine: R,
    event: R::Event,
}

impl<R: Runtime> Rejected<R> {
    /// Wraps the machine and the event it refused.
    pub fn new(machine: R, event: R::Event) -> Self {
        Rejected { machine, event }
    }

    /// The machine, unchanged.
    pub fn machine(&self) -> &R {
        &self.machine
    }

    /// The refused event.
    pub fn event(&self) -> &R::Event {
        &self.event
    }

    /// Takes the machine back, dropping the event.
    pub fn into_machine(self) -> R {
        self.machine
    }

    /// Takes both the machine and the event back.
    pub fn into_parts(self) -> (R, R::Event) {
        (self.machine, self.event)
    }

    /// The state in which the event was refused.
    pub fn state_id(&self) -> <R::Spec as Machine>::StateId {
        self.machine.state_id()
    }

    /// The events that would have been legal in that state, in declaration order.
    pub fn legal_events(&self) -> impl Iterator<Item = <R::Spec as Machine>::EventId> + '_ {
        let table = <R::Spec as Machine>::TABLE;
        let from = self.state_id().index();
        table
            .edges_from(from)
            .map(|edge| <<R::Spec as Machine>::EventId as Id>::ALL[edge.event])
    }
}

impl<R: Runtime> fmt::Display for Rejected<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let machine = <R::Spec as Machine>::TABLE.machine;
        write!(
            f,
            "`{machine}` has no `{}` move from state `{}`; legal from there:",
            self.event.id(),
            self.state_id()
        )?;
        let mut any = false;
        for event in self.legal_events() {
            write!(f, " `{event}`")?;
            any = true;
        }
        if !any {
            f.write_str(" none")?;
        }
        Ok(())
    }
}

impl<R> fmt::Debug for Rejected<R>
where
    R: Runtime + fmt::Debug,
    R::Event: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rejected")
            .field("machine", &self.machine)
            .field("event", &self.event)
            .finish()
    }
}

impl<R> core::error::Error for Rejected<R>
where
    R: Runtime + fmt::Debug,
    R::Event: fmt::Debug,
{
}
