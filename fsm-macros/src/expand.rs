//! Code generation: the checked model of a machine into its module of types and impls.
//!
//! Everything generated names `fsm_core` paths (or `core`) only, so a user depends on
//! `fsm-core` alone. The layout of the output is described in fsm-core's crate docs.
//!
//! The expansion is kept small on purpose: its size is what a user's every `cargo check`
//! pays for. What is the same for every state or edge lives in fsm-core (`__private`) or
//! in one generic impl, and what must be written per state or per edge is written once:
//! one impl per edge, one match arm per edge in `fire`, one triple in the table.
//!
//! Three ways of writing code meet here. Items that carry the user's tokens or whose spans
//! matter to error messages are built as tokens: the few written once per machine or per
//! state (the state types, the machine type, the capabilities) with `quote!`, and the
//! ones written per edge or per event (the edge impls, the move methods) by copying a
//! lexed `Template`, which is much cheaper than `quote!` at the unoptimised level a
//! proc-macro usually runs at. Everything else is written as Rust source into a `String`
//! and lexed once: building a token stream token by token costs a call into the compiler
//! per token, and `quote!` is heavy to compile, so the text is both the faster macro and
//! the faster macro to build.

use std::fmt::Write as _;

use proc_macro2::{Ident, Literal, Span, TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};

use crate::model::Model;
use crate::names;
use crate::parse::{Attribute, Error, Fields, Visibility};
use crate::template::Template;

/// Appends formatted Rust source to a `String`; writing to a `String` cannot fail.
macro_rules! emit {
    ($out:expr, $($fmt:tt)*) => {{
        let _ = write!($out, $($fmt)*);
    }};
}

/// Turns written Rust source into tokens, or `None` if it does not lex.
pub(crate) type Lex = fn(&str) -> Option<TokenStream>;

/// Generated names shared by the functions below, as identifiers for `quote!` and as
/// text for the written source.
struct Names {
    machine: Ident,
    module: Ident,
    state_trait: Ident,
    /// Visibility of generated items, as seen from inside the module.
    item_vis: TokenStream,
    /// Visibility of the moves, as seen from inside the module.
    move_vis: TokenStream,
    context: TokenStream,
    /// `item_vis` as text.
    vis: String,
    /// The same visibility for items one module further in (`event`, `cap`).
    inner_vis: TokenStream,
    /// Per event, its variant in `EventId` and `Event` (`switch_on` as `SwitchOn`).
    variants: Vec<Ident>,
}

/// The representation of `EventId`, and of `Event` where it is an enum of its own.
///
/// A 16-bit tag gives an event more spare bit patterns than the run-time enum's 8-bit tag,
/// so `Result<Runtime, Rejected<Runtime>>` keeps its discriminant in the event and the
/// machine at the same offset in `Ok` and `Err`: handing a refused machine back is then
/// free, and dispatch compiles to the same jump table as a hand-written `match` (see
/// docs/performance.md). With an 8-bit tag the discriminant moved into the machine, and
/// every event paid for a select.
const EVENT_REPR: &str = "#[repr(u16)]";

/// The whole expansion of `model`. `lex` turns the written source into tokens: the
/// compiler's lexer in the macro, `proc_macro2`'s in unit tests.
pub(crate) fn expand(model: &Model<'_>, lex: Lex) -> TokenStream {
    let decl = model.decl;
    let machine = decl.name.clone();
    let item_vis = nested_vis(&decl.vis);
    let names = Names {
        module: format_ident!(
            "{}",
            names::snake(&names::unraw(&machine)),
            span = machine.span()
        ),
        state_trait: format_ident!("{}State", machine),
        vis: item_vis.to_string(),
        inner_vis: vis_at_depth(&decl.vis, 2),
        item_vis,
        move_vis: nested_vis(decl.transitions.as_ref().unwrap_or(&decl.vis)),
        context: match &decl.context {
            Some(ty) => quote!(#ty),
            None => quote!(()),
        },
        variants: model
            .events
            .iter()
            .map(|event| event_variant(event))
            .collect(),
        machine,
    };

    let mut source = String::new();
    sealed_module(model, &names, &mut source);
    state_impls(model, &names, &mut source);
    events(model, &names, &mut source);
    edge_trait(&names, &mut source);
    runtime(model, &names, &mut source);
    identifiers(model, &names, &mut source);
    run_time_event(model, &names, &mut source);
    spec(model, &names, &mut source);
    let written = lex(&source).unwrap_or_else(unlexable);
    let built = [
        state_types(model, &names),
        edge_impls(model, lex),
        machine_type(model, &names),
        event_methods(model, &names, lex),
        capabilities(model, &names),
        serde_impls(model, &names),
    ];

    let vis = &decl.vis;
    let Names {
        machine,
        module,
        context,
        ..
    } = &names;
    let module_doc = format!("States, events and run-time types of the [`{machine}`] machine.");
    quote! {
        #vis use #module::#machine;

        #[doc = #module_doc]
        #[allow(non_camel_case_types, unreachable_pub, clippy::all, clippy::pedantic)]
        #vis mod #module {
            #[allow(unused_imports)]
            use super::*;

            /// The context type as declared, named once for the written code.
            type __Context = #context;

            #written
            #(#built)*
        }
    }
}

/// A Rust string literal for `text`.
fn lit(text: &str) -> String {
    format!("{text:?}")
}

