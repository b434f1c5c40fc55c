//! The raft-fsm part of the demonstration: the typed roles, a three-server cluster in
//! the seeded simulator that elects a leader, loses it and elects another, then five
//! servers through a partition and its healing (raft-fsm's `partition` example), always
//! printing the same lines.

use raft_fsm::sim::Cluster;
use raft_fsm::{Core, Role, role};

// The example is the scenario's one copy; the demonstration runs it as a module.
#[path = "../../raft-fsm/examples/partition.rs"]
mod partition;

/// Runs this part of the demonstration.
pub fn run() {
    println!("\n== raft: roles are typestates");
    let candidate = Role::new(Core::new(1), role::Follower).become_candidate(&[1]);
    // Role::new(Core::new(1), role::Follower).become_leader(..);
    //     compile error: `Role` has no `win_election` move from state `Follower`
    let quorum = candidate
        .state()
        .tally()
        .quorum()
        .expect("a cluster of one");
    match candidate.become_leader(quorum) {
        Ok(mut leader) => {
            let index = leader.propose(std::sync::Arc::from(&b"x = 1"[..]));
            println!(
                "Follower -> Candidate -> Leader with a quorum of term {}; proposed at #{index}",
                leader.context().term()
            );
        }
        Err(_) => println!("the quorum was of another term"),
    }

    println!("\n== raft: three servers in the seeded simulator");
    let mut cluster = Cluster::new(3, 2024);
    cluster.run(40);
    let Some(&(leader, term)) = cluster.leaders().first() else {
        println!("no leader after 40 ticks");
        return;
    };
    println!("n{leader} leads term {term}");
    if let Ok((index, _)) = cluster.propose(leader, b"x = 1") {
        cluster.run(10);
        println!(
            "\"x = 1\" at #{index} applied on {} servers",
            cluster.committed_at(index).0
        );
    }
    cluster.crash(leader);
    cluster.run(60);
    if let Some(&(next, term)) = cluster.leaders().first() {
        println!("n{leader} crashed; n{next} leads term {term}");
    }
    cluster.restart(leader);
    cluster.run(20);
    println!(
        "n{leader} restarted from storage and applied {:?}",
        cluster
            .applied_commands(leader)
            .iter()
            .map(|c| String::from_utf8_lossy(c))
            .collect::<Vec<_>>()
    );
    println!("trace digest of this run: {:016x}", cluster.trace_hash());

    println!("\n== raft: five servers through a partition and its healing");
    partition::run(7);
}
