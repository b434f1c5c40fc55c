//! Seeded random walks over legal events, for tests.
//!
//! A walk reads the machine's transition table, picks one of the events that are legal in
//! the current state, and fires it through the run-time enum. The same seed gives the same
//! walk, so a failing invariant can be replayed. Pair it with a [`History`](crate::History)
//! recorder to assert properties of the whole path.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::machine::{Id, Machine};
use crate::runtime::{Rejected, Runtime};

/// A seeded source of legal events.
///
/// ```
/// use fsm_core::{History, Runtime, machine, walk::RandomWalk};
///
/// machine! {
///     pub Lamp {
///         initial: Off,
///         states: { Off, On },
///         edges: { Off + switch_on => On, On + switch_off => Off },
///     }
/// }
///
/// let start: lamp::Runtime<History<lamp::Spec, 8>> =
///     Lamp::with_history((), lamp::Off, History::new()).into();
/// let end = RandomWalk::seeded(7).run(start, 1_000)?;
///
/// // A lamp can only alternate, so after 1,000 moves it is off again.
/// assert_eq!(end.state_id(), lamp::StateId::Off);
/// assert_eq!(end.history().total(), 1_000);
/// # Ok::<(), fsm_core::Rejected<lamp::Runtime<History<lamp::Spec, 8>>>>(())
/// ```
#[derive(Debug, Clone)]
pub struct RandomWalk<G = StdRng> {
    rng: G,
}

/// What one step of a walk did.
#[derive(Debug)]
pub enum Step<R> {
    /// The machine moved along a legal edge.
    Moved(R),
    /// No event could be made in this state: it has no outgoing edge (a final state), or
    /// every legal event needs data that the walk was not given.
    Stuck(R),
}

impl RandomWalk<StdRng> {
    /// A walk whose choices are fixed by `seed`.
    pub fn seeded(seed: u64) -> Self {
        RandomWalk {
            rng: StdRng::seed_from_u64(seed),
        }
    }
}

impl<G: Rng> RandomWalk<G> {
    /// A walk that draws from `rng`.
    pub fn from_rng(rng: G) -> Self {
        RandomWalk { rng }
    }

    /// The random number generator, for drawing event payloads.
    pub fn rng(&mut self) -> &mut G {
        &mut self.rng
    }

    /// Takes up to `steps` legal moves, stopping early in a state with no usable event.
    ///
    /// # Errors
    ///
    /// A [`Rejected`] when the run-time enum refuses an event that the table declares legal,
    /// which would mean the two disagree.
    pub fn run<R: Runtime>(&mut self, machine: R, steps: usize) -> Result<R, Rejected<R>> {
        self.run_with(machine, steps, |id, _| R::event_for(id))
    }

    /// Like [`run`](Self::run), with `make` building each event, so that events whose edge
    /// enters a state with data can carry it. Return `None` to skip an event.
    ///
    /// # Errors
    ///
    /// As for [`run`](Self::run).
    pub fn run_with<R, F>(
        &mut self,
        mut machine: R,
        steps: usize,
        mut make: F,
    ) -> Result<R, Rejected<R>>
    where
        R: Runtime,
        F: FnMut(<R::Spec as Machine>::EventId, &mut G) -> Option<R::Event>,
    {
        for _ in 0..steps {
            machine = match self.step_with(machine, &mut make)? {
                Step::Moved(next) => next,
                Step::Stuck(last) => return Ok(last),
            };
        }
        Ok(machine)
    }

    /// Takes one legal move, chosen uniformly among the events `make` can build.
    ///
    /// # Errors
    ///
    /// As for [`run`](Self::run).
    pub fn step_with<R, F>(&mut self, machine: R, make: &mut F) -> Result<Step<R>, Rejected<R>>
    where
        R: Runtime,
        F: FnMut(<R::Spec as Machine>::EventId, &mut G) -> Option<R::Event>,
    {
        let table = <R::Spec as Machine>::TABLE;
        let legal = table.edges_from(machine.state_id().index()).count();
        if legal == 0 {
            return Ok(Step::Stuck(machine));
        }

        // Start at a random legal edge and take the first one whose event can be built, so
        // that a state with some data-carrying events still moves when others are free.
        let first = self.rng.random_range(0..legal);
        let edges = table.edges_from(machine.state_id().index());
        let mut ordered = edges.clone().skip(first).chain(edges.take(first));
        let event = ordered.find_map(|edge| {
            let id = <<R::Spec as Machine>::EventId as Id>::ALL[edge.event];
            make(id, &mut self.rng)
        });

        match event {
            Some(event) => machine.fire(event).map(Step::Moved),
            None => Ok(Step::Stuck(machine)),
        }
    }
}
