//! Code generation: the checked model of a machine into its module of types and impls.
//!
//! Everything generated names `fsm_core` paths (or `core`) only, so a user depends on
//! `fsm-core` alone. The layout of the output is described in fsm-core's crate docs.
//!
//! The expansion is kept small on purpose: its size is what a user's every `cargo check`
//! pays for. What is the same for every state or edge lives in fsm-core (`__private`) or
//! in one generic impl, and what must be written per state or per edge is written once:
//! one impl per edge, one match arm per edge in `fire`, one triple in the table.

use proc_macro2::Ident;
use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};

use crate::model::Model;
use crate::names;
use crate::parse::{Attribute, Fields, Visibility};

/// Generated names shared by the functions below.
struct Names {
    machine: Ident,
    module: Ident,
    state_trait: Ident,
    /// Visibility of generated items, as seen from inside the module.
    item_vis: TokenStream,
    /// Visibility of the moves, as seen from inside the module.
    move_vis: TokenStream,
    context: TokenStream,
}

pub(crate) fn expand(model: &Model<'_>) -> TokenStream {
    let decl = model.decl;
    let machine = decl.name.clone();
    let names = Names {
        module: format_ident!(
            "{}",
            names::snake(&names::unraw(&machine)),
            span = machine.span()
        ),
        state_trait: format_ident!("{}State", machine),
        item_vis: nested_vis(&decl.vis),
        move_vis: nested_vis(decl.transitions.as_ref().unwrap_or(&decl.vis)),
        context: match &decl.context {
            Some(ty) => quote!(#ty),
            None => quote!(()),
        },
        machine,
    };

    let vis = &decl.vis;
    let Names {
        machine, module, ..
    } = &names;
    let module_doc = format!("States, events and run-time types of the [`{machine}`] machine.");
    let not_an_event = format!("`{{Self}}` is not an event of `{machine}`");
    let not_an_event_label = format!("not one of `{module}::event`");
    let event_list: Vec<String> = model
        .events
        .iter()
        .map(|event| format!("`{}`", names::unraw(event)))
        .collect();
    let events_note = format!(
        "the events of `{machine}` are the types in `{module}::event`: {}",
        event_list.join(", ")
    );
    let body = [
        states(model, &names),
        events(model, &names),
        edge_trait(model, &names),
        machine_type(model, &names),
        event_methods(model, &names),
        capabilities(model, &names),
        runtime(model, &names),
        identifiers(model, &names),
        spec(model, &names),
        serde_impls(model, &names),
    ];
    quote! {
        #vis use #module::#machine;

        #[doc = #module_doc]
        #[allow(non_camel_case_types, unreachable_pub, clippy::all, clippy::pedantic)]
        #vis mod #module {
            #[allow(unused_imports)]
            use super::*;

            mod sealed {
                /// Passed to a hidden method of the state trait: a crate that cannot name
                /// it cannot implement the trait, so no other crate can add a state.
                pub struct Token;

                /// Implemented for this machine's event types only: as the bound on
                /// `Edge`'s event, it keeps other crates from adding edges.
                #[diagnostic::on_unimplemented(message = #not_an_event, label = #not_an_event_label, note = #events_note)]
                pub trait EventType {
                    /// The event's identifier, for the history.
                    const ID: super::EventId;
                }
            }

            #(#body)*
        }
    }
}

