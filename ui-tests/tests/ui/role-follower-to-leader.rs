// A Raft follower cannot make itself leader. Only a candidate that has won an election
// may lead, so a follower must first time out and stand as a candidate; skipping the
// election would allow two leaders in one term.
use ui_tests::{Role, role};

fn main() {
    let follower = Role::new(1, role::Follower);
    follower.win_election();
}
