// The `transition` primitive cannot jump from `Open` to `Closed` either: it moves only
// along declared edges, and no `close` edge leaves `Open`.
use breaker_fsm::{Breaker, breaker};
use std::time::Duration;

fn main() {
    let open = Breaker::new((), breaker::Closed).trip(breaker::Open {
        until: Duration::from_secs(30),
        attempt: 1,
    });
    open.transition(breaker::event::close, breaker::Closed);
}