/// The module that seals the state and event traits.
fn sealed_module(model: &Model<'_>, names: &Names, out: &mut String) {
    let Names {
        machine, module, ..
    } = names;
    let message = lit(&format!("`{{Self}}` is not an event of `{machine}`"));
    let label = lit(&format!("not one of `{module}::event`"));
    let events: Vec<String> = model
        .events
        .iter()
        .map(|event| format!("`{}`", names::unraw(event)))
        .collect();
    let note = lit(&format!(
        "the events of `{machine}` are the types in `{module}::event`: {}",
        events.join(", ")
    ));
    emit!(
        out,
        "mod sealed {{
            /// Passed to a hidden method of the state trait: a crate that cannot name it
            /// cannot implement the trait, so no other crate can add a state.
            pub struct Token;

            /// Implemented for this machine's event types only: as the bound on `Edge`'s
            /// event, it keeps other crates from adding edges.
            #[diagnostic::on_unimplemented(message = {message}, label = {label}, note = {note})]
            pub trait EventType {{
                /// The event's identifier, for the history.
                const ID: super::EventId;
            }}
        }}"
    );
}

/// The state types themselves, with the user's attributes, names and fields.
fn state_types(model: &Model<'_>, names: &Names) -> TokenStream {
    let item_vis = &names.item_vis;
    let mut out = TokenStream::new();
    for (index, state) in model.states.iter().enumerate() {
        let name = &state.name;
        let attrs = &state.attrs;
        let doc = state_doc(model, index);
        // No derives: a marker has no behaviour to print or compare, and every derive is
        // an impl per state that each `cargo check` pays for. A user who wants them writes
        // them on the state, and they are passed through with the other attributes.
        out.extend(match &state.fields {
            Fields::Unit => quote! {
                #[doc = #doc]
                #(#attrs)*
                #item_vis struct #name;
            },
            fields => {
                let semi = matches!(fields, Fields::Unnamed(_)).then(|| quote!(;));
                let fields = public_fields(fields);
                quote! {
                    #[doc = #doc]
                    #(#attrs)*
                    #[allow(missing_debug_implementations)]
                    #item_vis struct #name #fields #semi
                }
            }
        });
    }
    out
}

/// The state trait, its impl for every state, and the layout check.
fn state_impls(model: &Model<'_>, names: &Names, out: &mut String) {
    let Names {
        machine,
        state_trait,
        vis,
        ..
    } = names;
    for (index, state) in model.states.iter().enumerate() {
        let name = &state.name;
        let mut moves = String::new();
        for edge in model.edges_from(index) {
            emit!(moves, "event::{}, ", model.events[edge.event]);
        }
        if !model.has_data(index) {
            emit!(
                out,
                "impl ::fsm_core::UnitState for {name} {{ const VALUE: Self = {name}; }}\n"
            );
        }
        emit!(
            out,
            "impl {state_trait} for {name} {{
                const ID: StateId = StateId::{name};
                type Moves = ({moves});
                #[inline(always)]
                fn __into_runtime<H>(machine: {machine}<Self, H>, _: sealed::Token) -> Runtime<H> {{
                    Runtime::{name}(machine)
                }}
            }}\n"
        );
    }

    // What the framework promises about size, checked in one assertion: a unit state is
    // zero-sized and adds nothing to the machine, a state with data adds exactly its data.
    // The unit states are checked together, as one tuple: the tuple is zero-sized exactly
    // when each of them is, and a zero-sized field can only add its alignment, which the
    // tuple has the largest of. One check instead of one per state matters to a large
    // machine's `cargo check`, which evaluates every one.
    let mut units = String::new();
    let mut checks = String::new();
    for (index, state) in model.states.iter().enumerate() {
        let name = &state.name;
        if model.has_data(index) {
            emit!(
                checks,
                "__p::data_layout::<{machine}<{name}>, __Context, {name}>(), "
            );
        } else {
            emit!(units, "{name}, ");
        }
    }
    emit!(
        checks,
        "__p::unit_layout::<{machine}<({units})>, __Context, ({units})>()"
    );
    emit!(
        out,
        "const _: () = {{
            use ::fsm_core::__private as __p;
            __p::static_assertions::const_assert!(__p::all(&[{checks}]));
        }};\n"
    );

    let doc = lit(&format!(
        "A state of [`{machine}`]. Sealed: only the declared states have it."
    ));
    let message = lit(&format!("`{{Self}}` is not a state of `{machine}`"));
    let states: Vec<String> = model
        .states
        .iter()
        .map(|s| format!("`{}`", s.name))
        .collect();
    let note = lit(&format!(
        "the states of `{machine}` are {}",
        states.join(", ")
    ));
    emit!(
        out,
        "#[doc = {doc}]
        #[diagnostic::on_unimplemented(message = {message}, note = {note})]
        {vis} trait {state_trait}: ::core::marker::Sized {{
            /// This state's identifier.
            const ID: StateId;

            /// The events legal in this state, as a tuple of event types. Compile errors
            /// for an illegal move print it as the list of legal moves.
            type Moves;

            #[doc(hidden)]
            fn __into_runtime<H>(machine: {machine}<Self, H>, _: sealed::Token) -> Runtime<H>;
        }}\n"
    );
}

