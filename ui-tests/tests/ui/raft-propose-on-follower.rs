// Only a Raft leader appends new entries to the log (Raft §5.3). A follower that took
// a proposal would write entries no leader knows about, so `propose` exists only on the
// Leader role; a follower must redirect the client to the leader it knows.
use raft_fsm::{Core, Role, role};

fn main() {
    let mut follower = Role::new(Core::new(1), role::Follower);
    follower.propose(std::sync::Arc::from(&b"x"[..]));
}