/// A visibility written at the call site, re-expressed for an item one module deeper.
fn nested_vis(vis: &Visibility) -> TokenStream {
    match vis {
        Visibility::Public(token) => quote!(#token),
        Visibility::Inherited => quote!(pub(super)),
        Visibility::Restricted { path, .. } => {
            let rest = path.iter().skip(1);
            match path[0].to_string().as_str() {
                "self" => quote!(pub(in super #(::#rest)*)),
                "super" => quote!(pub(in super::#(#path)::*)),
                _ => quote!(pub(in #(#path)::*)),
            }
        }
    }
}

fn states(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine,
        state_trait,
        item_vis,
        ..
    } = names;
    let mut out = TokenStream::new();
    for (index, state) in model.states.iter().enumerate() {
        let name = &state.name;
        let attrs = &state.attrs;
        let moves = model.edges_from(index).map(|edge| {
            let event = model.events[edge.event];
            quote!(event::#event,)
        });
        let doc = state_doc(model, index);
        // No derives: a marker has no behaviour to print or compare, and every derive is
        // an impl per state that each `cargo check` pays for. A user who wants them writes
        // them on the state, and they are passed through with the other attributes.
        let definition = match &state.fields {
            Fields::Unit => quote! {
                #[doc = #doc]
                #(#attrs)*
                #item_vis struct #name;

                impl ::fsm_core::UnitState for #name {
                    const VALUE: Self = #name;
                }
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
        };
        out.extend(quote! {
            #definition

            impl #state_trait for #name {
                const ID: StateId = StateId::#name;
                type Moves = (#(#moves)*);

                #[inline(always)]
                fn __into_runtime<H>(machine: #machine<Self, H>, _: sealed::Token) -> Runtime<H> {
                    Runtime::#name(machine)
                }
            }
        });
    }
    out.extend(layout_assertion(model, names));
    let trait_doc = format!("A state of [`{machine}`]. Sealed: only the declared states have it.");
    let not_a_state = format!("`{{Self}}` is not a state of `{machine}`");
    let states_list: Vec<String> = model
        .states
        .iter()
        .map(|s| format!("`{}`", s.name))
        .collect();
    let states_note = format!("the states of `{machine}` are {}", states_list.join(", "));
    out.extend(quote! {
        #[doc = #trait_doc]
        #[diagnostic::on_unimplemented(message = #not_a_state, note = #states_note)]
        #item_vis trait #state_trait: ::core::marker::Sized {
            /// This state's identifier.
            const ID: StateId;

            /// The events legal in this state, as a tuple of event types. Compile errors
            /// for an illegal move print it as the list of legal moves.
            type Moves;

            #[doc(hidden)]
            fn __into_runtime<H>(machine: #machine<Self, H>, _: sealed::Token) -> Runtime<H>;
        }
    });
    out
}

/// What the framework promises about size, checked at compile time for all states in one
/// `const_assert!`: a unit state is zero-sized and adds nothing to the machine, a state
/// with data adds exactly its data.
fn layout_assertion(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine, context, ..
    } = names;
    let checks = model.states.iter().map(|state| {
        let name = &state.name;
        match &state.fields {
            Fields::Unit => quote!(__p::unit_layout::<#machine<#name>, #context, #name>()),
            _ => quote!(__p::data_layout::<#machine<#name>, #context, #name>()),
        }
    });
    quote! {
        const _: () = {
            use ::fsm_core::__private as __p;
            __p::static_assertions::const_assert!(__p::all(&[#(#checks),*]));
        };
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

fn events(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine, item_vis, ..
    } = names;
    let markers = model
        .events
        .iter()
        .map(|event| quote!(#item_vis struct #event;));
    let ids = model.events.iter().map(|event| {
        let variant = event_variant(event);
        quote! {
            impl sealed::EventType for event::#event {
                const ID: EventId = EventId::#variant;
            }
        }
    });
    let doc = format!(
        "The events of [`{machine}`](super::{machine}) as zero-sized types, one per event \
         name in the declaration: `event::open` names the `open` edges at compile time."
    );
    quote! {
        #[doc = #doc]
        #[allow(missing_docs, missing_debug_implementations)]
        #item_vis mod event {
            #(#markers)*
        }

        #(#ids)*

        /// Never inhabited: two extra edge impls on every state keep the compiler from
        /// guessing the event from a state's only edge, so an illegal move is reported as
        /// such instead of as a type mismatch.
        #[doc(hidden)]
        #item_vis enum __NoEvent {}
        #[doc(hidden)]
        #item_vis enum __NoEvent2 {}

        impl sealed::EventType for __NoEvent {
            const ID: EventId = ::core::panic!("`__NoEvent` is uninhabited");
        }

        impl sealed::EventType for __NoEvent2 {
            const ID: EventId = ::core::panic!("`__NoEvent2` is uninhabited");
        }
    }
}

fn event_variant(event: &Ident) -> Ident {
    names::ident(&names::upper_camel(&names::unraw(event)), event.span())
}

fn edge_trait(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine,
        state_trait,
        item_vis,
        ..
    } = names;
    let message = format!("`{machine}` has no `{{E}}` move from state `{{Self}}`");
    let label = "no `{E}` edge leaves `{Self}`".to_owned();
    let note = "legal moves from `{Self}`: {Moves}".to_owned();
    let doc = format!(
        "The edges of [`{machine}`]: `S: Edge<E, <S as {state_trait}>::Moves, To = T>` holds \
         exactly when the declaration has the edge `S + e => T`."
    );
    let impls = model.edges.iter().map(|edge| {
        let from = &model.states[edge.from].name;
        let to = &model.states[edge.to].name;
        let event = model.events[edge.event];
        // The legal moves are written out rather than named as `<From as ..>::Moves`:
        // error messages list the impls as written, and a list of events reads better.
        let moves = model.edges_from(edge.from).map(|e| {
            let event = model.events[e.event];
            quote!(event::#event,)
        });
        // Spanned at the declared edge, so that "but `Edge<unlock, ..>` is implemented"
        // in an illegal move's error points at the line that declares that edge.
        quote_spanned! {event.span()=>
            impl Edge<event::#event, (#(#moves)*)> for #from {
                type To = #to;
            }
        }
    });
    quote! {
        #[doc = #doc]
        #[diagnostic::on_unimplemented(message = #message, label = #label, note = #note)]
        #item_vis trait Edge<E: sealed::EventType, Moves>: #state_trait {
            /// The state the edge enters.
            type To: #state_trait;
        }

        #(#impls)*

        // Never used: no value of `__NoEvent` exists, so no move can name these edges.
        // Two blanket impls rather than one concrete impl per state: a blanket impl is
        // not listed among "the following other types implement trait" in an illegal
        // move's error, so the error shows only the declared edges.
        impl<S: #state_trait> Edge<__NoEvent, S::Moves> for S {
            type To = S;
        }

        impl<S: #state_trait> Edge<__NoEvent2, S::Moves> for S {
            type To = S;
        }
    }
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

fn event_methods(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine,
        state_trait,
        move_vis,
        ..
    } = names;
    let methods = model.events.iter().enumerate().map(|(index, event)| {
        let doc = event_doc(model, index);
        let variant = event_variant(event);
        // Spanned at the event's first edge: an illegal call's "required by this bound"
        // note then points at the declaration rather than at the whole macro call.
        let span = event.span();
        match model.data_target(index) {
            None => quote_spanned! {span=>
                #[doc = #doc]
                #[inline(always)]
                #move_vis fn #event<T>(self) -> #machine<T, H>
                where
                    S: Edge<event::#event, <S as #state_trait>::Moves, To = T>,
                    T: #state_trait + ::fsm_core::UnitState,
                {
                    self.enter(EventId::#variant, T::VALUE)
                }
            },
            Some(_) => quote_spanned! {span=>
                #[doc = #doc]
                #[inline(always)]
                #move_vis fn #event<T>(self, to: T) -> #machine<T, H>
                where
                    S: Edge<event::#event, <S as #state_trait>::Moves, To = T>,
                    T: #state_trait,
                {
                    self.enter(EventId::#variant, to)
                }
            },
        }
    });
    // The bound on `S` is the check that the edge is declared, so the body may take the
    // unchecked `enter`.
    quote! {
        impl<S: #state_trait, H: ::fsm_core::Recorder<Spec>> #machine<S, H> {
            #(#methods)*
        }
    }
}

fn event_doc(model: &Model<'_>, event: usize) -> String {
    let mut doc = format!("Takes the `{}` edge:", names::unraw(model.events[event]));
    for edge in model.edges.iter().filter(|edge| edge.event == event) {
        doc.push_str(&format!(
            " `{}` → `{}`;",
            model.states[edge.from].name, model.states[edge.to].name
        ));
    }
    doc.pop();
    doc.push('.');
    for edge in model.edges.iter().filter(|edge| edge.event == event) {
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
            #item_vis trait #name: super::#state_trait {}

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

fn runtime(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine,
        state_trait,
        item_vis,
        context,
        ..
    } = names;
    let machine_name = names::unraw(machine);
    let state_names: Vec<&Ident> = model.states.iter().map(|state| &state.name).collect();
    let arms = model.edges.iter().map(|edge| {
        let from = &model.states[edge.from].name;
        let to = &model.states[edge.to].name;
        let variant = event_variant(model.events[edge.event]);
        if model.has_data(edge.to) {
            quote!((R::#from(m), Event::#variant(to)) => R::#to(m.enter(EventId::#variant, to)),)
        } else {
            quote!((R::#from(m), Event::#variant) => R::#to(m.enter(EventId::#variant, #to)),)
        }
    });
    let doc = format!(
        "[`{machine}`] in whichever state it is: for events that arrive at run time. Made with \
         `From` from the machine in any state."
    );
    quote! {
        #[doc = #doc]
        #[allow(missing_docs)]
        #item_vis enum Runtime<H = ::fsm_core::NoHistory> {
            #(#state_names(#machine<#state_names, H>),)*
        }

        /// Prints the state, as `State(Machine { state: State, .. })`; the context and the
        /// history need not be `Debug`.
        impl<H> ::core::fmt::Debug for Runtime<H> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::fsm_core::__private::debug_runtime(f, #machine_name, self.state_id())
            }
        }

        impl<S: #state_trait, H> ::core::convert::From<#machine<S, H>> for Runtime<H> {
            #[inline(always)]
            fn from(machine: #machine<S, H>) -> Self {
                machine.into_runtime()
            }
        }

        impl<H> Runtime<H> {
            /// The current state's identifier.
            #[inline(always)]
            #item_vis fn state_id(&self) -> StateId {
                match self {
                    #(Runtime::#state_names(_) => StateId::#state_names,)*
                }
            }

            /// The context, which travels through every state.
            #item_vis fn context(&self) -> &#context {
                match self {
                    #(Runtime::#state_names(m) => &m.context,)*
                }
            }

            /// The context, mutably.
            #item_vis fn context_mut(&mut self) -> &mut #context {
                match self {
                    #(Runtime::#state_names(m) => &mut m.context,)*
                }
            }

            /// The history recorder.
            #item_vis fn history(&self) -> &H {
                match self {
                    #(Runtime::#state_names(m) => &m.history,)*
                }
            }
        }

        impl<H: ::fsm_core::Recorder<Spec>> Runtime<H> {
            /// Moves along the edge that `event` names from the current state.
            ///
            /// # Errors
            ///
            /// [`Rejected`](::fsm_core::Rejected), holding the machine unchanged and the
            /// event, when the current state has no edge for `event`.
            #[inline]
            // A machine without edges has only the refusing arm, so `Ok` is unreachable.
            #[allow(unreachable_code)]
            #item_vis fn fire(self, event: Event) -> ::core::result::Result<Self, ::fsm_core::Rejected<Self>> {
                use Runtime as R;
                ::core::result::Result::Ok(match (self, event) {
                    #(#arms)*
                    (machine, event) => {
                        return ::core::result::Result::Err(::fsm_core::Rejected::new(machine, event));
                    }
                })
            }
        }

        impl<H: ::fsm_core::Recorder<Spec>> ::fsm_core::Runtime for Runtime<H> {
            type Spec = Spec;
            type Event = Event;

            #[inline(always)]
            fn state_id(&self) -> StateId {
                Runtime::state_id(self)
            }

            #[inline(always)]
            fn fire(self, event: Event) -> ::core::result::Result<Self, ::fsm_core::Rejected<Self>> {
                Runtime::fire(self, event)
            }

            fn event_for(id: EventId) -> ::core::option::Option<Event> {
                Event::unit(id)
            }
        }
    }
}

fn identifiers(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine, item_vis, ..
    } = names;
    let state_names: Vec<&Ident> = model.states.iter().map(|state| &state.name).collect();
    let event_variants: Vec<Ident> = model.events.iter().map(|e| event_variant(e)).collect();
    let variant_strings: Vec<String> = event_variants.iter().map(names::unraw).collect();
    let event_count = Literal::usize_unsuffixed(model.events.len());

    let run_time_event = run_time_event(model, names);
    let state_doc = format!("The states of [`{machine}`], by name.");
    let event_id_doc = format!("The events of [`{machine}`], by name.");
    quote! {
        #[doc = #state_doc]
        #[allow(missing_docs)]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #item_vis enum StateId {
            #(#state_names,)*
        }

        impl ::fsm_core::Id for StateId {
            const ALL: &'static [Self] = &[#(StateId::#state_names),*];

            #[inline(always)]
            fn index(self) -> usize {
                self as usize
            }

            fn name(self) -> &'static str {
                <Spec as ::fsm_core::Machine>::TABLE.states[self as usize].name
            }
        }

        impl ::core::fmt::Debug for StateId {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::fsm_core::Id::name(*self))
            }
        }

        impl ::core::fmt::Display for StateId {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::fsm_core::Id::name(*self))
            }
        }

        #[doc = #event_id_doc]
        #[allow(missing_docs)]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #item_vis enum EventId {
            #(#event_variants,)*
        }

        impl ::fsm_core::Id for EventId {
            const ALL: &'static [Self] = &[#(EventId::#event_variants),*];

            #[inline(always)]
            fn index(self) -> usize {
                self as usize
            }

            fn name(self) -> &'static str {
                <Spec as ::fsm_core::Machine>::TABLE.events[self as usize]
            }
        }

        /// Prints the variant's name, as a derive would.
        impl ::core::fmt::Debug for EventId {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                const VARIANTS: [&str; #event_count] = [#(#variant_strings),*];
                f.write_str(VARIANTS[*self as usize])
            }
        }

        impl ::core::fmt::Display for EventId {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(::fsm_core::Id::name(*self))
            }
        }

        #run_time_event
    }
}

