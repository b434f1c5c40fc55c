//! The syntax of a machine declaration, parsed into a tree that keeps every token's span.
//!
//! Parsing checks only the shape of the input; whether the names agree with each other is
//! the business of `model.rs`, so that all such mistakes can be reported together.

use proc_macro2::{TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{
    Attribute, Fields, FieldsNamed, FieldsUnnamed, Ident, LitBool, Token, Type, Visibility, braced,
    bracketed,
};

/// `vis Name { key: value, ... }`, with the machine's own attributes.
pub(crate) struct MachineDecl {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub context: Option<Type>,
    pub initial: Option<Ident>,
    pub finals: Vec<Ident>,
    pub transitions: Option<Visibility>,
    /// The span of `serde: true`, when given.
    pub serde: Option<proc_macro2::Span>,
    pub states: Vec<StateDecl>,
    pub edges: Vec<EdgeDecl>,
    pub capabilities: Vec<CapabilityDecl>,
    /// Items of a block that did not parse; the rest of the block was kept.
    pub item_errors: Vec<syn::Error>,
}

/// One state: `Name`, `Name { field: Type }` or `Name(Type)`, with attributes.
pub(crate) struct StateDecl {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub fields: Fields,
}

/// One edge: `From | From + event => To`, with attributes (its doc comment).
pub(crate) struct EdgeDecl {
    pub attrs: Vec<Attribute>,
    pub from: Vec<Ident>,
    pub event: Ident,
    pub to: Ident,
}

/// One capability: `operation: [State, State]`, with attributes.
pub(crate) struct CapabilityDecl {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub states: Vec<Ident>,
}

impl Parse for MachineDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let name: Ident = input.parse()?;
        let body;
        braced!(body in input);

        let mut decl = MachineDecl {
            attrs,
            vis,
            name,
            context: None,
            initial: None,
            finals: Vec::new(),
            transitions: None,
            serde: None,
            states: Vec::new(),
            edges: Vec::new(),
            capabilities: Vec::new(),
            item_errors: Vec::new(),
        };
        let mut seen: Vec<String> = Vec::new();
        while !body.is_empty() {
            if let Err(error) = decl.parse_entry(&body, &mut seen) {
                decl.item_errors.push(error);
                skip_to_next_key(&body);
            }
        }
        if !seen.iter().any(|key| key == "states") {
            decl.item_errors.push(syn::Error::new(
                decl.name.span(),
                "a machine needs `states: { ... }`",
            ));
        }
        if !input.is_empty() {
            return Err(input.error("one machine per `machine!` call"));
        }
        Ok(decl)
    }
}

/// After a malformed entry, skips to the comma before the next `key:`, so that the other
/// entries are still read and their errors reported.
fn skip_to_next_key(body: ParseStream<'_>) {
    while !body.is_empty() {
        let next_is_key = (body.peek2(Ident) || body.peek2(Token![final])) && body.peek3(Token![:]);
        if body.peek(Token![,]) && next_is_key {
            let _ = body.parse::<Token![,]>();
            return;
        }
        if body.parse::<TokenTree>().is_err() {
            return;
        }
    }
}

/// A key is an identifier, or the keyword `final`.
fn parse_key(input: ParseStream<'_>) -> syn::Result<Ident> {
    if input.peek(Token![final]) {
        let token: Token![final] = input.parse()?;
        return Ok(Ident::new("final", token.span));
    }
    input.parse()
}

impl MachineDecl {
    /// One `key: value,` entry. A key given twice is an error, and its value is skipped.
    fn parse_entry(&mut self, body: ParseStream<'_>, seen: &mut Vec<String>) -> syn::Result<()> {
        let key = parse_key(body)?;
        body.parse::<Token![:]>()?;
        if seen.contains(&key.to_string()) {
            return Err(syn::Error::new(
                key.span(),
                format!("`{key}` is given twice"),
            ));
        }
        seen.push(key.to_string());
        self.parse_value(&key, body)?;
        if !body.is_empty() {
            body.parse::<Token![,]>()?;
        }
        Ok(())
    }

    fn parse_value(&mut self, key: &Ident, input: ParseStream<'_>) -> syn::Result<()> {
        match key.to_string().as_str() {
            "context" => self.context = Some(input.parse()?),
            "initial" => self.initial = Some(input.parse()?),
            "final" => self.finals = parse_alternatives(input)?,
            "transitions" => self.transitions = Some(input.parse()?),
            "serde" => {
                let flag = input.parse::<LitBool>()?;
                self.serde = flag.value.then(|| key.span());
            }
            "states" => self.states = parse_block(input, &mut self.item_errors)?,
            "edges" => self.edges = parse_block(input, &mut self.item_errors)?,
            "capabilities" => self.capabilities = parse_block(input, &mut self.item_errors)?,
            _ => {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown key `{key}`; expected one of `context`, `initial`, `final`, \
                         `transitions`, `serde`, `states`, `edges`, `capabilities`"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `{ item, item, ... }` with an optional trailing comma.
///
/// Each item is parsed on its own, up to the next comma outside any brackets, so that one
/// malformed edge is reported without losing the others (and the states the rest of the
/// program refers to).
fn parse_block<T: Parse>(
    input: ParseStream<'_>,
    errors: &mut Vec<syn::Error>,
) -> syn::Result<Vec<T>> {
    let content;
    braced!(content in input);
    let mut items = Vec::new();
    while !content.is_empty() {
        let mut tokens = TokenStream::new();
        let mut last = content.span();
        while !content.is_empty() && !content.peek(Token![,]) {
            let token = content.parse::<TokenTree>()?;
            last = token.span();
            tokens.extend([token]);
        }
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
        match syn::parse2::<T>(tokens) {
            Ok(item) => items.push(item),
            Err(error) => errors.push(locate(error, last)),
        }
    }
    Ok(items)
}

/// An error at the end of an item's tokens has no span of its own (it would point at the
/// whole macro call); point it at the item's last token instead.
fn locate(error: syn::Error, last: proc_macro2::Span) -> syn::Error {
    let message = error.to_string();
    if message.starts_with("unexpected end of input") {
        return syn::Error::new(last, message);
    }
    error
}

/// `A | B | C`: one or more state names.
fn parse_alternatives(input: ParseStream<'_>) -> syn::Result<Vec<Ident>> {
    let names = Punctuated::<Ident, Token![|]>::parse_separated_nonempty(input)?;
    Ok(names.into_iter().collect())
}

impl Parse for StateDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let name: Ident = input.parse()?;
        let fields = if input.peek(syn::token::Brace) {
            Fields::Named(input.parse::<FieldsNamed>()?)
        } else if input.peek(syn::token::Paren) {
            Fields::Unnamed(input.parse::<FieldsUnnamed>()?)
        } else {
            Fields::Unit
        };
        Ok(StateDecl {
            attrs,
            name,
            fields,
        })
    }
}

impl Parse for EdgeDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let from = parse_alternatives(input)?;
        if !input.peek(Token![+]) {
            return Err(input.error("expected `+ event => Target` after the source state"));
        }
        input.parse::<Token![+]>()?;
        let event: Ident = input.parse()?;
        if !input.peek(Token![=>]) {
            return Err(input.error("expected `=> Target` after the event"));
        }
        input.parse::<Token![=>]>()?;
        let to: Ident = input.parse()?;
        Ok(EdgeDecl {
            attrs,
            from,
            event,
            to,
        })
    }
}

impl Parse for CapabilityDecl {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let name: Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let content;
        bracketed!(content in input);
        let states = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
        Ok(CapabilityDecl {
            attrs,
            name,
            states: states.into_iter().collect(),
        })
    }
}
