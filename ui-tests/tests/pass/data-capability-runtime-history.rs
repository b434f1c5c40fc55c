// A machine declared in the case itself, with a state that carries data, a capability,
// a hand-written move through `transition_with` (building the new state from the
// context), the run-time enum (a legal event, and a rejected one that hands the machine
// back unchanged) and a bounded history of the moves.
use fsm_core::{History, Runtime as _, machine};

machine! {
    /// A print job; the context is the number of copies to print.
    pub Print {
        context: u32,
        initial: Queued,
        final: Done,
        states: { Queued, Printing { copies_left: u32 }, Paused, Done },
        edges: {
            Queued + start => Printing,
            Printing + pause => Paused,
            Paused + resume => Queued,
            Printing + finish => Done,
        },
        capabilities: { change_copies: [Queued, Paused] },
    }
}

impl<S: print::PrintState, H> Print<S, H> {
    fn set_copies(&mut self, copies: u32)
    where
        S: print::cap::CanChangeCopies,
    {
        *self.context_mut() = copies;
    }
}

fn main() {
    let mut queued = Print::with_history(1, print::Queued, History::<print::Spec, 4>::new());
    queued.set_copies(3);
    let printing = queued.transition_with(print::event::start, |_, copies| print::Printing {
        copies_left: *copies,
    });
    assert_eq!(printing.state().copies_left, 3);
    let mut paused = printing.pause();
    paused.set_copies(2);

    let runtime: print::Runtime<_> = paused.into();
    let rejected = runtime.fire(print::Event::Finish).unwrap_err();
    assert_eq!(
        rejected.to_string(),
        "`Print` has no `finish` move from state `Paused`; legal from there: `resume`"
    );
    let runtime = rejected.into_machine();
    assert_eq!(runtime.state_id(), print::StateId::Paused);
    assert_eq!(*runtime.context(), 2);

    let runtime = runtime.fire(print::Event::Resume).unwrap();
    let runtime = runtime
        .fire(print::Event::Start(print::Printing { copies_left: 2 }))
        .unwrap();
    let runtime = runtime.fire(print::Event::Finish).unwrap();
    assert_eq!(runtime.state_id(), print::StateId::Done);
    assert!(print::Runtime::<History<print::Spec, 4>>::event_for(print::EventId::Start).is_none());

    let history = runtime.history();
    assert_eq!(history.total(), 5);
    assert_eq!(
        history.to_string(),
        "#1 Printing --pause--> Paused\n\
         #2 Paused --resume--> Queued\n\
         #3 Queued --start--> Printing\n\
         #4 Printing --finish--> Done\n"
    );
}