/// The event types, each with its identifier, and the two that never occur.
fn events(model: &Model<'_>, names: &Names, out: &mut String) {
    let Names {
        machine,
        vis,
        inner_vis,
        ..
    } = names;
    let doc = lit(&format!(
        "The events of [`{machine}`](super::{machine}) as zero-sized types, one per event \
         name in the declaration: `event::open` names the `open` edges at compile time."
    ));
    emit!(
        out,
        "#[doc = {doc}]
        #[allow(missing_docs, missing_debug_implementations)]
        {vis} mod event {{\n"
    );
    let inner_vis = inner_vis.to_string();
    for event in &model.events {
        emit!(out, "{inner_vis} struct {event};\n");
    }
    emit!(out, "}}\n");
    for (event, variant) in model.events.iter().zip(&names.variants) {
        emit!(
            out,
            "impl sealed::EventType for event::{event} {{ const ID: EventId = EventId::{variant}; }}\n"
        );
    }
    emit!(
        out,
        "/// Never inhabited: two extra edge impls on every state keep the compiler from
        /// guessing the event from a state's only edge, so an illegal move is reported as
        /// such instead of as a type mismatch.
        #[doc(hidden)]
        {vis} enum __NoEvent {{}}
        #[doc(hidden)]
        {vis} enum __NoEvent2 {{}}

        impl sealed::EventType for __NoEvent {{
            const ID: EventId = ::core::panic!(\"`__NoEvent` is uninhabited\");
        }}

        impl sealed::EventType for __NoEvent2 {{
            const ID: EventId = ::core::panic!(\"`__NoEvent2` is uninhabited\");
        }}\n"
    );
}

fn event_variant(event: &Ident) -> Ident {
    names::ident(&names::upper_camel(&names::unraw(event)), event.span())
}

/// The edge trait and its two never-used blanket impls; the declared edges' impls are
/// built by `edge_impls`.
fn edge_trait(names: &Names, out: &mut String) {
    let Names {
        machine,
        state_trait,
        vis,
        ..
    } = names;
    let message = lit(&format!(
        "`{machine}` has no `{{E}}` move from state `{{Self}}`"
    ));
    let label = lit("no `{E}` edge leaves `{Self}`");
    let note = lit("legal moves from `{Self}`: {Moves}");
    let doc = lit(&format!(
        "The edges of [`{machine}`]: `S: Edge<E, <S as {state_trait}>::Moves, To = T>` holds \
         exactly when the declaration has the edge `S + e => T`."
    ));
    emit!(
        out,
        "#[doc = {doc}]
        #[diagnostic::on_unimplemented(message = {message}, label = {label}, note = {note})]
        {vis} trait Edge<E: sealed::EventType, Moves>: {state_trait} {{
            /// The state the edge enters.
            type To: {state_trait};
        }}

        // Never used: no value of `__NoEvent` exists, so no move can name these edges.
        // Two blanket impls rather than one concrete impl per state: a blanket impl is
        // not listed among \"the following other types implement trait\" in an illegal
        // move's error, so the error shows only the declared edges.
        impl<S: {state_trait}> Edge<__NoEvent, S::Moves> for S {{
            type To = S;
        }}

        impl<S: {state_trait}> Edge<__NoEvent2, S::Moves> for S {{
            type To = S;
        }}\n"
    );
}

/// One impl of the edge trait per declared edge.
fn edge_impls(model: &Model<'_>, lex: Lex) -> TokenStream {
    let Some(tokens) = lex("impl Edge<event::EVENT, (MOVES)> for FROM { type To = TO; }") else {
        return unlexable();
    };
    let template = Template::new(tokens, &["EVENT", "MOVES", "FROM", "TO"]);

    // The legal moves are written out rather than named as `<From as ..>::Moves`: error
    // messages list the impls as written, and a list of events reads better.
    let moves: Vec<Vec<TokenTree>> = (0..model.states.len())
        .map(|state| {
            let events = model.edges_from(state).map(|edge| model.events[edge.event]);
            quote!(#(event::#events,)*).into_iter().collect()
        })
        .collect();

    let mut out = Vec::new();
    for edge in &model.edges {
        let event = model.events[edge.event];
        let from = ident_tree(&model.states[edge.from].name);
        let to = ident_tree(&model.states[edge.to].name);
        // Spanned at the declared edge, so that "but `Edge<unlock, ..>` is implemented"
        // in an illegal move's error points at the line that declares that edge.
        let fills: [&[TokenTree]; 4] = [&[ident_tree(event)], &moves[edge.from], &[from], &[to]];
        template.stamp(event.span(), &fills, &mut out);
    }
    out.into_iter().collect()
}

/// `ident` as a token tree, keeping its span.
fn ident_tree(ident: &Ident) -> TokenTree {
    TokenTree::Ident(ident.clone())
}

/// The error emitted in place of written source that does not lex: a bug in this crate.
fn unlexable() -> TokenStream {
    let message = "fsm-macros wrote code that does not lex; please report this";
    Error::new(Span::call_site(), message).to_compile_error()
}

/// A visibility written at the call site, re-expressed for an item one module deeper.
fn nested_vis(vis: &Visibility) -> TokenStream {
    vis_at_depth(vis, 1)
}

/// A visibility written at the call site, re-expressed for an item `depth` modules deeper:
/// the machine's module is one deep, its `event` and `cap` modules two.
fn vis_at_depth(vis: &Visibility, depth: usize) -> TokenStream {
    let supers = || std::iter::repeat_n(quote!(super), depth);
    match vis {
        Visibility::Public(token) => quote!(#token),
        Visibility::Inherited => {
            let supers = supers();
            quote!(pub(in #(#supers)::*))
        }
        Visibility::Restricted { path, .. } => {
            let supers = supers();
            let rest = path.iter().skip(1);
            match path[0].to_string().as_str() {
                "self" => quote!(pub(in #(#supers)::* #(::#rest)*)),
                "super" => quote!(pub(in #(#supers::)* #(#path)::*)),
                _ => quote!(pub(in #(#path)::*)),
            }
        }
    }
}

/// Fields of a state with data, as tokens: a field without a visibility becomes `pub`,
/// since a private field of the generated module would be out of reach of the declaring
/// module.
fn public_fields(fields: &Fields) -> TokenStream {
    let (Fields::Named(list) | Fields::Unnamed(list)) = fields else {
        return TokenStream::new();
    };
    let each = list.iter().map(|field| {
        let attrs = &field.attrs;
        let vis = match &field.vis {
            Visibility::Inherited => quote!(pub),
            other => nested_vis(other),
        };
        let ty = &field.ty;
        match &field.ident {
            Some(ident) => quote!(#(#attrs)* #vis #ident: #ty),
            None => quote!(#(#attrs)* #vis #ty),
        }
    });
    match fields {
        Fields::Named(_) => quote!({ #(#each),* }),
        _ => quote!(( #(#each),* )),
    }
}

fn state_doc(model: &Model<'_>, index: usize) -> String {
    let mut doc = format!(
        "State `{}` of [`{}`].",
        model.states[index].name, model.decl.name
    );
    if index == model.initial {
        doc.push_str(" The initial state.");
    }
    if model.finals[index] {
        doc.push_str(" A final state.");
    }
    let moves: Vec<String> = model
        .edges_from(index)
        .map(|edge| {
            format!(
                "`{}` → `{}`",
                model.events[edge.event], model.states[edge.to].name
            )
        })
        .collect();
    if !moves.is_empty() {
        doc.push_str(&format!("\n\nMoves: {}.", moves.join(", ")));
    }
    doc
}

/// The Mermaid diagram, in exactly the format of `fsm_core::Table::mermaid`.
fn mermaid(model: &Model<'_>) -> String {
    let mut out = String::from("stateDiagram-v2\n");
    out.push_str(&format!(
        "    [*] --> {}\n",
        model.states[model.initial].name
    ));
    for edge in &model.edges {
        out.push_str(&format!(
            "    {} --> {}: {}\n",
            model.states[edge.from].name,
            model.states[edge.to].name,
            names::unraw(model.events[edge.event])
        ));
    }
    for (index, state) in model.states.iter().enumerate() {
        if model.finals[index] {
            out.push_str(&format!("    {} --> [*]\n", state.name));
        }
    }
    out
}

fn machine_doc(model: &Model<'_>) -> String {
    let mut doc = format!(
        "\n\nInitial state: `{}`.\n\n# Diagram\n\n```mermaid\n",
        model.states[model.initial].name
    );
    doc.push_str(&mermaid(model));
    doc.push_str("```\n");
    doc
}

fn machine_type(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine,
        state_trait,
        item_vis,
        move_vis,
        context,
        ..
    } = names;
    let initial = &model.states[model.initial].name;
    let attrs = &model.decl.attrs;
    let doc = machine_doc(model);
    let machine_name = names::unraw(machine);
    quote! {
        #(#attrs)*
        #[doc = #doc]
        #item_vis struct #machine<S = #initial, H = ::fsm_core::NoHistory> {
            context: #context,
            state: S,
            history: H,
        }

        impl #machine<#initial, ::fsm_core::NoHistory> {
            /// The machine in its initial state, keeping no history.
            #[inline(always)]
            #item_vis fn new(context: #context, state: #initial) -> Self {
                #machine { context, state, history: ::fsm_core::NoHistory }
            }
        }

        impl<H: ::fsm_core::Recorder<Spec>> #machine<#initial, H> {
            /// The machine in its initial state, telling `history` of every move.
            #[inline(always)]
            #item_vis fn with_history(context: #context, state: #initial, history: H) -> Self {
                #machine { context, state, history }
            }
        }

        impl<S: #state_trait, H> #machine<S, H> {
            /// The context, which travels through every state.
            #[inline(always)]
            #item_vis fn context(&self) -> &#context {
                &self.context
            }

            /// The context, mutably.
            #[inline(always)]
            #item_vis fn context_mut(&mut self) -> &mut #context {
                &mut self.context
            }

            /// The current state's value (its data, for a state that has some).
            #[inline(always)]
            #item_vis fn state(&self) -> &S {
                &self.state
            }

            /// The current state's data, mutably. This changes the data, never the state.
            #[inline(always)]
            #item_vis fn state_mut(&mut self) -> &mut S {
                &mut self.state
            }

            /// The history recorder.
            #[inline(always)]
            #item_vis fn history(&self) -> &H {
                &self.history
            }

            /// The history recorder, mutably (to clear it, say).
            #[inline(always)]
            #item_vis fn history_mut(&mut self) -> &mut H {
                &mut self.history
            }

            /// The current state's identifier.
            #[inline(always)]
            #item_vis fn state_id(&self) -> StateId {
                <S as #state_trait>::ID
            }

            /// Ends the machine, keeping its context.
            #[inline(always)]
            #item_vis fn into_context(self) -> #context {
                self.context
            }

            /// The machine as the run-time enum over all states.
            #[inline(always)]
            #item_vis fn into_runtime(self) -> Runtime<H> {
                S::__into_runtime(self, sealed::Token)
            }
        }

        impl<S: #state_trait, H: ::fsm_core::Recorder<Spec>> #machine<S, H> {
            /// Moves along the declared edge `S + event => T`, entering `to`.
            ///
            /// This is the primitive from which consuming methods with guards, payloads
            /// and actions are written; it compiles only for declared edges.
            #[inline(always)]
            #move_vis fn transition<E, T>(self, event: E, to: T) -> #machine<T, H>
            where
                E: sealed::EventType,
                S: Edge<E, <S as #state_trait>::Moves, To = T>,
                T: #state_trait,
            {
                let _ = event;
                self.enter(<E as sealed::EventType>::ID, to)
            }

            /// Moves along the declared edge `S + event => T`, building the new state from
            /// the old one and the context.
            #[inline(always)]
            #move_vis fn transition_with<E, T, F>(self, event: E, enter: F) -> #machine<T, H>
            where
                E: sealed::EventType,
                S: Edge<E, <S as #state_trait>::Moves, To = T>,
                T: #state_trait,
                F: ::core::ops::FnOnce(S, &mut #context) -> T,
            {
                let _ = event;
                let #machine { mut context, state, mut history } = self;
                history.record(
                    <S as #state_trait>::ID,
                    <E as sealed::EventType>::ID,
                    <T as #state_trait>::ID,
                );
                let state = enter(state, &mut context);
                #machine { context, state, history }
            }

            /// Records the move from `S` on `event` and enters `to`. Private to this
            /// module and unchecked: `transition` checks the edge at compile time, and
            /// `fire` takes only the declared edges, written from the same table.
            #[inline(always)]
            fn enter<T: #state_trait>(self, event: EventId, to: T) -> #machine<T, H> {
                let #machine { context, mut history, .. } = self;
                history.record(
                    <S as #state_trait>::ID,
                    event,
                    <T as #state_trait>::ID,
                );
                #machine { context, state: to, history }
            }
        }

        impl<S: #state_trait, H> ::core::fmt::Debug for #machine<S, H> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let state = <S as #state_trait>::ID;
                ::core::fmt::Debug::fmt(&::fsm_core::__private::MachineDebug(#machine_name, state), f)
            }
        }
    }
}

fn event_methods(model: &Model<'_>, names: &Names, lex: Lex) -> TokenStream {
    let Names {
        machine,
        state_trait,
        move_vis,
        ..
    } = names;
    // The bound on `S` is the check that the edge is declared, so the body may take the
    // unchecked `enter`.
    let method = |parameters: &str, bounds: &str, to: &str| {
        let source = format!(
            "#[doc = DOC]
            #[inline(always)]
            VIS fn EVENT<T>(self{parameters}) -> MACHINE<T, H>
            where
                S: Edge<event::EVENT, <S as TRAIT>::Moves, To = T>,
                T: TRAIT{bounds},
            {{
                self.enter(EventId::VARIANT, {to})
            }}"
        );
        let holes = ["DOC", "VIS", "EVENT", "MACHINE", "TRAIT", "VARIANT"];
        lex(&source).map(|tokens| Template::new(tokens, &holes))
    };
    let (Some(to_unit), Some(to_data)) = (
        method("", " + ::fsm_core::UnitState", "T::VALUE"),
        method(", to: T", "", "to"),
    ) else {
        return unlexable();
    };

    let vis: Vec<TokenTree> = move_vis.clone().into_iter().collect();
    let mut methods = Vec::new();
    for (index, event) in model.events.iter().enumerate() {
        let doc = TokenTree::Literal(Literal::string(&event_doc(model, index)));
        let template = match model.data_target(index) {
            None => &to_unit,
            Some(_) => &to_data,
        };
        let fills: [&[TokenTree]; 6] = [
            &[doc],
            &vis,
            &[ident_tree(event)],
            &[ident_tree(machine)],
            &[ident_tree(state_trait)],
            &[TokenTree::Ident(names.variants[index].clone())],
        ];
        // Spanned at the event's first edge: an illegal call's "required by this bound"
        // note then points at the declaration rather than at the whole macro call.
        template.stamp(event.span(), &fills, &mut methods);
    }
    let methods: TokenStream = methods.into_iter().collect();
    quote! {
        impl<S: #state_trait, H: ::fsm_core::Recorder<Spec>> #machine<S, H> {
            #methods
        }
    }
}

fn event_doc(model: &Model<'_>, event: usize) -> String {
    let mut doc = format!("Takes the `{}` edge:", names::unraw(model.events[event]));
    for edge in model.edges_on(event) {
        doc.push_str(&format!(
            " `{}` → `{}`;",
            model.states[edge.from].name, model.states[edge.to].name
        ));
    }
    doc.pop();
    doc.push('.');
    for edge in model.edges_on(event) {
        for line in doc_lines(edge.attrs) {
            doc.push_str("\n\n");
            doc.push_str(&line);
        }
    }
    doc
}

/// The text of `///` comments among `attrs`.
fn doc_lines(attrs: &[Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter_map(Attribute::doc)
        .map(|line| line.trim().to_owned())
        .collect()
}

fn capabilities(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine,
        state_trait,
        item_vis,
        inner_vis,
        ..
    } = names;
    if model.capabilities.is_empty() {
        return TokenStream::new();
    }
    let traits = model.capabilities.iter().map(|capability| {
        let operation = names::unraw(&capability.decl.name);
        // `Can` keeps a capability named `send` or `copy` clear of `Send` and `Copy`.
        let name = format_ident!(
            "Can{}",
            names::upper_camel(&operation),
            span = capability.decl.name.span()
        );
        let attrs = &capability.decl.attrs;
        let allowed: Vec<String> = capability
            .states
            .iter()
            .map(|&state| format!("`{}`", model.states[state].name))
            .collect();
        let allowed = allowed.join(", ");
        let message = format!("`{machine}` cannot `{operation}` in state `{{Self}}`");
        let label = format!("`{operation}` is not allowed in `{{Self}}`");
        let note = format!("`{operation}` is allowed in: {allowed}");
        let doc = format!(
            "The states of [`{machine}`](super::{machine}) that may `{operation}`: {allowed}."
        );
        let impls = capability.states.iter().map(|&state| {
            let state = &model.states[state].name;
            quote_spanned!(state.span()=> impl #name for super::#state {})
        });
        quote! {
            #[doc = #doc]
            #(#attrs)*
            #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
            #inner_vis trait #name: super::#state_trait {}

            #(#impls)*
        }
    });
    let doc = format!(
        "Capabilities: operations of [`{machine}`](super::{machine}) allowed in several states."
    );
    quote! {
        #[doc = #doc]
        #item_vis mod cap {
            #(#traits)*
        }
    }
}

/// A method of `Runtime` written as one match arm per state: its doc comment, its
/// signature, and the arm for one state.
type Accessor = (&'static str, &'static str, fn(&Ident) -> String);

fn runtime(model: &Model<'_>, names: &Names, out: &mut String) {
    let Names {
        machine,
        state_trait,
        vis,
        ..
    } = names;
    let machine_name = lit(&names::unraw(machine));
    let doc = lit(&format!(
        "[`{machine}`] in whichever state it is: for events that arrive at run time. Made with \
         `From` from the machine in any state."
    ));
    emit!(
        out,
        "#[doc = {doc}]
        #[allow(missing_docs)]
        {vis} enum Runtime<H = ::fsm_core::NoHistory> {{\n"
    );
    for state in &model.states {
        let name = &state.name;
        emit!(out, "{name}({machine}<{name}, H>),\n");
    }
    emit!(
        out,
        "}}

        /// Prints the state, as `State(Machine {{ state: State, .. }})`; the context and the
        /// history need not be `Debug`.
        impl<H> ::core::fmt::Debug for Runtime<H> {{
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{
                ::fsm_core::__private::debug_runtime(f, {machine_name}, self.state_id())
            }}
        }}

        impl<S: {state_trait}, H> ::core::convert::From<{machine}<S, H>> for Runtime<H> {{
            #[inline(always)]
            fn from(machine: {machine}<S, H>) -> Self {{
                machine.into_runtime()
            }}
        }}

        impl<H> Runtime<H> {{\n"
    );
    let accessors: [Accessor; 4] = [
        (
            "/// The current state's identifier.\n#[inline(always)]",
            "state_id(&self) -> StateId",
            |name| format!("Runtime::{name}(_) => StateId::{name},"),
        ),
        (
            "/// The context, which travels through every state.",
            "context(&self) -> &__Context",
            |name| format!("Runtime::{name}(m) => &m.context,"),
        ),
        (
            "/// The context, mutably.",
            "context_mut(&mut self) -> &mut __Context",
            |name| format!("Runtime::{name}(m) => &mut m.context,"),
        ),
        (
            "/// The history recorder.",
            "history(&self) -> &H",
            |name| format!("Runtime::{name}(m) => &m.history,"),
        ),
    ];
    for (doc, signature, arm) in accessors {
        emit!(out, "{doc}\n{vis} fn {signature} {{ match self {{\n");
        for state in &model.states {
            emit!(out, "{}\n", arm(&state.name));
        }
        emit!(out, "}} }}\n");
    }
    emit!(out, "}}\n");

    fire(model, names, out);
    runtime_trait(out);
}

/// `fire`, the run-time move: one match arm per declared edge, each entering its target
/// through the unchecked `enter` (the arms are written from the same edge list as the
/// edge impls). A data-carrying event brings its state's data along.
///
/// A branch-free variant that looked the target up in a `const` table was tried and
/// measured slower: each event then waits for the previous one's table load, where the
/// match lets the processor run ahead on predicted branches (docs/performance.md).
fn fire(model: &Model<'_>, names: &Names, out: &mut String) {
    let vis = &names.vis;
    emit!(
        out,
        "impl<H: ::fsm_core::Recorder<Spec>> Runtime<H> {{
            /// Moves along the edge that `event` names from the current state.
            ///
            /// # Errors
            ///
            /// [`Rejected`](::fsm_core::Rejected), holding the machine unchanged and the
            /// event, when the current state has no edge for `event`.
            #[inline]
            // A machine without edges has only the refusing arm, so `Ok` is unreachable.
            #[allow(unreachable_code)]
            {vis} fn fire(self, event: Event) -> ::core::result::Result<Self, ::fsm_core::Rejected<Self>> {{
                use Runtime as R;
                ::core::result::Result::Ok(match (self, event) {{\n"
    );
    for edge in &model.edges {
        let from = &model.states[edge.from].name;
        let to = &model.states[edge.to].name;
        let variant = &names.variants[edge.event];
        if model.has_data(edge.to) {
            emit!(
                out,
                "(R::{from}(m), Event::{variant}(to)) => R::{to}(m.enter(EventId::{variant}, to)),\n"
            );
        } else {
            emit!(
                out,
                "(R::{from}(m), Event::{variant}) => R::{to}(m.enter(EventId::{variant}, {to})),\n"
            );
        }
    }
    emit!(
        out,
        "(machine, event) => {{
                        return ::core::result::Result::Err(::fsm_core::Rejected::new(machine, event));
                    }}
                }})
            }}
        }}\n"
    );
}

/// The `fsm_core::Runtime` impl, which forwards to the inherent methods.
fn runtime_trait(out: &mut String) {
    emit!(
        out,
        "        impl<H: ::fsm_core::Recorder<Spec>> ::fsm_core::Runtime for Runtime<H> {{
            type Spec = Spec;
            type Event = Event;

            #[inline(always)]
            fn state_id(&self) -> StateId {{
                Runtime::state_id(self)
            }}

            #[inline(always)]
            fn fire(self, event: Event) -> ::core::result::Result<Self, ::fsm_core::Rejected<Self>> {{
                Runtime::fire(self, event)
            }}

            fn event_for(id: EventId) -> ::core::option::Option<Event> {{
                Event::unit(id)
            }}
        }}\n"
    );
}

