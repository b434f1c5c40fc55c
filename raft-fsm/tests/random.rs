//! Randomized runs: one seed drives a whole cluster through faults, and the simulator
//! checks Raft's safety properties (Figure 3) after every step.
//!
//! `cargo test` runs 1,000 seeds. `RAFT_SEEDS=<n>` runs more (from `RAFT_SEED_START`,
//! default 0); `RAFT_SEED=<n>` runs exactly one, which is what a failure prints.

use raft_fsm::sim::{Cluster, NetConfig};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Ticks of faults per run, then a healed, reliable network until a final command
/// commits everywhere.
const FAULT_TICKS: u64 = 1000;
const LIVENESS_TICKS: u64 = 2000;

fn env(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|s| s.parse().ok())
}

/// Runs seed `seed` and returns the digest of its trace.
fn run_seed(seed: u64) -> u64 {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    let n = rng.random_range(3..=7usize);
    let mut c = Cluster::new(n, seed);
    c.set_replay_hint(format!(
        "RAFT_SEED={seed} cargo test -p raft-fsm --test random random_seeds"
    ));
    c.set_net(match rng.random_range(0..3) {
        0 => NetConfig::reliable(),
        1 => NetConfig::unreliable(),
        _ => NetConfig::long_reordering(),
    });
    let ids: Vec<u64> = c.ids().collect();
    let pick = |rng: &mut StdRng| ids[rng.random_range(0..ids.len())];
    let mut value = 0u64;
    for _ in 0..FAULT_TICKS {
        if rng.random_range(0..4) == 0 {
            value += 1;
            let _ = c.propose_to_leader(&value.to_le_bytes());
        }
        match rng.random_range(0..200) {
            0 => c.crash(pick(&mut rng)),
            1 | 2 => {
                let id = pick(&mut rng);
                if !c.is_up(id) {
                    c.restart(id);
                }
            }
            3 => {
                let a = pick(&mut rng);
                let rest: Vec<u64> = ids.iter().copied().filter(|&i| i != a).collect();
                c.partition(&[&[a], &rest]);
            }
            4 => {
                let (a, b) = (pick(&mut rng), pick(&mut rng));
                c.cut_one_way(a, b);
            }
            5 => c.disconnect(pick(&mut rng)),
            6..=8 => c.heal(),
            _ => {}
        }
        c.tick();
    }
    // Liveness once the faults stop: a leader emerges and commits on every server.
    c.heal();
    c.set_net(NetConfig::reliable());
    for &id in &ids {
        if !c.is_up(id) {
            c.restart(id);
        }
    }
    let mut proposed: Option<(u64, u64)> = None;
    let start = c.now();
    while c.now() < start + LIVENESS_TICKS {
        if let Some((index, at)) = proposed {
            if c.committed_at(index) == (n, Some(&b"final"[..])) {
                return c.trace_hash();
            }
            // The leader that took it may have lost its term before replicating it.
            if c.now() > at + 100 {
                proposed = None;
            }
        }
        if proposed.is_none() {
            proposed = c
                .propose_to_leader(b"final")
                .map(|(_, index, _)| (index, c.now()));
        }
        c.tick();
    }
    panic!(
        "seed {seed}: no command committed on all {n} servers within {LIVENESS_TICKS} ticks of healing\n{}",
        c.report()
    );
}

/// At least 1,000 seeds, split in two tests so that both cores work.
fn run_range(range: std::ops::Range<u64>) {
    if let Some(seed) = env("RAFT_SEED") {
        if range.start == 0 {
            run_seed(seed);
        }
        return;
    }
    let start = env("RAFT_SEED_START").unwrap_or(0);
    let count = env("RAFT_SEEDS").unwrap_or(1000);
    let half = count / 2;
    let (from, to) = if range.start == 0 {
        (0, half)
    } else {
        (half, count)
    };
    for seed in start + from..start + to {
        run_seed(seed);
    }
}

#[test]
fn random_seeds() {
    run_range(0..1);
}

#[test]
fn random_seeds_second_half() {
    run_range(1..2);
}

#[test]
fn a_seed_replays_bit_for_bit() {
    for seed in [3, 77, 1234] {
        assert_eq!(run_seed(seed), run_seed(seed), "seed {seed} did not replay");
    }
    assert_ne!(run_seed(3), run_seed(4));
}

#[test]
fn a_report_shows_events_breadcrumbs_and_the_replay_command() {
    let mut c = Cluster::new(3, 5);
    c.set_replay_hint("RAFT_SEED=5 cargo test -p raft-fsm --test random random_seeds");
    c.run(60);
    let (leader, _) = c.leaders()[0];
    c.crash(leader);
    c.run(60);
    let report = c.report();
    assert!(report.contains(&format!("n{leader}: down")), "{report}");
    assert!(report.contains("deliver n"), "{report}");
    assert!(
        report.contains("--election_timeout--> Candidate"),
        "{report}"
    );
    assert!(report.contains("--win_election--> Leader"), "{report}");
    assert!(
        report.ends_with("replay: RAFT_SEED=5 cargo test -p raft-fsm --test random random_seeds\n")
    );
}

#[test]
fn a_violation_can_be_collected_instead_of_panicking() {
    // A cluster without faults has nothing to report.
    let mut c = Cluster::new(3, 9);
    c.set_strict(false);
    c.run(200);
    assert!(c.violation().is_none());
}
