//! The scenarios of the MIT 6.5840 Raft lab (3A–3C), replayed on tick time in the
//! deterministic simulator, each citing the section of the Raft paper it exercises.
//!
//! One tick stands for 30 ms: the default configuration's election timeouts of 10–19
//! ticks are 300–570 ms and its heartbeat of 3 ticks is 90 ms, the lab's ranges. The
//! simulator checks every safety property after every step; these tests add the lab's
//! liveness and efficiency expectations. Each scenario runs under a fixed seed, and
//! `RAFT_SEED=<n>` replaces it to explore others.

use raft_fsm::sim::{Cluster, NetConfig};
use raft_fsm::{NodeId, RoleKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Ticks in one simulated second.
const SECOND: u64 = 33;
/// The longest election timeout, in ticks.
const ELECTION: u64 = 20;

fn seed(default: u64) -> u64 {
    std::env::var("RAFT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn cluster(n: usize, name: &str, default_seed: u64) -> Cluster {
    let seed = seed(default_seed);
    let mut c = Cluster::new(n, seed);
    c.set_replay_hint(format!(
        "RAFT_SEED={seed} cargo test -p raft-fsm --test lab {name}"
    ));
    c
}

/// The leaders among `connected` servers, by term; fails on two in one term. Returns
/// the leader of the highest term (the lab's `checkOneLeader`).
fn check_one_leader(c: &mut Cluster, connected: &[NodeId]) -> NodeId {
    for _ in 0..10 {
        c.run(SECOND / 2);
        let mut leaders: Vec<(u64, NodeId)> = c
            .leaders()
            .into_iter()
            .filter(|(id, _)| connected.contains(id))
            .map(|(id, term)| (term, id))
            .collect();
        leaders.sort_unstable();
        if let Some(pair) = leaders.windows(2).find(|w| w[0].0 == w[1].0) {
            panic!(
                "term {} has two leaders {pair:?}\n{}",
                pair[0].0,
                c.report()
            );
        }
        if let Some(&(_, id)) = leaders.last() {
            return id;
        }
    }
    panic!("expected one leader, got none\n{}", c.report());
}

fn check_no_leader(c: &Cluster, connected: &[NodeId]) {
    for (id, term) in c.leaders() {
        assert!(
            !connected.contains(&id),
            "n{id} leads term {term} without a majority\n{}",
            c.report()
        );
    }
}

fn terms_agree(c: &Cluster, connected: &[NodeId]) -> u64 {
    let terms: Vec<u64> = connected
        .iter()
        .filter_map(|&id| c.node(id).map(|n| n.core().term()))
        .collect();
    assert!(
        terms.windows(2).all(|w| w[0] == w[1]),
        "servers disagree on term: {terms:?}"
    );
    terms[0]
}

/// Proposes `cmd` until some leader takes it and `expected` servers applied it (the
/// lab's `one`); returns its index.
fn one(c: &mut Cluster, cmd: &[u8], expected: usize, retry: bool) -> u64 {
    let start = c.now();
    let mut first = 0;
    let n = c.ids().count() as u64;
    while c.now() < start + 10 * SECOND {
        let mut index = None;
        for k in 0..n {
            let id = (first + k) % n + 1;
            if let Ok((i, _)) = c.propose(id, cmd) {
                index = Some(i);
                first = id % n;
                break;
            }
        }
        let Some(index) = index else {
            c.run(2);
            continue;
        };
        let t0 = c.now();
        while c.now() < t0 + 2 * SECOND {
            let (count, data) = c.committed_at(index);
            if count >= expected && data == Some(cmd) {
                return index;
            }
            c.tick();
        }
        assert!(
            retry,
            "one({cmd:?}) failed to reach agreement\n{}",
            c.report()
        );
    }
    panic!("one({cmd:?}) failed to reach agreement\n{}", c.report());
}

fn cmd(value: u64) -> Vec<u8> {
    value.to_le_bytes().to_vec()
}

// ---- 3A: leader election (Raft §5.2) ----

/// Raft §5.2: a leader is elected, and with no failures it keeps its term.
#[test]
fn initial_election() {
    let mut c = cluster(3, "initial_election", 1);
    let all = [1, 2, 3];
    check_one_leader(&mut c, &all);
    c.run(2);
    let term1 = terms_agree(&c, &all);
    assert!(term1 >= 1);
    c.run(2 * ELECTION);
    assert_eq!(terms_agree(&c, &all), term1, "term changed with no failure");
    check_one_leader(&mut c, &all);
}

/// Raft §5.2: a new leader is elected when the old one is cut off, and no leader without
/// a majority.
#[test]
fn reelection() {
    let mut c = cluster(3, "reelection", 2);
    let leader1 = check_one_leader(&mut c, &[1, 2, 3]);
    c.disconnect(leader1);
    let rest: Vec<NodeId> = [1, 2, 3].into_iter().filter(|&i| i != leader1).collect();
    check_one_leader(&mut c, &rest);
    c.connect(leader1);
    let leader2 = check_one_leader(&mut c, &[1, 2, 3]);
    c.disconnect(leader2);
    c.disconnect(leader2 % 3 + 1);
    c.run(2 * ELECTION);
    let alone = (leader2 + 1) % 3 + 1;
    check_no_leader(&c, &[alone]);
    c.connect(leader2 % 3 + 1);
    check_one_leader(&mut c, &[alone, leader2 % 3 + 1]);
    c.connect(leader2);
    check_one_leader(&mut c, &[1, 2, 3]);
}

/// Raft §5.2: seven servers, three cut off at random, ten times over.
#[test]
fn many_elections() {
    let mut c = cluster(7, "many_elections", 3);
    let mut rng = StdRng::seed_from_u64(c.seed());
    check_one_leader(&mut c, &[1, 2, 3, 4, 5, 6, 7]);
    for _ in 0..10 {
        let cut: Vec<NodeId> = (0..3).map(|_| rng.random_range(1..=7)).collect();
        for &id in &cut {
            c.disconnect(id);
        }
        let up: Vec<NodeId> = (1..=7).filter(|id| !cut.contains(id)).collect();
        check_one_leader(&mut c, &up);
        for &id in &cut {
            c.connect(id);
        }
    }
    check_one_leader(&mut c, &[1, 2, 3, 4, 5, 6, 7]);
}

// ---- 3B: log replication (Raft §5.3, §5.4) ----

/// Raft §5.3: commands are committed in order at consecutive indexes.
#[test]
fn basic_agree() {
    let mut c = cluster(3, "basic_agree", 4);
    let mut last = 0;
    for value in 1..=3 {
        let index = one(&mut c, &cmd(value * 100), 3, false);
        assert!(index > last, "indexes go up");
        if last > 0 {
            assert_eq!(index, last + 1);
        }
        last = index;
    }
}

/// Raft §5.3: each command crosses the network once per follower (the lab's byte
/// budget: at most the payload per server plus 50 kB).
#[test]
fn rpc_bytes() {
    let mut c = cluster(3, "rpc_bytes", 5);
    one(&mut c, &cmd(99), 3, false);
    let bytes0 = c.stats().bytes;
    let mut sent = 0;
    for value in 0..10u8 {
        let payload = vec![value; 5000];
        one(&mut c, &payload, 3, false);
        sent += payload.len() as u64;
    }
    let got = c.stats().bytes - bytes0;
    assert!(
        got <= 3 * sent + 50_000,
        "{got} bytes for {sent} bytes of commands"
    );
}

/// Raft §5.3: agreement goes on while a follower is cut off, and it catches up.
#[test]
fn follower_failure() {
    let mut c = cluster(3, "follower_failure", 6);
    one(&mut c, &cmd(101), 3, false);
    let leader = check_one_leader(&mut c, &[1, 2, 3]);
    let follower = leader % 3 + 1;
    c.disconnect(follower);
    one(&mut c, &cmd(102), 2, false);
    c.run(ELECTION);
    one(&mut c, &cmd(103), 2, false);
    c.connect(follower);
    one(&mut c, &cmd(104), 3, true);
}

/// Raft §5.3: the leader and every follower cut off: nothing commits.
#[test]
fn leader_and_follower_failure_blocks_progress() {
    let mut c = cluster(3, "leader_and_follower_failure_blocks_progress", 7);
    one(&mut c, &cmd(101), 3, false);
    let leader = check_one_leader(&mut c, &[1, 2, 3]);
    c.disconnect(leader);
    c.disconnect(leader % 3 + 1);
    let alone = (leader + 1) % 3 + 1;
    let proposed = c.propose(alone, &cmd(102));
    assert!(proposed.is_err(), "a follower refuses proposals");
    c.run(2 * SECOND);
    assert_eq!(c.committed_at(3).0, 0, "committed without a majority");
}

/// Raft §5.3: no agreement without a majority; the minority leader's entry is replaced
/// once the majority returns.
#[test]
fn fail_no_agree() {
    let mut c = cluster(5, "fail_no_agree", 8);
    one(&mut c, &cmd(10), 5, false);
    let leader = check_one_leader(&mut c, &[1, 2, 3, 4, 5]);
    for k in 1..=3 {
        c.disconnect((leader + k - 1) % 5 + 1);
    }
    let (index, _) = c.propose(leader, &cmd(20)).expect("still the leader");
    c.run(2 * SECOND);
    assert_eq!(c.committed_at(index).0, 0, "committed with a minority");
    for id in 1..=5 {
        c.connect(id);
    }
    let leader2 = check_one_leader(&mut c, &[1, 2, 3, 4, 5]);
    assert!(c.propose(leader2, &cmd(30)).is_ok());
    one(&mut c, &cmd(1000), 5, true);
}

/// Raft §5.3: several proposals at once get distinct, consecutive indexes.
#[test]
fn concurrent_starts() {
    let mut c = cluster(3, "concurrent_starts", 9);
    one(&mut c, &cmd(1), 3, false);
    let leader = check_one_leader(&mut c, &[1, 2, 3]);
    let indexes: Vec<u64> = (0..5)
        .map(|i| c.propose(leader, &cmd(100 + i)).expect("leader").0)
        .collect();
    assert!(indexes.windows(2).all(|w| w[1] == w[0] + 1));
    c.run(SECOND);
    for (i, &index) in indexes.iter().enumerate() {
        let (count, data) = c.committed_at(index);
        assert_eq!(count, 3);
        assert_eq!(data, Some(&cmd(100 + i as u64)[..]));
    }
}

/// Raft §5.3, §5.4.1: a partitioned leader that took proposals rejoins; its uncommitted
/// entries are overwritten.
#[test]
fn rejoin() {
    let mut c = cluster(3, "rejoin", 10);
    one(&mut c, &cmd(101), 3, true);
    let leader1 = check_one_leader(&mut c, &[1, 2, 3]);
    c.disconnect(leader1);
    for value in [102, 103, 104] {
        c.propose(leader1, &cmd(value))
            .expect("still leads its term");
    }
    one(&mut c, &cmd(103), 2, true);
    let rest: Vec<NodeId> = [1, 2, 3].into_iter().filter(|&i| i != leader1).collect();
    let leader2 = check_one_leader(&mut c, &rest);
    c.disconnect(leader2);
    c.connect(leader1);
    one(&mut c, &cmd(104), 2, true);
    c.connect(leader2);
    one(&mut c, &cmd(105), 3, true);
}

/// Raft §5.3 (the fast back-off at its end): a leader brings followers with long
/// divergent logs back in line quickly.
#[test]
fn backup() {
    let mut c = cluster(5, "backup", 11);
    let mut rng = StdRng::seed_from_u64(c.seed());
    one(&mut c, &cmd(rng.random()), 5, true);
    let leader1 = check_one_leader(&mut c, &[1, 2, 3, 4, 5]);
    let at = |k: u64| (leader1 + k - 1) % 5 + 1;
    for k in 2..=4 {
        c.disconnect(at(k));
    }
    for _ in 0..50 {
        let _ = c.propose(leader1, &cmd(rng.random()));
    }
    c.run(ELECTION / 2);
    c.disconnect(at(0));
    c.disconnect(at(1));
    for k in 2..=4 {
        c.connect(at(k));
    }
    for _ in 0..50 {
        one(&mut c, &cmd(rng.random()), 3, true);
    }
    let leader2 = check_one_leader(&mut c, &[at(2), at(3), at(4)]);
    let other = [at(2), at(3), at(4)]
        .into_iter()
        .find(|&id| id != leader2)
        .expect("three servers");
    c.disconnect(other);
    for _ in 0..50 {
        let _ = c.propose(leader2, &cmd(rng.random()));
    }
    c.run(ELECTION / 2);
    for id in 1..=5 {
        c.disconnect(id);
    }
    c.connect(at(0));
    c.connect(at(1));
    c.connect(other);
    for _ in 0..50 {
        one(&mut c, &cmd(rng.random()), 3, true);
    }
    for id in 1..=5 {
        c.connect(id);
    }
    one(&mut c, &cmd(rng.random()), 5, true);
}

/// Raft §5.2, §5.3: few messages: at most 30 requests to elect, 42 to agree on ten
/// commands, 60 per idle second (the lab's budgets).
#[test]
fn rpc_count() {
    let mut c = cluster(3, "rpc_count", 12);
    let leader = check_one_leader(&mut c, &[1, 2, 3]);
    let total1 = c.stats().requests;
    assert!(total1 <= 30, "{total1} requests to elect a leader");
    let before = c.stats().requests;
    let (start, term) = c.propose(leader, &cmd(1)).expect("leader");
    let mut indexes = vec![start];
    for value in 2..=10 {
        let (index, t) = c.propose(leader, &cmd(value)).expect("leader");
        assert_eq!(t, term);
        indexes.push(index);
    }
    c.run_until(SECOND, |c| {
        indexes.iter().all(|&i| c.committed_at(i).0 == 3)
    });
    let total2 = c.stats().requests - before;
    assert!(
        total2 <= (10 + 1 + 3) * 3,
        "{total2} requests for ten commands"
    );
    let idle = c.stats().requests;
    c.run(SECOND);
    let total3 = c.stats().requests - idle;
    assert!(total3 <= 3 * 20, "{total3} requests in an idle second");
}

// ---- 3C: persistence (Raft §5.2 "Persistent state", §5.4) ----

/// Raft §5.2 and Figure 2 (persistent state): servers restart from storage and agree
/// again.
#[test]
fn persist1() {
    let mut c = cluster(3, "persist1", 13);
    one(&mut c, &cmd(11), 3, true);
    for id in 1..=3 {
        c.restart(id);
    }
    one(&mut c, &cmd(12), 3, true);
    let leader1 = check_one_leader(&mut c, &[1, 2, 3]);
    c.disconnect(leader1);
    c.restart(leader1);
    c.connect(leader1);
    one(&mut c, &cmd(13), 3, true);
    let leader2 = check_one_leader(&mut c, &[1, 2, 3]);
    c.disconnect(leader2);
    one(&mut c, &cmd(14), 2, true);
    c.restart(leader2);
    c.connect(leader2);
    c.run(ELECTION);
    let i3 = (check_one_leader(&mut c, &[1, 2, 3])) % 3 + 1;
    c.disconnect(i3);
    one(&mut c, &cmd(15), 2, true);
    c.restart(i3);
    c.connect(i3);
    one(&mut c, &cmd(16), 3, true);
}

/// Raft §5.2, §5.4: repeated crashes of minorities and restarts from storage.
#[test]
fn persist2() {
    let mut c = cluster(5, "persist2", 14);
    let mut value = 10;
    for _ in 0..5 {
        value += 1;
        one(&mut c, &cmd(value), 5, true);
        let leader1 = check_one_leader(&mut c, &[1, 2, 3, 4, 5]);
        let at = |k: u64| (leader1 + k - 1) % 5 + 1;
        c.disconnect(at(1));
        c.disconnect(at(2));
        value += 1;
        one(&mut c, &cmd(value), 3, true);
        c.disconnect(at(0));
        c.disconnect(at(3));
        c.disconnect(at(4));
        c.restart(at(1));
        c.restart(at(2));
        c.connect(at(1));
        c.connect(at(2));
        c.run(ELECTION);
        c.restart(at(3));
        c.connect(at(3));
        value += 1;
        one(&mut c, &cmd(value), 3, true);
        c.restart(at(4));
        c.restart(at(0));
        c.connect(at(4));
        c.connect(at(0));
    }
    one(&mut c, &cmd(1000), 5, true);
}

/// Raft §5.4: a partitioned leader and a follower crash; the leader restarts and the
/// cluster agrees again.
#[test]
fn persist3() {
    let mut c = cluster(3, "persist3", 15);
    one(&mut c, &cmd(101), 3, true);
    let leader = check_one_leader(&mut c, &[1, 2, 3]);
    let third = (leader + 1) % 3 + 1;
    c.disconnect(third);
    one(&mut c, &cmd(102), 2, true);
    c.crash(leader);
    c.crash(leader % 3 + 1);
    c.connect(third);
    c.restart(leader);
    one(&mut c, &cmd(103), 2, true);
    c.restart(leader % 3 + 1);
    one(&mut c, &cmd(104), 3, true);
}

/// Raft §5.4.2, Figure 8: leaders crash right after proposing, again and again; an
/// entry of an older term must never be committed by counting replicas alone.
#[test]
fn figure8() {
    let mut c = cluster(5, "figure8", 16);
    figure8_run(&mut c, false);
}

/// Raft §5.4.2, Figure 8, on an unreliable network with long reordering: servers are
/// cut off and reconnected instead of crashed.
#[test]
fn figure8_unreliable() {
    let mut c = cluster(5, "figure8_unreliable", 17);
    figure8_run(&mut c, true);
}

fn figure8_run(c: &mut Cluster, unreliable: bool) {
    let mut rng = StdRng::seed_from_u64(c.seed() ^ 0xf8);
    if unreliable {
        c.set_net(NetConfig::unreliable());
    }
    one(c, &cmd(rng.random()), 1, true);
    let mut up = [true; 5];
    for iteration in 0..1000 {
        // As in the lab, replies start to be held back for long only after a while.
        if unreliable && iteration == 200 {
            c.set_net(NetConfig::long_reordering());
        }
        let mut leader = None;
        for id in 1..=5 {
            if c.propose(id, &cmd(rng.random())).is_ok() && up[id as usize - 1] {
                leader = Some(id);
            }
        }
        let pause = if rng.random_range(0..1000) < 100 {
            rng.random_range(0..ELECTION)
        } else {
            rng.random_range(0..2)
        };
        c.run(pause);
        if let Some(leader) = leader
            && (unreliable || rng.random_range(0..2) == 0)
        {
            if unreliable {
                c.disconnect(leader);
            } else {
                c.crash(leader);
            }
            up[leader as usize - 1] = false;
        }
        if up.iter().filter(|&&u| u).count() < 3 {
            let pick = rng.random_range(1..=5u64);
            if !up[pick as usize - 1] {
                if unreliable {
                    c.connect(pick);
                } else {
                    c.restart(pick);
                }
                up[pick as usize - 1] = true;
            }
        }
    }
    c.set_net(NetConfig::reliable());
    for id in 1..=5 {
        if unreliable {
            c.connect(id);
        } else if !c.is_up(id) {
            c.restart(id);
        }
    }
    one(c, &cmd(rng.random()), 5, true);
}

/// Raft §5.3: agreement over a network that drops, duplicates and delays.
#[test]
fn unreliable_agree() {
    let mut c = cluster(5, "unreliable_agree", 18);
    c.set_net(NetConfig::unreliable());
    for iter in 1..50 {
        for j in 0..4 {
            let _ = c.propose_to_leader(&cmd(100 * iter + j));
        }
        one(&mut c, &cmd(iter), 1, true);
    }
    c.set_net(NetConfig::reliable());
    one(&mut c, &cmd(100), 5, true);
}

/// Raft §5: clients propose while servers crash, restart, and are cut off and
/// reconnected at random; at the end every server agrees.
fn churn(c: &mut Cluster, unreliable: bool) {
    let mut rng = StdRng::seed_from_u64(c.seed() ^ 0xc4);
    if unreliable {
        c.set_net(NetConfig::unreliable());
    }
    // Proposals a leader took, and those some server was seen to apply.
    let mut accepted = Vec::new();
    let mut confirmed = Vec::new();
    for round in 0..20u64 {
        for step in 0..SECOND / 2 {
            let value = round * 1000 + step;
            if let Some((_, index, _)) = c.propose_to_leader(&cmd(value)) {
                accepted.push((index, value));
            }
            c.tick();
            accepted.retain(|&(index, value)| match c.committed_at(index) {
                (0, _) => true,
                (_, data) => {
                    if data == Some(&cmd(value)[..]) {
                        confirmed.push((index, value));
                    }
                    false
                }
            });
        }
        let id = rng.random_range(1..=5u64);
        match rng.random_range(0..10) {
            0..2 => c.disconnect(id),
            2..7 => c.connect(id),
            7..9 if !c.is_up(id) => c.restart(id),
            7..9 => {}
            _ => c.crash(id),
        }
    }
    c.set_net(NetConfig::reliable());
    for id in 1..=5 {
        if !c.is_up(id) {
            c.restart(id);
        }
        c.connect(id);
    }
    c.run(ELECTION);
    let last = one(c, &cmd(u64::MAX), 5, true);
    assert!(!confirmed.is_empty(), "the clients got something committed");
    // Every command once seen applied survived every crash, at its index, everywhere.
    for id in 1..=5 {
        let applied = c.applied(id);
        assert!(applied.len() as u64 >= last);
        for &(index, value) in &confirmed {
            assert_eq!(&applied[index as usize - 1].data[..], &cmd(value)[..]);
        }
    }
}

/// Raft §5 (all of it): churn on a reliable network.
#[test]
fn reliable_churn() {
    let mut c = cluster(5, "reliable_churn", 19);
    churn(&mut c, false);
}

/// Raft §5 (all of it): churn on a network that drops, duplicates and delays.
#[test]
fn unreliable_churn() {
    let mut c = cluster(5, "unreliable_churn", 20);
    churn(&mut c, true);
}

/// Raft §5.1 ("if a client contacts a follower, the follower redirects it to the
/// leader"): a proposal to a follower is refused with the leader's identity.
#[test]
fn a_follower_names_the_leader_when_refusing_a_proposal() {
    let mut c = cluster(
        3,
        "a_follower_names_the_leader_when_refusing_a_proposal",
        21,
    );
    let leader = check_one_leader(&mut c, &[1, 2, 3]);
    // A newly elected leader makes itself known with its first AppendEntries.
    c.run(5);
    let follower = leader % 3 + 1;
    assert_eq!(c.node(follower).map(|n| n.role()), Some(RoleKind::Follower));
    let error = c.propose(follower, b"x").expect_err("a follower");
    assert_eq!(
        error,
        raft_fsm::ProposeError::NotLeader {
            id: follower,
            leader: Some(leader)
        }
    );
    assert!(
        error
            .to_string()
            .contains(&format!("the leader is {leader}"))
    );
}