/// The run-time `Event` enum. When no event carries data it is a copy of `EventId` (and
/// `Copy`), so converting between the two is an index into a table rather than a match
/// arm per event.
fn run_time_event(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine, item_vis, ..
    } = names;
    let event_variants: Vec<Ident> = model.events.iter().map(|e| event_variant(e)).collect();
    let event_count = Literal::usize_unsuffixed(model.events.len());
    let carries_data = (0..model.events.len()).any(|index| model.data_target(index).is_some());
    let doc = format!(
        "A run-time event of [`{machine}`]: an event that enters a state with data carries it."
    );
    // A 16-bit tag gives `Event` more spare bit patterns than the run-time enum's 8-bit
    // tag, so `Result<Runtime, Rejected<Runtime>>` keeps its discriminant in the event
    // and the machine at the same offset in `Ok` and `Err`: handing a refused machine
    // back is then free, and dispatch compiles to the same jump table as a hand-written
    // `match` (see docs/performance.md). With an 8-bit tag the discriminant moved into
    // the machine, and every event paid for a select.
    let repr = if model.events.is_empty() {
        TokenStream::new()
    } else {
        quote!(#[repr(u16)])
    };
    let (definition, conversions) = if carries_data {
        let variants = model.events.iter().enumerate().map(|(index, _)| {
            let variant = &event_variants[index];
            match model.data_target(index) {
                Some(target) => {
                    let target = &model.states[target].name;
                    quote!(#variant(#target),)
                }
                None => quote!(#variant,),
            }
        });
        let id_arms = model.events.iter().enumerate().map(|(index, _)| {
            let variant = &event_variants[index];
            match model.data_target(index) {
                Some(_) => quote!(Event::#variant(_) => EventId::#variant,),
                None => quote!(Event::#variant => EventId::#variant,),
            }
        });
        let unit_arms = model.events.iter().enumerate().map(|(index, _)| {
            let variant = &event_variants[index];
            match model.data_target(index) {
                Some(_) => quote!(EventId::#variant => ::core::option::Option::None,),
                None => quote!(EventId::#variant => ::core::option::Option::Some(Event::#variant),),
            }
        });
        (
            quote! {
                #repr
                #item_vis enum Event {
                    #(#variants)*
                }
            },
            quote! {
                /// Which event this is.
                #[inline(always)]
                #item_vis fn id(&self) -> EventId {
                    match *self {
                        #(#id_arms)*
                    }
                }

                /// The event for `id`, or `None` when it must carry a state's data.
                #item_vis fn unit(id: EventId) -> ::core::option::Option<Self> {
                    match id {
                        #(#unit_arms)*
                    }
                }
            },
        )
    } else {
        (
            quote! {
                #[derive(Clone, Copy, PartialEq, Eq)]
                #repr
                #item_vis enum Event {
                    #(#event_variants,)*
                }
            },
            quote! {
                /// Which event this is.
                #[inline(always)]
                #item_vis fn id(&self) -> EventId {
                    <EventId as ::fsm_core::Id>::ALL[*self as usize]
                }

                /// The event for `id`; never `None`, since no event of this machine
                /// carries data.
                #item_vis fn unit(id: EventId) -> ::core::option::Option<Self> {
                    const ALL: [Event; #event_count] = [#(Event::#event_variants),*];
                    ::core::option::Option::Some(ALL[id as usize])
                }
            },
        )
    };
    quote! {
        #[doc = #doc]
        #[allow(missing_docs)]
        #definition

        impl Event {
            #conversions
        }

        impl ::fsm_core::RuntimeEvent<Spec> for Event {
            #[inline(always)]
            fn id(&self) -> EventId {
                Event::id(self)
            }
        }

        /// Prints the event's name only: a state's data need not be `Debug`.
        impl ::core::fmt::Debug for Event {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::write!(f, "Event::{:?}", self.id())
            }
        }
    }
}

