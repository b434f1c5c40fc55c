//! Seeded random walks: thousands of legal sequences, replayable from a seed.

#![cfg(feature = "rand")]

use fsm_core::walk::{RandomWalk, Step};
use fsm_core::{Breadcrumb, Machine, Runtime as _, machine};
use rand::Rng;

machine! {
    /// A media player whose `play` carries the track.
    pub Player {
        context: u32,
        initial: Idle,
        final: Ejected,
        states: { Idle, Playing { track: u32 }, Paused, Stopped, Ejected },
        edges: {
            Idle + play => Playing,
            Playing + pause => Paused,
            Paused + resume => Playing,
            Playing | Paused + stop => Stopped,
            Stopped + reset => Idle,
            Stopped + eject => Ejected,
        },
    }
}

type Recorded = player::Runtime<Vec<Breadcrumb<player::Spec>>>;

fn start() -> Recorded {
    Player::with_history(0, player::Idle, Vec::new()).into()
}

fn make(id: player::EventId, rng: &mut impl Rng) -> Option<player::Event> {
    match id {
        player::EventId::Play => Some(player::Event::Play(player::Playing {
            track: rng.random_range(1..10),
        })),
        other => player::Event::unit(other),
    }
}

#[test]
fn every_recorded_move_is_a_declared_edge() {
    for seed in 0..1_000 {
        let end = RandomWalk::seeded(seed)
            .run_with(start(), 200, make)
            .unwrap();
        let crumbs = end.history();
        for pair in crumbs.windows(2) {
            assert_eq!(
                pair[0].to, pair[1].from,
                "seed {seed}: the path is connected"
            );
        }
        for crumb in crumbs {
            assert_eq!(
                player::Spec::target(crumb.from, crumb.event),
                Some(crumb.to),
                "seed {seed}"
            );
        }
        if let Some(last) = crumbs.last() {
            assert_eq!(last.to, end.state_id());
        }
    }
}

#[test]
fn a_walk_stops_in_a_final_state() {
    let end = RandomWalk::seeded(3)
        .run_with(start(), 100_000, make)
        .unwrap();
    assert_eq!(end.state_id(), player::StateId::Ejected);
    assert!(end.history().len() < 100_000);
}

#[test]
fn the_same_seed_replays_the_same_walk() {
    let a = RandomWalk::seeded(99).run_with(start(), 500, make).unwrap();
    let b = RandomWalk::seeded(99).run_with(start(), 500, make).unwrap();
    assert_eq!(a.history(), b.history());
}

#[test]
fn without_a_maker_a_walk_is_stuck_where_every_event_needs_data() {
    let mut walk = RandomWalk::seeded(1);
    let step = walk
        .step_with(start(), &mut |id, _| Recorded::event_for(id))
        .unwrap();
    assert!(matches!(step, Step::Stuck(machine) if machine.state_id() == player::StateId::Idle));
}

#[test]
fn every_state_is_visited_over_many_seeds() {
    let mut seen = [false; 5];
    for seed in 0..50 {
        let end = RandomWalk::seeded(seed)
            .run_with(start(), 50, make)
            .unwrap();
        for crumb in end.history() {
            seen[fsm_core::Id::index(crumb.to)] = true;
        }
    }
    assert!(seen.iter().all(|&s| s), "visited: {seen:?}");
}
