//! Validation: resolves the names of a declaration into a checked model of the machine.
//!
//! Every rule is checked and every violation kept, each on the token at fault, so that the
//! user sees all mistakes at once. What was valid still makes it into the model (an edge to
//! an unknown state is dropped, a duplicate state is kept once), so the expansion still
//! declares every type the user refers to and one mistake does not cascade.

use std::collections::{HashMap, HashSet, VecDeque};

use proc_macro2::{Ident, Span};

use crate::names;
use crate::parse::{Attribute, CapabilityDecl, EdgeDecl, Error, Fields, MachineDecl, StateDecl};

/// Names the expansion itself puts in the machine's module.
const RESERVED_TYPES: &[&str] = &[
    "Spec",
    "Runtime",
    "StateId",
    "EventId",
    "Event",
    "Edge",
    "__Context",
];

/// Methods the expansion puts on the machine type; an event may not take these names.
const RESERVED_METHODS: &[&str] = &[
    "new",
    "with_history",
    "context",
    "context_mut",
    "state",
    "state_mut",
    "history",
    "history_mut",
    "state_id",
    "into_context",
    "into_runtime",
    "transition",
    "transition_with",
    "enter",
];

/// A machine whose names all resolve; indices refer to `states` and `events`.
pub(crate) struct Model<'a> {
    pub decl: &'a MachineDecl,
    pub states: Vec<&'a StateDecl>,
    pub initial: usize,
    pub finals: Vec<bool>,
    pub events: Vec<&'a Ident>,
    pub edges: Vec<Edge<'a>>,
    pub capabilities: Vec<Capability<'a>>,
    /// State names to indices: comparing identifiers converts both to strings, and a
    /// large machine looks names up thousands of times.
    state_index: HashMap<String, usize>,
    /// Per state, the indices of the edges that leave it, in declaration order. Built
    /// once the edges are final, as are the two fields below.
    edges_by_state: Vec<Vec<usize>>,
    /// Per event, the indices of its edges, in declaration order.
    edges_by_event: Vec<Vec<usize>>,
    /// Per event, the state with data it enters, if it enters one.
    data_targets: Vec<Option<usize>>,
    /// States left out for a reason already reported; naming them is not a new error.
    dropped_states: Vec<&'a Ident>,
    /// Whether an edge was left out for an error: reachability is then not checked, since
    /// a misspelled edge would also make its target look unreachable.
    dropped_edge: bool,
}

/// One resolved edge.
pub(crate) struct Edge<'a> {
    pub from: usize,
    pub event: usize,
    pub to: usize,
    pub attrs: &'a [Attribute],
}

/// One resolved capability.
pub(crate) struct Capability<'a> {
    pub decl: &'a CapabilityDecl,
    pub states: Vec<usize>,
}

impl Model<'_> {
    /// Whether the state at `index` carries data.
    pub(crate) fn has_data(&self, index: usize) -> bool {
        !matches!(self.states[index].fields, Fields::Unit)
    }

    /// The edges that leave the state at `index`, in declaration order.
    pub(crate) fn edges_from(&self, index: usize) -> impl Iterator<Item = &Edge<'_>> {
        self.edges_by_state[index]
            .iter()
            .map(|&edge| &self.edges[edge])
    }

    /// The edges of the event at `index`, in declaration order.
    pub(crate) fn edges_on(&self, event: usize) -> impl Iterator<Item = &Edge<'_>> {
        self.edges_by_event[event]
            .iter()
            .map(|&edge| &self.edges[edge])
    }

    /// The state with data that the event at `index` enters (validation makes it the only
    /// state such an event enters), or `None` when it enters unit states only.
    pub(crate) fn data_target(&self, event: usize) -> Option<usize> {
        self.data_targets[event]
    }

    /// Builds the look-ups above, once the edges are final.
    fn index_edges(&mut self) {
        self.edges_by_state = vec![Vec::new(); self.states.len()];
        self.edges_by_event = vec![Vec::new(); self.events.len()];
        for (index, edge) in self.edges.iter().enumerate() {
            self.edges_by_state[edge.from].push(index);
            self.edges_by_event[edge.event].push(index);
        }
        self.data_targets = first_data_targets(self);
    }
}

/// Per event, the first state with data that one of its edges enters.
fn first_data_targets(model: &Model<'_>) -> Vec<Option<usize>> {
    let mut targets = vec![None; model.events.len()];
    for edge in &model.edges {
        if targets[edge.event].is_none() && model.has_data(edge.to) {
            targets[edge.event] = Some(edge.to);
        }
    }
    targets
}