/// `StateId` and `EventId`, with their `Id`, `Debug` and `Display` impls.
fn identifiers(model: &Model<'_>, names: &Names, out: &mut String) {
    let Names { machine, vis, .. } = names;
    let join = |items: Vec<String>| items.join(", ");
    let states = join(model.states.iter().map(|s| s.name.to_string()).collect());
    let state_ids = join(
        model
            .states
            .iter()
            .map(|s| format!("StateId::{}", s.name))
            .collect(),
    );
    let variants = &names.variants;
    let events = join(variants.iter().map(Ident::to_string).collect());
    let event_ids = join(variants.iter().map(|v| format!("EventId::{v}")).collect());
    let variant_names = join(variants.iter().map(|v| lit(&names::unraw(v))).collect());
    let event_count = variants.len();
    let state_doc = lit(&format!("The states of [`{machine}`], by name."));
    let event_doc = lit(&format!("The events of [`{machine}`], by name."));
    let repr = if event_count == 0 { "" } else { EVENT_REPR };
    emit!(
        out,
        "#[doc = {state_doc}]
        #[allow(missing_docs)]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        {vis} enum StateId {{ {states} }}

        impl ::fsm_core::Id for StateId {{
            const ALL: &'static [Self] = &[{state_ids}];

            #[inline(always)]
            fn index(self) -> usize {{
                self as usize
            }}

            fn name(self) -> &'static str {{
                <Spec as ::fsm_core::Machine>::TABLE.states[self as usize].name
            }}
        }}

        impl ::core::fmt::Debug for StateId {{
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{
                f.write_str(::fsm_core::Id::name(*self))
            }}
        }}

        impl ::core::fmt::Display for StateId {{
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{
                f.write_str(::fsm_core::Id::name(*self))
            }}
        }}

        #[doc = {event_doc}]
        #[allow(missing_docs)]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        {repr}
        {vis} enum EventId {{ {events} }}

        impl ::fsm_core::Id for EventId {{
            const ALL: &'static [Self] = &[{event_ids}];

            #[inline(always)]
            fn index(self) -> usize {{
                self as usize
            }}

            fn name(self) -> &'static str {{
                <Spec as ::fsm_core::Machine>::TABLE.events[self as usize]
            }}
        }}

        /// Prints the variant's name, as a derive would.
        impl ::core::fmt::Debug for EventId {{
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{
                const VARIANTS: [&str; {event_count}] = [{variant_names}];
                f.write_str(VARIANTS[*self as usize])
            }}
        }}

        impl ::core::fmt::Display for EventId {{
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{
                f.write_str(::fsm_core::Id::name(*self))
            }}
        }}\n"
    );
}

