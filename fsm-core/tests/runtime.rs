//! The run-time bridge: `fire` moves along declared edges and hands illegal events back.

use fsm_core::{Runtime as _, machine};

machine! {
    /// A media player.
    pub Player {
        context: Vec<&'static str>,
        initial: Idle,
        states: { Idle, Playing { track: u32 }, Paused, Stopped },
        edges: {
            Idle + play => Playing,
            Playing + pause => Paused,
            Paused + resume => Playing,
            Playing | Paused + stop => Stopped,
            Stopped + reset => Idle,
        },
    }
}

fn player() -> player::Runtime {
    Player::new(Vec::new(), player::Idle).into()
}

#[test]
fn fire_moves_along_a_declared_edge() {
    let machine = player()
        .fire(player::Event::Play(player::Playing { track: 3 }))
        .unwrap();
    assert_eq!(machine.state_id(), player::StateId::Playing);
    match &machine {
        player::Runtime::Playing(typed) => assert_eq!(typed.state().track, 3),
        other => panic!("expected Playing, got {other:?}"),
    }
}

#[test]
fn an_illegal_event_hands_back_the_machine_and_the_event_unchanged() {
    let mut machine = player();
    machine.context_mut().push("kept");

    let rejected = machine.fire(player::Event::Pause).unwrap_err();
    assert_eq!(rejected.state_id(), player::StateId::Idle);
    assert_eq!(rejected.event().id(), player::EventId::Pause);

    let (machine, event) = rejected.into_parts();
    assert_eq!(machine.context(), &vec!["kept"]);
    assert_eq!(event.id(), player::EventId::Pause);
    assert!(machine.fire(player::Event::Reset).is_err());
}

#[test]
fn a_rejection_names_the_machine_the_state_and_the_legal_moves() {
    let playing = player()
        .fire(player::Event::Play(player::Playing { track: 1 }))
        .unwrap();
    let rejected = playing.fire(player::Event::Reset).unwrap_err();
    assert_eq!(
        rejected.to_string(),
        "`Player` has no `reset` move from state `Playing`; legal from there: `pause` `stop`"
    );
    let legal: Vec<_> = rejected.legal_events().collect();
    assert_eq!(legal, [player::EventId::Pause, player::EventId::Stop]);
}

#[test]
fn typed_and_run_time_views_convert_both_ways() {
    let typed = Player::new(Vec::new(), player::Idle).play(player::Playing { track: 9 });
    let machine = player::Runtime::from(typed.pause());
    let machine = machine.fire(player::Event::Stop).unwrap();
    let player::Runtime::Stopped(typed) = machine else {
        panic!("stop leads to Stopped");
    };
    assert_eq!(typed.reset().state_id(), player::StateId::Idle);
}

#[test]
fn events_that_carry_data_cannot_be_made_from_their_id_alone() {
    assert!(player::Runtime::<fsm_core::NoHistory>::event_for(player::EventId::Play).is_none());
    assert!(player::Runtime::<fsm_core::NoHistory>::event_for(player::EventId::Stop).is_some());
}

#[test]
fn the_rejection_is_a_standard_error() {
    fn takes_error(_: &dyn std::error::Error) {}
    let rejected = player().fire(player::Event::Stop).unwrap_err();
    takes_error(&rejected);
    assert_eq!(format!("{:?}", rejected.event()), "Event::Stop");
}

#[test]
fn step_moves_on_a_legal_event_and_keeps_the_machine_on_an_illegal_one() {
    let mut machine = player();
    machine.context_mut().push("kept");

    let machine = machine.step(player::Event::Pause);
    assert_eq!(machine.state_id(), player::StateId::Idle);
    assert_eq!(machine.context(), &vec!["kept"]);

    let machine = machine.step(player::Event::Play(player::Playing { track: 7 }));
    assert_eq!(machine.state_id(), player::StateId::Playing);
    match &machine {
        player::Runtime::Playing(typed) => assert_eq!(typed.state().track, 7),
        other => panic!("expected Playing, got {other:?}"),
    }
    assert_eq!(machine.context(), &vec!["kept"]);
}