/// Collects errors, in the order they were found.
#[derive(Default)]
pub(crate) struct Errors(Vec<Error>);

impl Errors {
    pub(crate) fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        self.0.push(Error::new(span, message));
    }

    pub(crate) fn push_error(&mut self, error: Error) {
        self.0.push(error);
    }

    pub(crate) fn finish(self) -> Vec<Error> {
        self.0
    }
}

/// Checks `decl` and builds its model, recording every violation in `errors`.
///
/// A state, event or edge that is in error is left out of the model, so that the expansion
/// is valid Rust and the only errors the user sees are the ones reported here.
pub(crate) fn check<'a>(decl: &'a MachineDecl, errors: &mut Errors) -> Model<'a> {
    for error in &decl.item_errors {
        errors.push_error(error.clone());
    }
    let mut model = Model {
        decl,
        initial: 0,
        finals: Vec::new(),
        states: Vec::new(),
        events: Vec::new(),
        edges: Vec::new(),
        capabilities: Vec::new(),
        state_index: HashMap::new(),
        edges_by_state: Vec::new(),
        edges_by_event: Vec::new(),
        data_targets: Vec::new(),
        dropped_states: Vec::new(),
        // A malformed item may have been an edge.
        dropped_edge: !decl.item_errors.is_empty(),
    };
    check_states(&mut model, errors);
    model.finals = vec![false; model.states.len()];

    let initial_known = check_initial(&mut model, errors);
    check_finals(&mut model, errors);
    check_edges(&mut model, errors);
    check_events(&mut model, errors);
    check_data_events(&mut model, errors);
    check_capabilities(&mut model, errors);
    model.index_edges();
    if initial_known && !model.dropped_edge {
        check_reachable(&model, errors);
    }
    model
}

fn check_states<'a>(model: &mut Model<'a>, errors: &mut Errors) {
    let decl: &'a MachineDecl = model.decl;
    if decl.states.is_empty() && decl.item_errors.is_empty() {
        errors.push(decl.name.span(), "a machine needs at least one state");
    }
    for state in &decl.states {
        let name = state.name.to_string();
        if model.state_index.contains_key(&name) {
            errors.push(state.name.span(), format!("duplicate state `{name}`"));
            continue;
        }
        if RESERVED_TYPES.contains(&name.as_str()) || state.name == decl.name {
            errors.push(
                state.name.span(),
                format!("`{name}` is a name the machine's module already uses; rename the state"),
            );
            model.dropped_states.push(&state.name);
            continue;
        }
        model.state_index.insert(name, model.states.len());
        model.states.push(state);
    }
}

fn find_state(model: &Model<'_>, name: &Ident, errors: &mut Errors) -> Option<usize> {
    let wanted = name.to_string();
    let found = model.state_index.get(&wanted).copied();
    // With no valid state at all, the missing or broken `states` block is the error.
    let reported = model.states.is_empty() || model.dropped_states.contains(&name);
    if found.is_none() && !reported {
        let known: Vec<String> = model
            .states
            .iter()
            .map(|s| format!("`{}`", s.name))
            .collect();
        errors.push(
            name.span(),
            format!(
                "unknown state `{name}`; the states are {}",
                known.join(", ")
            ),
        );
    }
    found
}

fn check_initial(model: &mut Model<'_>, errors: &mut Errors) -> bool {
    let Some(initial) = &model.decl.initial else {
        errors.push(
            model.decl.name.span(),
            format!(
                "machine `{}` has no initial state; add `initial: State,`",
                model.decl.name
            ),
        );
        return false;
    };
    match find_state(model, initial, errors) {
        Some(index) => {
            model.initial = index;
            true
        }
        None => false,
    }
}

fn check_finals(model: &mut Model<'_>, errors: &mut Errors) {
    for name in &model.decl.finals {
        if let Some(index) = find_state(model, name, errors) {
            model.finals[index] = true;
        }
    }
}

fn check_edges<'a>(model: &mut Model<'a>, errors: &mut Errors) {
    let decl: &'a MachineDecl = model.decl;
    let mut event_names = HashMap::new();
    // `(from, event)` to the edge declared for it, to find a second one.
    let mut declared = HashMap::new();
    for edge in &decl.edges {
        let to = find_state(model, &edge.to, errors);
        for from_name in &edge.from {
            let from = find_state(model, from_name, errors);
            let (Some(from), Some(to)) = (from, to) else {
                model.dropped_edge = true;
                continue;
            };
            if model.finals[from] {
                errors.push(
                    from_name.span(),
                    format!("`{from_name}` is a final state: no edge may leave it"),
                );
                model.dropped_edge = true;
                continue;
            }
            let event = event_index(model, &mut event_names, &edge.event);
            if let Some(&earlier) = declared.get(&(from, event)) {
                report_duplicate_edge(model, edge, from, &model.edges[earlier], to, errors);
                continue;
            }
            declared.insert((from, event), model.edges.len());
            model.edges.push(Edge {
                from,
                event,
                to,
                attrs: &edge.attrs,
            });
        }
    }
}

