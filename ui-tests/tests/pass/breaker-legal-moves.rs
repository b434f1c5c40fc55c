// Every legal move of the breaker's typestate API compiles: trip, probe (with a call on a
// probe permit), close, reopen, the manual controls, and a call wherever `call` is granted.
use breaker_fsm::machine::CallKind;
use breaker_fsm::{Breaker, breaker};
use std::time::Duration;

fn open(attempt: u32) -> breaker::Open {
    breaker::Open {
        until: Duration::from_secs(u64::from(attempt) * 30),
        attempt,
    }
}

fn main() {
    let mut closed = Breaker::new((), breaker::Closed);
    assert_eq!(closed.admit(), Some(CallKind::Counted));
    let mut half_open =
        closed
            .trip(open(1))
            .probe(breaker::HalfOpen::after(1, Duration::from_secs(30), 1));
    assert_eq!(half_open.admit(), Some(CallKind::Probe));
    assert_eq!(half_open.admit(), None);
    let mut half_open =
        half_open
            .reopen(open(2))
            .probe(breaker::HalfOpen::after(2, Duration::from_secs(90), 1));
    half_open.admit();
    assert!(half_open.state_mut().record_success());
    let closed = half_open.close();

    let mut disabled = closed.disable();
    assert_eq!(disabled.admit(), Some(CallKind::Unrecorded));
    let mut metrics_only = disabled.force_open().metrics_only();
    assert_eq!(metrics_only.admit(), Some(CallKind::Counted));
    let open = metrics_only.reset().trip(open(1));
    let _ = open.force_open().reset();
}
