//! Raft §5.4.2 and Figure 8, scripted step by step: a leader must not commit an entry
//! of an earlier term by counting its replicas, because a server that never held it can
//! still win a later election and overwrite it.
//!
//! Each server gets its own fixed election timeout, so the script decides who times out
//! first; partitions and one-way cuts decide who hears what. The simulator's checker
//! (Leader Completeness, State Machine Safety) is the oracle: with the §5.4.2 rule
//! removed from `Node`, this test fails with a Leader Completeness violation.

use raft_fsm::sim::Cluster;
use raft_fsm::{NodeId, RoleKind};

fn cluster() -> Cluster {
    let mut c = Cluster::with_config(5, 8, |config| {
        // S1 is the fastest, then S5; S2, S3 and S4 are slow.
        let min = match config.id {
            1 => 10,
            5 => 15,
            2 => 30,
            _ => 45,
        };
        config.election_timeout_min = min;
        config.election_timeout_max = min + 1;
        // One entry per request, so that an old entry can reach a follower without the
        // new leader's entry right behind it.
        config.max_entries_per_message = 1;
    });
    c.set_replay_hint("cargo test -p raft-fsm --test figure8_scripted");
    c
}

fn wait_leader(c: &mut Cluster, id: NodeId) {
    let led = c.run_until(400, |c| {
        c.node(id).is_some_and(|n| n.role() == RoleKind::Leader)
    });
    assert!(led, "S{id} did not become leader\n{}", c.report());
}

fn term_at(c: &Cluster, id: NodeId, index: u64) -> Option<u64> {
    c.node(id).and_then(|n| n.core().log().term(index))
}

#[test]
fn an_old_term_entry_is_not_committed_by_counting_replicas() {
    let mut c = cluster();

    // (a) S1 leads and commits a first entry on all five; then, with only S2
    // reachable, it replicates x at index `idx` to S2 alone.
    wait_leader(&mut c, 1);
    let (index, _) = c.propose(1, b"first").expect("S1 leads");
    let done = c.run_until(200, |c| c.committed_at(index) == (5, Some(&b"first"[..])));
    assert!(done, "the first entry reached all five\n{}", c.report());
    wait_leader(&mut c, 1);
    c.partition(&[&[1, 2]]);
    let (idx, term_a) = c.propose(1, b"x").expect("S1 leads");
    c.run(3);
    assert_eq!(term_at(&c, 2, idx), Some(term_a), "S2 holds x");

    // (b) S1 crashes; S5 wins with the votes of S3 and S4, but its own entry at `idx`
    // reaches nobody.
    c.crash(1);
    c.partition(&[&[3, 4, 5]]);
    let voted = c.run_until(400, |c| {
        let term = c.node(5).map_or(0, |n| n.core().term());
        c.node(5).is_some_and(|n| n.role() == RoleKind::Candidate)
            && [3, 4].iter().all(|&v| {
                c.node(v)
                    .is_some_and(|n| n.core().term() == term && n.core().vote() == Some(5))
            })
    });
    assert!(voted, "S3 and S4 voted for S5\n{}", c.report());
    c.cut_one_way(5, 3);
    c.cut_one_way(5, 4);
    wait_leader(&mut c, 5);
    let term_b = c.node(5).map_or(0, |n| n.core().term());
    assert_eq!(
        term_at(&c, 5, idx),
        Some(term_b),
        "S5 wrote its own entry at idx"
    );
    c.crash(5);

    // (c) S1 restarts and leads again with S2 and S3. It brings x to S3, one entry per
    // request; the moment S3 holds x, S1's next request to S3 is cut. x is then on a
    // majority (S1, S2, S3) but of an old term: §5.4.2 forbids committing it.
    c.restart(1);
    c.partition(&[&[1, 2, 3]]);
    wait_leader(&mut c, 1);
    let reached = c.run_until(400, |c| term_at(c, 3, idx) == Some(term_a));
    assert!(reached, "S3 received x\n{}", c.report());
    c.cut_one_way(1, 3);
    c.run(5);
    let last_s3 = c.node(3).map_or(0, |n| n.core().log().last_index());
    assert_eq!(last_s3, idx, "S3 holds nothing of S1's new term");
    let commit = c.node(1).map_or(0, |n| n.core().log().commit_index());
    assert!(
        commit < idx,
        "S1 committed x of an old term by counting replicas"
    );

    // (d) S1 crashes; S5 restarts and wins with S3 and S4, whose logs are behind its own,
    // and overwrites x: legal, since x was never committed.
    c.crash(1);
    c.restart(5);
    c.partition(&[&[3, 4, 5]]);
    wait_leader(&mut c, 5);
    c.run(20);
    assert_eq!(term_at(&c, 3, idx), Some(term_b), "x was replaced on S3");
    assert!(c.violation().is_none());
}