/// The index of `event`, adding it on first sight; `names` maps the names seen so far.
fn event_index<'a>(
    model: &mut Model<'a>,
    names: &mut HashMap<String, usize>,
    event: &'a Ident,
) -> usize {
    let name = event.to_string();
    let next = model.events.len();
    let index = *names.entry(name).or_insert(next);
    if index == next {
        model.events.push(event);
    }
    index
}

/// Reports `edge` from `from`, whose event already has the edge `earlier` from there.
fn report_duplicate_edge(
    model: &Model<'_>,
    edge: &EdgeDecl,
    from: usize,
    earlier: &Edge<'_>,
    to: usize,
    errors: &mut Errors,
) {
    let from_name = &model.states[from].name;
    let event_name = &edge.event;
    let message = if earlier.to == to {
        format!("duplicate edge `{from_name} + {event_name} => {}`", edge.to)
    } else {
        format!(
            "`{from_name} + {event_name}` already leads to `{}`; one event from one state \
             must lead to one state",
            model.states[earlier.to].name
        )
    };
    errors.push(event_name.span(), message);
}

/// Event names must not clash with generated methods or with each other's variants; an
/// event that does is left out, with its edges.
fn check_events(model: &mut Model<'_>, errors: &mut Errors) {
    let mut variants = HashSet::new();
    let mut keep = Vec::with_capacity(model.events.len());
    for event in &model.events {
        let name = names::unraw(event);
        let variant = names::upper_camel(&name);
        if RESERVED_METHODS.contains(&name.as_str()) {
            errors.push(
                event.span(),
                format!("event `{name}` would clash with the generated method `{name}`"),
            );
            keep.push(false);
        } else if variants.contains(&variant) {
            errors.push(
                event.span(),
                format!(
                    "event `{name}` gives the variant `Event::{variant}`, as another event does"
                ),
            );
            keep.push(false);
        } else {
            variants.insert(variant);
            keep.push(true);
        }
    }
    retain_events(model, &keep);
}

/// Keeps the events marked `true`, renumbering the edges and dropping those of the others.
fn retain_events(model: &mut Model<'_>, keep: &[bool]) {
    if keep.iter().all(|&k| k) {
        return;
    }
    let mut renumber = Vec::with_capacity(keep.len());
    let mut next = 0;
    for &kept in keep {
        renumber.push(kept.then_some(next));
        next += usize::from(kept);
    }
    let mut marks = keep.iter();
    model
        .events
        .retain(|_| marks.next().copied().unwrap_or(false));
    let before = model.edges.len();
    model.edges.retain_mut(|edge| match renumber[edge.event] {
        Some(new) => {
            edge.event = new;
            true
        }
        None => false,
    });
    model.dropped_edge |= model.edges.len() != before;
}

/// An event that enters a state with data must always enter that same state, so that its
/// run-time form can carry exactly that state's data. Its other edges are left out.
fn check_data_events(model: &mut Model<'_>, errors: &mut Errors) {
    let targets = first_data_targets(model);
    // Per event, the first state other than its data target that it enters.
    let mut other_target = vec![None; model.events.len()];
    for edge in &model.edges {
        let event = edge.event;
        if targets[event].is_some_and(|target| edge.to != target) {
            other_target[event].get_or_insert(edge.to);
        }
    }
    for (event, other) in other_target.into_iter().enumerate() {
        let (Some(data_target), Some(other)) = (targets[event], other) else {
            continue;
        };
        let name = model.events[event];
        errors.push(
            name.span(),
            format!(
                "event `{name}` enters `{}`, which carries data, and also `{}`; an event that \
                 enters a state with data must always enter that state",
                model.states[data_target].name, model.states[other].name
            ),
        );
    }
    let before = model.edges.len();
    model
        .edges
        .retain(|edge| targets[edge.event].is_none_or(|target| edge.to == target));
    model.dropped_edge |= model.edges.len() != before;
}

