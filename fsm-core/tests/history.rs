//! Breadcrumbs: what a bounded history keeps, and that keeping none costs nothing.

use core::mem::size_of;

use fsm_core::{Breadcrumb, History, NoHistory, machine};

machine! {
    pub Lamp {
        initial: Off,
        states: { Off, On },
        edges: { Off + switch_on => On, On + switch_off => Off },
    }
}

#[test]
fn no_history_is_free() {
    assert_eq!(size_of::<NoHistory>(), 0);
    assert_eq!(size_of::<Lamp<lamp::Off>>(), 0);
}

#[test]
fn the_history_keeps_the_last_n_moves_with_their_sequence_numbers() {
    let lamp = Lamp::with_history((), lamp::Off, History::<lamp::Spec, 3>::new());
    let lamp = lamp
        .switch_on()
        .switch_off()
        .switch_on()
        .switch_off()
        .switch_on();

    let history = lamp.history();
    assert_eq!(history.total(), 5);
    assert_eq!(history.len(), 3);
    let seqs: Vec<u64> = history.iter().map(|crumb| crumb.seq).collect();
    assert_eq!(seqs, [2, 3, 4]);
    assert_eq!(
        history.last().map(ToString::to_string).as_deref(),
        Some("#4 Off --switch_on--> On")
    );
}

#[test]
fn the_history_prints_one_breadcrumb_per_line() {
    let lamp = Lamp::with_history((), lamp::Off, History::<lamp::Spec, 8>::new());
    let lamp = lamp.switch_on().switch_off();
    assert_eq!(
        lamp.history().to_string(),
        "#0 Off --switch_on--> On\n#1 On --switch_off--> Off\n"
    );
    assert_eq!(
        format!("{:?}", lamp.history()),
        "History { total: 2, kept: [#0 Off --switch_on--> On, #1 On --switch_off--> Off] }"
    );
}

#[test]
fn run_time_moves_are_recorded_too() {
    let machine: lamp::Runtime<History<lamp::Spec, 4>> =
        Lamp::with_history((), lamp::Off, History::new()).into();
    let machine = machine.fire(lamp::Event::SwitchOn).unwrap();
    let machine = machine
        .fire(lamp::Event::SwitchOn)
        .unwrap_err()
        .into_machine();
    assert_eq!(
        machine.history().total(),
        1,
        "a rejected event is not a move"
    );
}

#[test]
fn a_zero_capacity_history_counts_nothing_and_does_not_panic() {
    let lamp = Lamp::with_history((), lamp::Off, History::<lamp::Spec, 0>::new());
    let lamp = lamp.switch_on();
    assert!(lamp.history().is_empty());
    assert_eq!(lamp.history().iter().count(), 0);
}

#[test]
fn a_vec_keeps_every_move() {
    let lamp = Lamp::with_history((), lamp::Off, Vec::<Breadcrumb<lamp::Spec>>::new());
    let lamp = lamp.switch_on().switch_off().switch_on();
    let kept: Vec<String> = lamp.history().iter().map(ToString::to_string).collect();
    assert_eq!(kept.len(), 3);
    assert_eq!(kept[2], "#2 Off --switch_on--> On");
}

#[test]
fn clearing_forgets_everything() {
    let mut lamp = Lamp::with_history((), lamp::Off, History::<lamp::Spec, 2>::new()).switch_on();
    lamp.history_mut().clear();
    assert!(lamp.history().is_empty());
    assert_eq!(lamp.history().last(), None);
}
