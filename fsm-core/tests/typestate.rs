//! The typestate layer: consuming moves, state data, context, capabilities and sizes.

use core::mem::size_of;

use fsm_core::{Machine, UnitState, machine};

/// What a door remembers across states.
#[derive(Debug, Default, PartialEq)]
pub struct Log {
    pub opened: u32,
    pub knocks: u32,
}

machine! {
    /// A door that can be locked with a code and, once demolished, is gone for good.
    pub Door {
        context: Log,
        initial: Closed,
        final: Gone,
        states: {
            Open,
            Closed,
            /// Locked with a code that `unlock` must match.
            Locked { code: u16 },
            Gone,
        },
        edges: {
            Closed + open => Open,
            Open + close => Closed,
            Closed + lock => Locked,
            /// Only with the right code.
            Locked + unlock => Closed,
            Open | Closed + demolish => Gone,
        },
        capabilities: {
            knock: [Closed, Locked],
        },
    }
}

impl<S: door::DoorState> Door<S> {
    /// Knocking is possible where the door is shut.
    pub fn knock(&mut self)
    where
        S: door::cap::CanKnock,
    {
        self.context_mut().knocks += 1;
    }
}

impl Door<door::Closed> {
    /// A move written through the primitive, with an action on the context.
    pub fn open_counted(self) -> Door<door::Open> {
        self.transition_with(door::event::open, |_, log| {
            log.opened += 1;
            door::Open
        })
    }
}

impl Door<door::Locked> {
    /// A fallible move: the wrong code hands the locked door back.
    pub fn try_unlock(self, code: u16) -> Result<Door<door::Closed>, Door<door::Locked>> {
        if self.state().code == code {
            Ok(self.unlock())
        } else {
            Err(self)
        }
    }
}

#[test]
fn unit_states_are_zero_sized_and_the_machine_is_its_context() {
    assert_eq!(size_of::<door::Open>(), 0);
    assert_eq!(size_of::<door::Closed>(), 0);
    assert_eq!(size_of::<Door<door::Closed>>(), size_of::<Log>());
    assert_eq!(
        size_of::<Door<door::Locked>>(),
        size_of::<(Log, door::Locked)>()
    );
}

#[test]
fn moves_consume_the_machine_and_keep_the_context() {
    let door = Door::new(Log::default(), door::Closed);
    let door = door.open_counted().close().open_counted();
    assert_eq!(door.context().opened, 2);
    assert_eq!(door.state_id(), door::StateId::Open);
}

#[test]
fn a_state_with_data_is_entered_with_its_data() {
    let door = Door::new(Log::default(), door::Closed).lock(door::Locked { code: 42 });
    assert_eq!(door.state().code, 42);

    let door = door.try_unlock(7).expect_err("wrong code keeps it locked");
    let door = door.try_unlock(42).expect("right code opens the lock");
    assert_eq!(door.state_id(), door::StateId::Closed);
}

#[test]
fn a_capability_is_usable_in_every_state_that_has_it() {
    let mut door = Door::new(Log::default(), door::Closed);
    door.knock();
    let mut door = door.lock(door::Locked { code: 1 });
    door.knock();
    assert_eq!(door.into_context().knocks, 2);
}

#[test]
fn one_event_may_leave_several_states() {
    let from_open = Door::new(Log::default(), door::Closed).open().demolish();
    let from_closed = Door::new(Log::default(), door::Closed).demolish();
    assert_eq!(from_open.state_id(), from_closed.state_id());
}

#[test]
fn state_types_and_edges_know_their_identifiers() {
    assert_eq!(<door::Locked as door::DoorState>::ID, door::StateId::Locked);
    // The edge's target, as a type: `Locked + unlock => Closed`.
    let _: <door::Locked as door::Edge<
        door::event::unlock,
        <door::Locked as door::DoorState>::Moves,
    >>::To = door::Closed;
    assert!(matches!(<door::Gone as UnitState>::VALUE, door::Gone));
}

#[test]
fn the_table_lists_every_declared_edge() {
    let table = door::Spec::TABLE;
    assert_eq!(table.machine, "Door");
    assert_eq!(table.state_name(table.initial), "Closed");
    assert_eq!(
        table.edges.len(),
        6,
        "`Open | Closed + demolish` is two edges"
    );
    assert!(table.states[3].is_final);
    assert!(table.states[2].has_data);

    use door::{EventId as E, StateId as S};
    assert_eq!(door::Spec::target(S::Closed, E::Lock), Some(S::Locked));
    assert_eq!(door::Spec::target(S::Locked, E::Open), None);
    assert_eq!(door::Spec::target(S::Gone, E::Close), None);
}

#[test]
fn the_generated_target_agrees_with_the_table_everywhere() {
    use fsm_core::Id;
    let table = door::Spec::TABLE;
    for &from in door::StateId::ALL {
        for &event in door::EventId::ALL {
            let by_table = table.target(from.index(), event.index());
            let by_match = door::Spec::target(from, event).map(Id::index);
            assert_eq!(by_table, by_match, "{from} + {event}");
        }
    }
}

/// A context that is not `Debug`.
struct Opaque;

machine! {
    Bare { context: Opaque, initial: Only, states: { Only }, edges: {} }
}

#[test]
fn debug_shows_the_state_without_asking_the_context_for_debug() {
    let bare = Bare::new(Opaque, bare::Only);
    assert_eq!(format!("{bare:?}"), "Bare { state: Only, .. }");
}

machine! {
    Lamp {
        initial: Off,
        states: {
            /// Derives written on a state are kept: the macro adds none of its own.
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            Off,
            #[derive(Debug, Clone, PartialEq)]
            On { brightness: f32 },
        },
        edges: { Off + switch_on => On, On + switch_off => Off },
    }
}

#[test]
fn derives_written_on_states_are_kept() {
    let lamp = Lamp::new((), lamp::Off).switch_on(lamp::On { brightness: 0.5 });
    let on = lamp.state().clone();
    assert_eq!(format!("{on:?}"), "On { brightness: 0.5 }");
    let off = lamp.switch_off();
    let copy = *off.state();
    assert_eq!(copy, lamp::Off);
}

mod private_machines {
    //! A machine declared without `pub` is usable in its own module, capabilities and
    //! all (the event and capability types live one module deeper than the states).
    use fsm_core::machine;

    machine! {
        Fan {
            initial: Still,
            states: { Still, Spinning },
            edges: { Still + start => Spinning, Spinning + stop => Still },
            capabilities: { oil: [Still] },
        }
    }

    fn oil<S: fan::cap::CanOil>(fan: &Fan<S>) -> fan::StateId {
        fan.state_id()
    }

    #[test]
    fn a_private_machine_moves_and_has_its_capabilities() {
        let fan = Fan::new((), fan::Still);
        assert_eq!(oil(&fan), fan::StateId::Still);
        let fan = fan.start().stop();
        assert_eq!(fan.state_id(), fan::StateId::Still);
    }
}
