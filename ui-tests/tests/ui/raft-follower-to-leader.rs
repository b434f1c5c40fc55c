// A Raft follower cannot take the lead, even holding a genuine proof of a majority (here
// one won by another server). Only a candidate may lead: a follower must first time out
// and stand for election (Raft §5.2), and its own votes are what make it leader.
use raft_fsm::{Core, Role, role};

fn main() {
    let candidate = Role::new(Core::new(1), role::Follower).become_candidate(&[1]);
    let quorum = candidate
        .state()
        .tally()
        .quorum()
        .expect("a cluster of one");
    let follower = Role::new(Core::new(2), role::Follower);
    let _ = follower.become_leader(quorum);
}
