//! Five Raft servers through a partition and its healing, printed as it happens.
//!
//! The leader and one follower are cut off from the other three. The majority side
//! elects a new leader and keeps committing; the old leader still believes it leads, but
//! nothing it takes commits. When the network heals, the old leader steps down and its
//! uncommitted entries are replaced by the majority's.
//!
//! ```sh
//! cargo run -p raft-fsm --example partition [seed]
//! ```
//!
//! The workspace demonstration (`cargo run -p demo`) runs the same scenario, seed 7,
//! by including this file as a module and calling [`run`].

use raft_fsm::sim::Cluster;
use raft_fsm::{NodeId, RoleKind};

/// Prints every new leader and every newly committed command until `ticks` pass.
struct Watcher {
    leaders: Vec<(NodeId, u64)>,
    /// Who led at the last tick.
    leading: Vec<NodeId>,
    committed: u64,
}

impl Watcher {
    fn run(&mut self, cluster: &mut Cluster, ticks: u64) {
        for _ in 0..ticks {
            cluster.tick();
            self.report(cluster);
        }
    }

    fn report(&mut self, cluster: &Cluster) {
        for (id, term) in cluster.leaders() {
            if !self.leaders.contains(&(id, term)) {
                println!(
                    "[tick {:>4}] n{id} elected leader of term {term}",
                    cluster.now()
                );
                self.leaders.push((id, term));
            }
        }
        let leading: Vec<NodeId> = cluster.leaders().iter().map(|&(id, _)| id).collect();
        for &id in &self.leading {
            if !leading.contains(&id) {
                let term = cluster.node(id).map_or(0, |n| n.core().term());
                println!(
                    "[tick {:>4}] n{id} steps down: it saw term {term}",
                    cluster.now()
                );
            }
        }
        self.leading = leading;
        // A command counts as committed here once a majority of servers applied it.
        while let (count, Some(data)) = cluster.committed_at(self.committed + 1) {
            if count < 3 {
                break;
            }
            self.committed += 1;
            if !data.is_empty() {
                let text = String::from_utf8_lossy(data);
                println!(
                    "[tick {:>4}] committed #{}: {text}",
                    cluster.now(),
                    self.committed
                );
            }
        }
    }
}

fn propose(cluster: &mut Cluster, watcher: &mut Watcher, text: &str) {
    match cluster.propose_to_leader(text.as_bytes()) {
        Some((leader, index, term)) => {
            println!(
                "[tick {:>4}] n{leader} (term {term}) takes \"{text}\" at #{index}",
                cluster.now()
            );
        }
        None => println!("[tick {:>4}] no leader to take \"{text}\"", cluster.now()),
    }
    watcher.run(cluster, 5);
}

/// Runs the scenario on a cluster seeded with `seed`, printing as it goes.
pub fn run(seed: u64) {
    let mut cluster = Cluster::new(5, seed);
    let mut watcher = Watcher {
        leaders: Vec::new(),
        leading: Vec::new(),
        committed: 0,
    };
    println!("five servers, seed {seed}");
    watcher.run(&mut cluster, 40);
    propose(&mut cluster, &mut watcher, "x = 1");
    propose(&mut cluster, &mut watcher, "y = 2");

    let (old, _) = cluster.leaders()[0];
    let buddy = old % 5 + 1;
    let majority: Vec<NodeId> = cluster
        .ids()
        .filter(|&id| id != old && id != buddy)
        .collect();
    let names: Vec<String> = majority.iter().map(|id| format!("n{id}")).collect();
    println!(
        "--- partition: {{n{old}, n{buddy}}} | {{{}}}",
        names.join(", ")
    );
    cluster.partition(&[&[old, buddy], &majority]);
    if let Ok((index, term)) = cluster.propose(old, b"lost = 1") {
        println!(
            "[tick {:>4}] old leader n{old} (term {term}) takes \"lost = 1\" at #{index}; no majority",
            cluster.now()
        );
    }
    watcher.run(&mut cluster, 60);
    propose(&mut cluster, &mut watcher, "z = 3");
    propose(&mut cluster, &mut watcher, "w = 4");

    println!("--- heal");
    cluster.heal();
    watcher.run(&mut cluster, 40);
    propose(&mut cluster, &mut watcher, "v = 5");
    watcher.run(&mut cluster, 10);

    for id in cluster.ids() {
        let node = cluster.node(id).expect("no crashes in this example");
        let role = match node.role() {
            RoleKind::Leader => "leader",
            RoleKind::Candidate => "candidate",
            RoleKind::Follower => "follower",
        };
        let applied: Vec<String> = cluster
            .applied_commands(id)
            .iter()
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect();
        println!(
            "n{id}: {role} in term {}, applied {applied:?}",
            node.core().term()
        );
    }
    println!("messages: {:?}", cluster.stats());
}

#[allow(dead_code)] // The demonstration includes this file and calls `run` instead.
fn main() {
    let seed = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    run(seed);
}
