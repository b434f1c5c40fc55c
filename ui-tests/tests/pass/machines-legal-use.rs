// The legal counterpart of the illegal-move cases: every move here is declared, so it
// compiles and runs. The door is opened, locked with a code, knocked on and unlocked; the
// connection shakes hands, sends and closes; a follower wins an election; a payment is
// authorized within its limit and captured.
use ui_tests::{Connection, Door, Payment, Role, connection, door, payment, role};

fn main() {
    let door = Door::new(0, door::Closed).open().close();
    let mut locked = door.lock_with(1234);
    assert_eq!(locked.knock(), 1);
    let locked = locked.unlock_with(1).unwrap_err();
    let mut closed = locked.unlock_with(1234).unwrap();
    assert_eq!(closed.knock(), 2);
    let gone = closed.demolish();
    assert_eq!(gone.state_id(), door::StateId::Gone);
    assert_eq!(gone.into_context(), 2);

    let mut conn = Connection::new(0, connection::Closed).dial(100).syn_ack();
    assert_eq!(conn.send(b"hello"), 5);
    let closed = conn.close().fin_ack();
    let again = closed.connect(connection::SynSent { iss: 200 });
    assert_eq!(again.state().iss, 200);
    assert_eq!(*again.context(), 5);

    let mut candidate = Role::new(1, role::Follower).start_election();
    assert_eq!(*candidate.context(), 2);
    candidate.receive_vote();
    let leader = candidate.try_lead(3).unwrap();
    let follower = leader.discover_higher_term();
    assert_eq!(follower.state_id(), role::StateId::Follower);

    let pending = Payment::new(100, payment::Pending);
    let pending = pending.authorize_amount(1_000).unwrap_err();
    let (captured, amount) = pending.authorize_amount(40).unwrap().settle();
    assert_eq!(
        (captured.state_id(), amount),
        (payment::StateId::Captured, 40)
    );
    let voided = Payment::new(100, payment::Pending).cancel();
    assert_eq!(voided.state_id(), payment::StateId::Voided);
}