fn check_capabilities<'a>(model: &mut Model<'a>, errors: &mut Errors) {
    let decl: &'a MachineDecl = model.decl;
    let mut seen: Vec<String> = Vec::new();
    for capability in &decl.capabilities {
        let trait_name = names::upper_camel(&names::unraw(&capability.name));
        if seen.contains(&trait_name) {
            errors.push(
                capability.name.span(),
                format!("duplicate capability `{}`", capability.name),
            );
            continue;
        }
        seen.push(trait_name);
        let mut states = Vec::new();
        for name in &capability.states {
            if let Some(index) = find_state(model, name, errors) {
                if states.contains(&index) {
                    errors.push(name.span(), format!("`{name}` is listed twice"));
                } else {
                    states.push(index);
                }
            }
        }
        model.capabilities.push(Capability {
            decl: capability,
            states,
        });
    }
}

/// Every state must be reachable from the initial state along declared edges.
fn check_reachable(model: &Model<'_>, errors: &mut Errors) {
    let mut reached = vec![false; model.states.len()];
    let mut queue = VecDeque::from([model.initial]);
    reached[model.initial] = true;
    while let Some(state) = queue.pop_front() {
        for edge in model.edges_from(state) {
            if !reached[edge.to] {
                reached[edge.to] = true;
                queue.push_back(edge.to);
            }
        }
    }

    let initial = &model.states[model.initial].name;
    for (state, reached) in model.states.iter().zip(reached) {
        if !reached {
            errors.push(
                state.name.span(),
                format!(
                    "state `{}` is unreachable from the initial state `{initial}`",
                    state.name
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(source: &str) -> Vec<String> {
        let tokens: proc_macro2::TokenStream = source.parse().expect("the declaration lexes");
        let Ok(decl) = crate::parse::parse(tokens) else {
            panic!("the declaration parses");
        };
        let mut errors = Errors::default();
        let _ = check(&decl, &mut errors);
        errors.finish().iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_valid_machine_has_no_errors() {
        let errors = errors_of(
            "pub Door { initial: Closed, final: Gone, states: { Open, Closed, Gone },
              edges: { Closed + open => Open, Open + close => Closed, Open | Closed + burn => Gone } }",
        );
        assert_eq!(errors, Vec::<String>::new());
    }

    #[test]
    fn every_violation_is_reported_together() {
        let errors = errors_of(
            "Door { states: { Open, Open, Closed, Island },
              edges: { Closed + open => Open, Closed + open => Closed, Open + close => Nowhere } }",
        );
        assert_eq!(errors.len(), 4, "{errors:#?}");
        assert!(errors[0].contains("duplicate state `Open`"));
        assert!(errors[1].contains("has no initial state"));
        assert!(errors[2].contains("`Closed + open` already leads to `Open`"));
        assert!(errors[3].contains("unknown state `Nowhere`"));
    }

    #[test]
    fn unreachable_states_are_named() {
        let errors = errors_of(
            "M { initial: A, states: { A, B, C, D }, edges: { A + go => B, C + go => D } }",
        );
        assert_eq!(errors.len(), 2);
        assert!(errors[0].contains("state `C` is unreachable from the initial state `A`"));
        assert!(errors[1].contains("state `D` is unreachable"));
    }

    #[test]
    fn no_edge_may_leave_a_final_state() {
        let errors = errors_of(
            "M { initial: A, final: B, states: { A, B }, edges: { A + go => B, B + back => A } }",
        );
        assert_eq!(errors, ["`B` is a final state: no edge may leave it"]);
    }

    #[test]
    fn a_data_event_must_always_enter_the_same_state() {
        let errors = errors_of(
            "M { initial: A, states: { A, B { n: u8 }, C }, edges: { A + go => B, B + go => C } }",
        );
        assert_eq!(errors.len(), 1);
        assert!(errors[0].contains("event `go` enters `B`, which carries data, and also `C`"));
    }

    #[test]
    fn generated_names_cannot_be_reused() {
        let errors =
            errors_of("M { initial: Spec, states: { Spec, M, A, B }, edges: { A + new => B } }");
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[0].contains("`Spec` is a name the machine's module already uses"));
        assert!(errors[1].contains("`M` is a name the machine's module already uses"));
        assert!(errors[2].contains("event `new` would clash with the generated method `new`"));
    }

    #[test]
    fn capabilities_name_known_states_once() {
        let errors = errors_of(
            "M { initial: A, states: { A }, edges: {}, capabilities: { x: [A, A, Z], x: [A] } }",
        );
        assert_eq!(errors.len(), 3, "{errors:#?}");
        assert!(errors[0].contains("`A` is listed twice"));
        assert!(errors[1].contains("unknown state `Z`"));
        assert!(errors[2].contains("duplicate capability `x`"));
    }
}
