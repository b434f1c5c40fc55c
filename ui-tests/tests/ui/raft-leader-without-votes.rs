// A Raft candidate becomes leader only by handing over a `Quorum`, the proof that a
// majority granted it their votes in the current term (Raft §5.2). A `Quorum` cannot be
// written by hand: its fields are private, and the only way to get one is to count
// votes with `VoteTally::quorum` after `become_candidate`.
use raft_fsm::{Core, Quorum, Role, role};

fn main() {
    let candidate = Role::new(Core::new(1), role::Follower).become_candidate(&[1, 2, 3]);
    let forged = Quorum {
        term: 1,
        voters: vec![1, 2, 3],
        granted: vec![1, 2],
    };
    let _ = candidate.become_leader(forged);
}
