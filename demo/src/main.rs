//! The demonstration that the README's first command runs.
//!
//! It declares a small machine, drives it through its typed moves, feeds it events that
//! arrive at run time (one of them illegal, and handed back), prints the breadcrumbs it
//! left and its diagram, and finishes with a seeded random walk. The protocol crates add
//! their own parts here as they land.

mod breaker;
mod raft;
mod tcp;

use fsm_core::walk::RandomWalk;
use fsm_core::{History, Machine, machine};

machine! {
    /// A connection in the style of TCP: it cannot send before the handshake, cannot skip
    /// `SynSent`, and must pass `Closed` before it opens again.
    pub Connection {
        context: Counters,
        initial: Closed,
        states: { Closed, SynSent, Established, FinWait },
        edges: {
            Closed + connect => SynSent,
            SynSent + syn_ack => Established,
            SynSent + timeout => Closed,
            Established + close => FinWait,
            FinWait + ack => Closed,
        },
        capabilities: {
            send: [Established],
        },
    }
}

/// What the connection counts across states.
#[derive(Debug, Default)]
pub struct Counters {
    sent: usize,
}

impl<S: connection::ConnectionState, H> Connection<S, H> {
    /// Sending exists only where the declaration grants `send`.
    fn send(&mut self, bytes: &[u8])
    where
        S: connection::cap::CanSend,
    {
        self.context_mut().sent += bytes.len();
    }
}

type Crumbs = History<connection::Spec, 16>;

fn main() {
    println!("== typed moves: each one consumes the connection and returns the next state");
    let closed = Connection::with_history(Counters::default(), connection::Closed, Crumbs::new());
    let mut open = closed.connect().syn_ack();
    open.send(b"hello, world");
    // open.connect();  // compile error: `Connection` has no `connect` move from state `Established`
    let closed = open.close().ack();
    println!(
        "sent {} bytes, back in {}",
        closed.context().sent,
        closed.state_id()
    );

    println!("\n== run-time events: an illegal one is refused and nothing is lost");
    let mut machine: connection::Runtime<Crumbs> = closed.into();
    for event in [
        connection::Event::Connect,
        connection::Event::Close,
        connection::Event::SynAck,
    ] {
        machine = match machine.fire(event) {
            Ok(next) => next,
            Err(refused) => {
                println!("refused: {refused}");
                refused.into_machine()
            }
        };
    }
    println!("now in {}", machine.state_id());

    println!("\n== breadcrumbs");
    print!("{}", machine.history());

    println!("\n== diagram (Mermaid)");
    print!("{}", connection::Spec::TABLE.mermaid());

    println!("\n== a seeded random walk of 10,000 legal events");
    let walked = RandomWalk::seeded(2026).run(machine, 10_000);
    match walked {
        Ok(end) => println!(
            "ended in {} after {} moves; the last ones:\n{}",
            end.state_id(),
            end.history().total(),
            end.history()
        ),
        Err(refused) => println!("the table and the run-time enum disagree: {refused}"),
    }

    breaker::run();
    raft::run();
    tcp::run();
}