/// The run-time `Event`: an enum whose variants carry the data of the states they enter
/// or, when no event carries data, `EventId` itself.
fn run_time_event(model: &Model<'_>, names: &Names, out: &mut String) {
    if (0..model.events.len()).all(|event| model.data_target(event).is_none()) {
        events_without_data(names, out);
    } else {
        events_with_data(model, names, out);
    }
}

/// `Event` as another name for `EventId`: nothing to convert, and no second enum of
/// every event for each `cargo check` to compile.
fn events_without_data(names: &Names, out: &mut String) {
    let Names { machine, vis, .. } = names;
    let doc = lit(&format!(
        "A run-time event of [`{machine}`]. No event of it carries data, so this is its \
         [`EventId`]."
    ));
    emit!(
        out,
        "#[doc = {doc}]
        {vis} type Event = EventId;

        impl EventId {{
            /// Which event this is: the identifier itself.
            #[inline(always)]
            {vis} fn id(&self) -> EventId {{
                *self
            }}

            /// The event for `id`; never `None`, since no event carries data.
            #[inline(always)]
            {vis} fn unit(id: EventId) -> ::core::option::Option<Self> {{
                ::core::option::Option::Some(id)
            }}
        }}

        impl ::fsm_core::RuntimeEvent<Spec> for EventId {{
            #[inline(always)]
            fn id(&self) -> EventId {{
                *self
            }}
        }}\n"
    );
}