fn spec(model: &Model<'_>, names: &Names) -> TokenStream {
    let Names {
        machine, item_vis, ..
    } = names;
    let machine_name = names::unraw(machine);
    let states = model.states.iter().enumerate().map(|(index, state)| {
        let name = names::unraw(&state.name);
        let has_data = model.has_data(index);
        let is_final = model.finals[index];
        quote!(::fsm_core::StateInfo::new(#name, #has_data, #is_final))
    });
    let events = model.events.iter().map(|event| names::unraw(event));
    let initial = Literal::usize_unsuffixed(model.initial);
    let edges = model.edges.iter().map(|edge| {
        let [from, event, to] = [edge.from, edge.event, edge.to].map(Literal::usize_unsuffixed);
        quote!([#from, #event, #to])
    });
    let doc = format!("The description of [`{machine}`]: identifiers and transition table.");
    let mermaid = mermaid(model);
    quote! {
        #[doc = #doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        #item_vis struct Spec;

        impl Spec {
            /// The Mermaid diagram that `machine!` wrote into the machine's documentation;
            /// equal to `Spec::TABLE.mermaid().to_string()`.
            #item_vis const MERMAID: &'static str = #mermaid;
        }

        impl ::fsm_core::Machine for Spec {
            type StateId = StateId;
            type EventId = EventId;

            const TABLE: ::fsm_core::Table = ::fsm_core::Table {
                machine: #machine_name,
                states: &[#(#states),*],
                events: &[#(#events),*],
                initial: #initial,
                edges: &::fsm_core::__private::edges([#(#edges),*]),
            };
        }
    }
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