/// The run-time `Event` enum, for a machine where some events carry data.
fn events_with_data(model: &Model<'_>, names: &Names, out: &mut String) {
    let Names { machine, vis, .. } = names;
    let doc = lit(&format!(
        "A run-time event of [`{machine}`]: an event that enters a state with data carries it."
    ));
    emit!(
        out,
        "#[doc = {doc}]
        #[allow(missing_docs)]
        {EVENT_REPR}
        {vis} enum Event {{\n"
    );
    for (event, variant) in names.variants.iter().enumerate() {
        match model.data_target(event) {
            Some(target) => emit!(out, "{variant}({}),\n", model.states[target].name),
            None => emit!(out, "{variant},\n"),
        }
    }
    emit!(
        out,
        "}}

        impl Event {{
            /// Which event this is.
            #[inline(always)]
            {vis} fn id(&self) -> EventId {{
                match *self {{\n"
    );
    for (event, variant) in names.variants.iter().enumerate() {
        let fields = if model.data_target(event).is_some() {
            "(_)"
        } else {
            ""
        };
        emit!(out, "Event::{variant}{fields} => EventId::{variant},\n");
    }
    emit!(
        out,
        "}}
            }}

            /// The event for `id`, or `None` when it must carry a state's data.
            {vis} fn unit(id: EventId) -> ::core::option::Option<Self> {{
                match id {{\n"
    );
    for (event, variant) in names.variants.iter().enumerate() {
        if model.data_target(event).is_some() {
            emit!(out, "EventId::{variant} => ::core::option::Option::None,\n");
        } else {
            emit!(
                out,
                "EventId::{variant} => ::core::option::Option::Some(Event::{variant}),\n"
            );
        }
    }
    emit!(
        out,
        "}}
            }}
        }}

        impl ::fsm_core::RuntimeEvent<Spec> for Event {{
            #[inline(always)]
            fn id(&self) -> EventId {{
                Event::id(self)
            }}
        }}

        /// Prints the event's name only: a state's data need not be `Debug`.
        impl ::core::fmt::Debug for Event {{
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {{
                ::core::write!(f, \"Event::{{:?}}\", self.id())
            }}
        }}\n"
    );
}

/// `Spec`: the `Machine` impl with the transition table, and the Mermaid diagram.
fn spec(model: &Model<'_>, names: &Names, out: &mut String) {
    let Names { machine, vis, .. } = names;
    let machine_name = lit(&names::unraw(machine));
    let mut states = String::new();
    for (index, state) in model.states.iter().enumerate() {
        let name = lit(&names::unraw(&state.name));
        let has_data = model.has_data(index);
        let is_final = model.finals[index];
        emit!(
            states,
            "::fsm_core::StateInfo::new({name}, {has_data}, {is_final}), "
        );
    }
    let mut events = String::new();
    for event in &model.events {
        emit!(events, "{}, ", lit(&names::unraw(event)));
    }
    let mut edges = String::new();
    for edge in &model.edges {
        emit!(edges, "[{}, {}, {}], ", edge.from, edge.event, edge.to);
    }
    let initial = model.initial;
    let doc = lit(&format!(
        "The description of [`{machine}`]: identifiers and transition table."
    ));
    let mermaid = lit(&mermaid(model));
    emit!(
        out,
        "#[doc = {doc}]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        {vis} struct Spec;

        impl Spec {{
            /// The Mermaid diagram that `machine!` wrote into the machine's documentation;
            /// equal to `Spec::TABLE.mermaid().to_string()`.
            {vis} const MERMAID: &'static str = {mermaid};
        }}

        impl ::fsm_core::Machine for Spec {{
            type StateId = StateId;
            type EventId = EventId;

            const TABLE: ::fsm_core::Table = ::fsm_core::Table {{
                machine: {machine_name},
                states: &[{states}],
                events: &[{events}],
                initial: {initial},
                edges: &::fsm_core::__private::edges([{edges}]),
            }};
        }}\n"
    );
}

fn serde_impls(model: &Model<'_>, names: &Names) -> TokenStream {
    if model.decl.serde.is_none() {
        return TokenStream::new();
    }
    let Names {
        machine, context, ..
    } = names;
    let machine_name = names::unraw(machine);
    let span = Span::call_site();
    let mut ref_variants = Vec::new();
    let mut own_variants = Vec::new();
    let mut to_ref = Vec::new();
    let mut from_own = Vec::new();
    for (index, state) in model.states.iter().enumerate() {
        let name = &state.name;
        if model.has_data(index) {
            ref_variants.push(quote!(#name { context: &'a #context, state: &'a #name }));
            own_variants.push(quote!(#name { context: #context, state: #name }));
            to_ref.push(
                quote!(Runtime::#name(m) => __Ref::#name { context: &m.context, state: &m.state }),
            );
            from_own.push(quote!(__Own::#name { context, state } => Runtime::#name(#machine { context, state, history: H::default() })));
        } else {
            ref_variants.push(quote!(#name { context: &'a #context }));
            own_variants.push(quote!(#name { context: #context }));
            to_ref.push(quote!(Runtime::#name(m) => __Ref::#name { context: &m.context }));
            from_own.push(quote!(__Own::#name { context } => Runtime::#name(#machine { context, state: #name, history: H::default() })));
        }
    }
    quote_spanned! {span=>
        ::fsm_core::__serde_impls! { #machine_name,
            const _: () = {
                use ::fsm_core::__private::serde as __serde;

                #[derive(__serde::Serialize)]
                #[serde(crate = "::fsm_core::__private::serde")]
                enum __Ref<'a> { #(#ref_variants,)* }

                #[derive(__serde::Deserialize)]
                #[serde(crate = "::fsm_core::__private::serde")]
                enum __Own { #(#own_variants,)* }

                /// The state's name, with the context and the state's data; not the history.
                impl<H> __serde::Serialize for Runtime<H> {
                    fn serialize<Z: __serde::Serializer>(&self, serializer: Z) -> ::core::result::Result<Z::Ok, Z::Error> {
                        let repr = match self { #(#to_ref,)* };
                        __serde::Serialize::serialize(&repr, serializer)
                    }
                }

                /// An unknown state name or malformed data is the deserializer's error; the
                /// history starts empty.
                impl<'de, H: ::core::default::Default> __serde::Deserialize<'de> for Runtime<H> {
                    fn deserialize<D: __serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                        let repr = <__Own as __serde::Deserialize<'de>>::deserialize(deserializer)?;
                        ::core::result::Result::Ok(match repr { #(#from_own,)* })
                    }
                }
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Errors, check};

    /// Expands `source` outside the compiler, as text.
    fn expansion(source: &str) -> String {
        let tokens: TokenStream = source.parse().expect("the declaration lexes");
        let Ok(decl) = crate::parse::parse(tokens) else {
            panic!("the declaration parses");
        };
        let mut errors = Errors::default();
        let model = check(&decl, &mut errors);
        assert!(errors.finish().is_empty());
        expand(&model, |text| text.parse().ok()).to_string()
    }

    #[test]
    fn the_written_source_lexes_for_every_kind_of_machine() {
        let plain = expansion(
            "pub Door { initial: Closed, states: { Open, Closed }, \
             edges: { Closed + open => Open, Open + close => Closed } }",
        );
        let with_data = expansion(
            "Door { context: Vec<u8>, initial: Closed, final: Gone, \
             states: { Closed, Locked { code: u16 }, Gone }, \
             edges: { Closed + lock => Locked, Locked + unlock => Closed, Closed + smash => Gone } }",
        );
        let bare = expansion("Bare { initial: Only, states: { Only }, edges: {} }");
        for text in [&plain, &with_data, &bare] {
            assert!(!text.contains("does not lex"), "{text}");
            assert!(text.contains("fn fire"), "{text}");
        }
        // Without data the run-time event is the event's identifier.
        assert!(plain.contains("type Event = EventId"), "{plain}");
        assert!(with_data.contains("Lock (Locked)"), "{with_data}");
    }
}
