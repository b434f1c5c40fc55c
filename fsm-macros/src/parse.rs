//! The syntax of a machine declaration, parsed into a tree that keeps every token's span.
//!
//! Parsing checks only the shape of the input; whether the names agree with each other is
//! the business of `model.rs`, so that all such mistakes can be reported together.
//!
//! The parser reads token trees directly instead of going through syn. A declaration is
//! made of identifiers, a few punctuation marks and bracketed groups; the only Rust syntax
//! in it is types (the context and state fields), which are kept as tokens and checked by
//! the compiler where they are used, with their own spans. Leaving syn out takes the
//! largest crate off the critical path of every user's cold build.

use std::fmt;

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::{ToTokens, TokenStreamExt};

/// A syntax or validation error, reported on the token at fault.
#[derive(Clone)]
pub(crate) struct Error {
    span: Span,
    message: String,
}

impl Error {
    pub(crate) fn new(span: Span, message: impl fmt::Display) -> Self {
        Error {
            span,
            message: message.to_string(),
        }
    }

    /// `::core::compile_error! { "message" }`, every token spanned at the fault, so the
    /// compiler reports the message there.
    pub(crate) fn to_compile_error(&self) -> TokenStream {
        let span = self.span;
        let mut message = Literal::string(&self.message);
        message.set_span(span);
        let mut body = Group::new(Delimiter::Brace, TokenTree::Literal(message).into());
        body.set_span(span);
        let mut out = TokenStream::new();
        for piece in ["::", "core", "::", "compile_error", "!"] {
            out.extend(spanned_tokens(piece, span));
        }
        out.append(body);
        out
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// One piece of a path or macro call, at `span`: `::` (two joint colons), `!`, or an
/// identifier.
fn spanned_tokens(piece: &str, span: Span) -> Vec<TokenTree> {
    let punct = |ch, spacing| {
        let mut punct = Punct::new(ch, spacing);
        punct.set_span(span);
        TokenTree::Punct(punct)
    };
    match piece {
        "::" => vec![punct(':', Spacing::Joint), punct(':', Spacing::Alone)],
        "!" => vec![punct('!', Spacing::Alone)],
        name => vec![TokenTree::Ident(Ident::new(name, span))],
    }
}

pub(crate) type Result<T> = std::result::Result<T, Error>;

/// `vis Name { key: value, ... }`, with the machine's own attributes.
pub(crate) struct MachineDecl {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub name: Ident,
    pub context: Option<TokenStream>,
    pub initial: Option<Ident>,
    pub finals: Vec<Ident>,
    pub transitions: Option<Visibility>,
    /// The span of `serde: true`, when given.
    pub serde: Option<Span>,
    pub states: Vec<StateDecl>,
    pub edges: Vec<EdgeDecl>,
    pub capabilities: Vec<CapabilityDecl>,
    /// Items of a block that did not parse; the rest of the block was kept.
    pub item_errors: Vec<Error>,
}

/// One state: `Name`, `Name { field: Type }` or `Name(Type)`, with attributes.
pub(crate) struct StateDecl {
    pub attrs: Vec<Attribute>,
    pub name: Ident,
    pub fields: Fields,
}

/// A state's data, as a struct body.
pub(crate) enum Fields {
    Unit,
    Named(Vec<Field>),
    Unnamed(Vec<Field>),
}

/// One field of a state with data.
pub(crate) struct Field {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    /// `None` in a tuple state.
    pub ident: Option<Ident>,
    pub ty: TokenStream,
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

/// An outer attribute `#[...]` (a `///` comment arrives as `#[doc = "..."]`), kept as
/// written.
pub(crate) struct Attribute {
    pound: Punct,
    body: Group,
}

impl Attribute {
    /// The text of a `#[doc = "..."]` attribute, or `None` for any other attribute.
    pub(crate) fn doc(&self) -> Option<String> {
        let tokens: Vec<TokenTree> = self.body.stream().into_iter().collect();
        match tokens.as_slice() {
            [
                TokenTree::Ident(doc),
                TokenTree::Punct(eq),
                TokenTree::Literal(text),
            ] if doc == "doc" && eq.as_char() == '=' => string_value(&text.to_string()),
            _ => None,
        }
    }
}

impl ToTokens for Attribute {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.append(self.pound.clone());
        tokens.append(self.body.clone());
    }
}

/// A visibility as written: nothing, `pub`, or `pub(crate)`, `pub(self)`, `pub(super)`,
/// `pub(in path)`.
pub(crate) enum Visibility {
    Inherited,
    Public(Ident),
    Restricted {
        pub_token: Ident,
        group: Group,
        /// The path's segments, without `in`.
        path: Vec<Ident>,
    },
}

impl ToTokens for Visibility {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        match self {
            Visibility::Inherited => {}
            Visibility::Public(token) => tokens.append(token.clone()),
            Visibility::Restricted {
                pub_token, group, ..
            } => {
                tokens.append(pub_token.clone());
                tokens.append(group.clone());
            }
        }
    }
}

/// The value of a string literal as the compiler prints it (`"..."` or `r#"..."#`), or
/// `None` for another kind of literal.
fn string_value(literal: &str) -> Option<String> {
    if let Some(raw) = literal.strip_prefix('r') {
        let hashes = raw.len() - raw.trim_start_matches('#').len();
        let body = raw.get(hashes..raw.len().checked_sub(hashes)?)?;
        return Some(body.strip_prefix('"')?.strip_suffix('"')?.to_owned());
    }
    let body = literal.strip_prefix('"')?.strip_suffix('"')?;
    Some(unescape(body))
}

/// The escapes of a non-raw string literal's body. The compiler only hands over valid
/// literals, so an escape it would reject is kept as written.
fn unescape(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some('x') => {
                let hex: String = chars.by_ref().take(2).collect();
                out.extend(u8::from_str_radix(&hex, 16).ok().map(char::from));
            }
            Some('u') => {
                let code: String = chars.by_ref().take_while(|&c| c != '}').collect();
                let code = code.trim_start_matches('{');
                out.extend(u32::from_str_radix(code, 16).ok().and_then(char::from_u32));
            }
            // A backslash before a line break skips the break and the next line's indent.
            Some('\n') => {
                let rest: String = chars.collect();
                out.push_str(&unescape(rest.trim_start()));
                return out;
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// One level of token trees, read front to back.
struct Cursor {
    tokens: Vec<TokenTree>,
    pos: usize,
    /// Where an error about a missing token points: the last token, or the group.
    end: Span,
}

impl Cursor {
    fn new(stream: TokenStream, end: Span) -> Self {
        let tokens: Vec<TokenTree> = stream.into_iter().collect();
        let end = tokens.last().map_or(end, TokenTree::span);
        Cursor {
            tokens,
            pos: 0,
            end,
        }
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.tokens.len()
    }

    fn peek_at(&self, ahead: usize) -> Option<&TokenTree> {
        self.tokens.get(self.pos + ahead)
    }

    /// The span of the next token, or of the end.
    fn span(&self) -> Span {
        self.peek_at(0).map_or(self.end, TokenTree::span)
    }

    fn error(&self, message: impl fmt::Display) -> Error {
        let message = message.to_string();
        if self.is_empty() {
            Error::new(self.end, format!("unexpected end of input, {message}"))
        } else {
            Error::new(self.span(), message)
        }
    }

    /// Whether the token `ahead` is the punctuation `ch` on its own: `:` but not the
    /// first colon of `::`.
    fn is_punct_at(&self, ahead: usize, ch: char) -> bool {
        match self.peek_at(ahead) {
            Some(TokenTree::Punct(punct)) if punct.as_char() == ch => {
                let joined_to_same = punct.spacing() == Spacing::Joint
                    && matches!(self.peek_at(ahead + 1), Some(TokenTree::Punct(next)) if next.as_char() == ch);
                !joined_to_same
            }
            _ => false,
        }
    }

    fn is_punct(&self, ch: char) -> bool {
        self.is_punct_at(0, ch)
    }

    fn eat_punct(&mut self, ch: char) -> bool {
        let found = self.is_punct(ch);
        self.pos += usize::from(found);
        found
    }

    fn expect_punct(&mut self, ch: char) -> Result<()> {
        if self.eat_punct(ch) {
            Ok(())
        } else {
            Err(self.error(format!("expected `{ch}`")))
        }
    }

    /// `=>`, written as a joint `=` and a `>`.
    fn is_fat_arrow(&self) -> bool {
        matches!(
            (self.peek_at(0), self.peek_at(1)),
            (Some(TokenTree::Punct(eq)), Some(TokenTree::Punct(gt)))
                if eq.as_char() == '=' && eq.spacing() == Spacing::Joint && gt.as_char() == '>'
        )
    }

    fn is_ident_at(&self, ahead: usize) -> bool {
        matches!(self.peek_at(ahead), Some(TokenTree::Ident(_)))
    }

    fn ident(&mut self) -> Result<Ident> {
        match self.peek_at(0) {
            Some(TokenTree::Ident(ident)) => {
                let ident = ident.clone();
                self.pos += 1;
                Ok(ident)
            }
            _ => Err(self.error("expected identifier")),
        }
    }

    /// A group in `delimiter`, as a cursor over its contents.
    fn group(&mut self, delimiter: Delimiter, what: &str) -> Result<Cursor> {
        match self.peek_at(0) {
            Some(TokenTree::Group(group)) if group.delimiter() == delimiter => {
                let inner = Cursor::new(group.stream(), group.span_close());
                self.pos += 1;
                Ok(inner)
            }
            _ => Err(self.error(format!("expected {what}"))),
        }
    }

    /// Fails on anything left over.
    fn finish(&self) -> Result<()> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(Error::new(self.span(), "unexpected token"))
        }
    }

    /// The tokens up to the next comma outside angle brackets (not consuming the comma):
    /// a type, as written.
    fn type_tokens(&mut self) -> Result<TokenStream> {
        let tokens = self.up_to_comma();
        if tokens.is_empty() {
            return Err(self.error("expected a type"));
        }
        Ok(tokens)
    }

    /// Consumes the tokens up to the next comma outside angle brackets, or to the end,
    /// and returns them. Commas inside `()`, `[]` and `{}` are inside groups already;
    /// `HashMap<K, V>` is the case that needs counting.
    fn up_to_comma(&mut self) -> TokenStream {
        let start = self.pos;
        let mut depth = 0usize;
        while let Some(token) = self.peek_at(0) {
            if let TokenTree::Punct(punct) = token {
                match punct.as_char() {
                    ',' if depth == 0 => break,
                    '<' => depth += 1,
                    // `->` in a function pointer type closes nothing.
                    '>' if !self.follows_minus() => depth = depth.saturating_sub(1),
                    _ => {}
                }
            }
            self.pos += 1;
        }
        self.tokens[start..self.pos].iter().cloned().collect()
    }

    /// Whether the token before the current one is a `-` joined to it.
    fn follows_minus(&self) -> bool {
        matches!(
            self.pos.checked_sub(1).and_then(|before| self.tokens.get(before)),
            Some(TokenTree::Punct(minus)) if minus.as_char() == '-' && minus.spacing() == Spacing::Joint
        )
    }

    /// Outer attributes: `#[...]`, any number.
    fn attributes(&mut self) -> Vec<Attribute> {
        let mut attrs = Vec::new();
        while let (Some(TokenTree::Punct(pound)), Some(TokenTree::Group(body))) =
            (self.peek_at(0), self.peek_at(1))
        {
            if pound.as_char() != '#' || body.delimiter() != Delimiter::Bracket {
                break;
            }
            attrs.push(Attribute {
                pound: pound.clone(),
                body: body.clone(),
            });
            self.pos += 2;
        }
        attrs
    }

    /// A visibility, possibly none.
    fn visibility(&mut self) -> Result<Visibility> {
        let pub_token = match self.peek_at(0) {
            Some(TokenTree::Ident(ident)) if ident == "pub" => ident.clone(),
            _ => return Ok(Visibility::Inherited),
        };
        self.pos += 1;
        let Some(TokenTree::Group(group)) = self.peek_at(0) else {
            return Ok(Visibility::Public(pub_token));
        };
        if group.delimiter() != Delimiter::Parenthesis {
            return Ok(Visibility::Public(pub_token));
        }
        let group = group.clone();
        let mut inner = Cursor::new(group.stream(), group.span_close());
        let path = match inner.peek_at(0) {
            Some(TokenTree::Ident(first)) if first == "in" => {
                inner.pos += 1;
                inner.path()?
            }
            Some(TokenTree::Ident(first))
                if (first == "crate" || first == "self" || first == "super")
                    && inner.tokens.len() == 1 =>
            {
                vec![first.clone()]
            }
            // `pub (Type)` in a tuple state: the parentheses are the type's.
            _ => return Ok(Visibility::Public(pub_token)),
        };
        self.pos += 1;
        Ok(Visibility::Restricted {
            pub_token,
            group,
            path,
        })
    }

    /// `a::b::c`, the rest of the cursor.
    fn path(&mut self) -> Result<Vec<Ident>> {
        let mut segments = vec![self.ident()?];
        while !self.is_empty() {
            let colons = (self.peek_at(0), self.peek_at(1));
            let is_path_sep = matches!(colons,
                (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                    if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':');
            if !is_path_sep {
                return Err(self.error("expected `::`"));
            }
            self.pos += 2;
            segments.push(self.ident()?);
        }
        Ok(segments)
    }

    /// `A | B | C`: one or more names.
    fn alternatives(&mut self) -> Result<Vec<Ident>> {
        let mut names = vec![self.ident()?];
        while self.eat_punct('|') {
            names.push(self.ident()?);
        }
        Ok(names)
    }

    /// Splits the rest at commas outside angle brackets, into one cursor per item; a
    /// trailing comma is allowed.
    fn comma_separated(&mut self) -> Vec<Cursor> {
        let mut items = Vec::new();
        while !self.is_empty() {
            let item = self.up_to_comma();
            let end = self.span();
            items.push(Cursor::new(item, end));
            self.eat_punct(',');
        }
        items
    }
}

/// Parses the whole input of `machine!`.
pub(crate) fn parse(input: TokenStream) -> Result<MachineDecl> {
    let mut input = Cursor::new(input, Span::call_site());
    let attrs = input.attributes();
    let vis = input.visibility()?;
    let name = input.ident()?;
    let mut body = input.group(Delimiter::Brace, "curly braces")?;

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
        if let Err(error) = decl.parse_entry(&mut body, &mut seen) {
            decl.item_errors.push(error);
            skip_to_next_key(&mut body);
        }
    }
    if !seen.iter().any(|key| key == "states") {
        decl.item_errors.push(Error::new(
            decl.name.span(),
            "a machine needs `states: { ... }`",
        ));
    }
    if !input.is_empty() {
        return Err(input.error("one machine per `machine!` call"));
    }
    Ok(decl)
}

/// After a malformed entry, skips to the comma before the next `key:`, so that the other
/// entries are still read and their errors reported.
fn skip_to_next_key(body: &mut Cursor) {
    while !body.is_empty() {
        let next_is_key = body.is_ident_at(1) && body.is_punct_at(2, ':');
        if body.is_punct(',') && next_is_key {
            body.pos += 1;
            return;
        }
        body.pos += 1;
    }
}

impl MachineDecl {
    /// One `key: value,` entry. A key given twice is an error, and its value is skipped.
    fn parse_entry(&mut self, body: &mut Cursor, seen: &mut Vec<String>) -> Result<()> {
        let key = body.ident()?;
        body.expect_punct(':')?;
        let name = key.to_string();
        if seen.contains(&name) {
            return Err(Error::new(key.span(), format!("`{key}` is given twice")));
        }
        seen.push(name);
        self.parse_value(&key, body)?;
        if !body.is_empty() {
            body.expect_punct(',')?;
        }
        Ok(())
    }

    fn parse_value(&mut self, key: &Ident, input: &mut Cursor) -> Result<()> {
        match key.to_string().as_str() {
            "context" => self.context = Some(input.type_tokens()?),
            "initial" => self.initial = Some(input.ident()?),
            "final" => self.finals = input.alternatives()?,
            "transitions" => self.transitions = Some(input.visibility()?),
            "serde" => self.serde = parse_bool(input)?.then(|| key.span()),
            "states" => self.states = parse_block(input, &mut self.item_errors, state)?,
            "edges" => self.edges = parse_block(input, &mut self.item_errors, edge)?,
            "capabilities" => {
                self.capabilities = parse_block(input, &mut self.item_errors, capability)?;
            }
            _ => {
                return Err(Error::new(
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

fn parse_bool(input: &mut Cursor) -> Result<bool> {
    match input.peek_at(0) {
        Some(TokenTree::Ident(word)) if word == "true" || word == "false" => {
            let value = word == "true";
            input.pos += 1;
            Ok(value)
        }
        _ => Err(input.error("expected `true` or `false`")),
    }
}

/// `{ item, item, ... }` with an optional trailing comma.
///
/// Each item is parsed on its own, up to the next comma, so that one malformed edge is
/// reported without losing the others (and the states the rest of the program refers
/// to).
fn parse_block<T>(
    input: &mut Cursor,
    errors: &mut Vec<Error>,
    item: fn(&mut Cursor) -> Result<T>,
) -> Result<Vec<T>> {
    let mut content = input.group(Delimiter::Brace, "curly braces")?;
    let mut items = Vec::new();
    for mut tokens in content.comma_separated() {
        match item(&mut tokens).and_then(|parsed| tokens.finish().map(|()| parsed)) {
            Ok(parsed) => items.push(parsed),
            Err(error) => errors.push(error),
        }
    }
    Ok(items)
}

fn state(input: &mut Cursor) -> Result<StateDecl> {
    let attrs = input.attributes();
    let name = input.ident()?;
    let fields = match input.peek_at(0) {
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
            let mut body = input.group(Delimiter::Brace, "curly braces")?;
            Fields::Named(fields(&mut body, true)?)
        }
        Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Parenthesis => {
            let mut body = input.group(Delimiter::Parenthesis, "parentheses")?;
            Fields::Unnamed(fields(&mut body, false)?)
        }
        _ => Fields::Unit,
    };
    Ok(StateDecl {
        attrs,
        name,
        fields,
    })
}

/// `name: Type, ...` (named) or `Type, ...` (a tuple state), each with attributes and a
/// visibility.
fn fields(body: &mut Cursor, named: bool) -> Result<Vec<Field>> {
    let mut fields = Vec::new();
    for mut item in body.comma_separated() {
        let attrs = item.attributes();
        let vis = item.visibility()?;
        let ident = if named {
            let ident = item.ident()?;
            item.expect_punct(':')?;
            Some(ident)
        } else {
            None
        };
        let ty = item.type_tokens()?;
        item.finish()?;
        fields.push(Field {
            attrs,
            vis,
            ident,
            ty,
        });
    }
    Ok(fields)
}

fn edge(input: &mut Cursor) -> Result<EdgeDecl> {
    let attrs = input.attributes();
    let from = input.alternatives()?;
    if !input.eat_punct('+') {
        return Err(input.error("expected `+ event => Target` after the source state"));
    }
    let event = input.ident()?;
    if !input.is_fat_arrow() {
        return Err(input.error("expected `=> Target` after the event"));
    }
    input.pos += 2;
    let to = input.ident()?;
    Ok(EdgeDecl {
        attrs,
        from,
        event,
        to,
    })
}

fn capability(input: &mut Cursor) -> Result<CapabilityDecl> {
    let attrs = input.attributes();
    let name = input.ident()?;
    input.expect_punct(':')?;
    let mut list = input.group(Delimiter::Bracket, "square brackets")?;
    let mut states = Vec::new();
    for mut item in list.comma_separated() {
        states.push(item.ident()?);
        item.finish()?;
    }
    Ok(CapabilityDecl {
        attrs,
        name,
        states,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decl(source: &str) -> MachineDecl {
        let tokens: TokenStream = source.parse().expect("the source lexes");
        match parse(tokens) {
            Ok(decl) => decl,
            Err(error) => panic!("does not parse: {error}"),
        }
    }

    #[test]
    fn reads_every_part_of_a_declaration() {
        let decl = decl(
            "/// Docs.
             pub(crate) Door {
                 context: std::collections::HashMap<u8, Vec<u8>>,
                 initial: Closed,
                 final: Gone | Lost,
                 transitions: pub(in crate::a),
                 serde: true,
                 states: {
                     Open,
                     Locked { pub code: u16, tries: Option<fn(u8) -> u8> },
                     Pair(u8, pub(crate) u16),
                 },
                 edges: { /// An edge.
                          Open | Locked + shut => Closed, },
                 capabilities: { knock: [Open, Locked,] },
             }",
        );
        assert_eq!(decl.attrs[0].doc().as_deref(), Some(" Docs."));
        assert!(matches!(&decl.vis, Visibility::Restricted { path, .. } if path[0] == "crate"));
        let context = decl.context.expect("context").to_string();
        assert!(context.starts_with("std"), "{context}");
        assert!(context.ends_with('>'), "{context}");
        assert_eq!(decl.finals.len(), 2);
        let Some(Visibility::Restricted { path, .. }) = &decl.transitions else {
            panic!("transitions visibility");
        };
        assert_eq!(path.len(), 2);
        assert!(decl.serde.is_some());
        assert_eq!(decl.states.len(), 3);
        let Fields::Named(fields) = &decl.states[1].fields else {
            panic!("named fields");
        };
        assert_eq!(fields.len(), 2);
        assert!(fields[1].ty.to_string().contains("->"));
        let Fields::Unnamed(fields) = &decl.states[2].fields else {
            panic!("tuple fields");
        };
        assert!(matches!(fields[1].vis, Visibility::Restricted { .. }));
        assert_eq!(decl.edges[0].from.len(), 2);
        assert_eq!(decl.edges[0].attrs[0].doc().as_deref(), Some(" An edge."));
        assert_eq!(decl.capabilities[0].states.len(), 2);
        assert!(decl.item_errors.is_empty());
    }

    #[test]
    fn a_malformed_item_is_reported_and_the_others_kept() {
        let decl = decl("M { initial: A, states: { A, B }, edges: { A => B, A + go => B } }");
        assert_eq!(decl.edges.len(), 1);
        assert_eq!(decl.item_errors.len(), 1);
        assert_eq!(
            decl.item_errors[0].to_string(),
            "expected `+ event => Target` after the source state"
        );
    }

    /// The errors of a declaration, whether the whole failed or only some items.
    fn errors(source: &str) -> Vec<String> {
        let tokens: TokenStream = source.parse().expect("the source lexes");
        match parse(tokens) {
            Ok(decl) => decl.item_errors.iter().map(ToString::to_string).collect(),
            Err(error) => vec![error.to_string()],
        }
    }

    #[test]
    fn malformed_declarations_are_errors_not_panics() {
        let cases = [
            "",
            "pub",
            "A",
            "A ( )",
            "A { } B { }",
            "A { states }",
            "A { states: }",
            "A { states: X }",
            "A { states: { X { a: } } }",
            "A { states: { X { : u8 } } }",
            "A { states: { X(pub) } }",
            "A { states: { X, }, context: , }",
            "A { states: { X }, edges: { + e => B } }",
            "A { states: { X }, edges: { X + => B } }",
            "A { states: { X }, edges: { X + e => } }",
            "A { states: { X }, edges: { X + e = > B } }",
            "A { states: { X }, capabilities: { k: X } }",
            "A { states: { X }, capabilities: { k: [X Y] } }",
            "A { states: { X }, serde: maybe }",
            "A { states: { X }, transitions: pub(in) }",
            "A { states: { X }, transitions: pub(in crate::) }",
            "A { states: { X }, initial: 3 }",
            "A { states: { X }, final: X | }",
            "A { 3: X, states: { X } }",
            "A { states: { X }, states: { Y } }",
        ];
        for source in cases {
            assert!(!errors(source).is_empty(), "no error for {source:?}");
        }
    }

    #[test]
    fn string_literals_are_read_as_the_compiler_wrote_them() {
        assert_eq!(string_value(r#""a\"b\n""#).as_deref(), Some("a\"b\n"));
        assert_eq!(
            string_value(r###"r#"x "y" z"#"###).as_deref(),
            Some("x \"y\" z")
        );
        assert_eq!(string_value(r#""\u{2192}""#).as_deref(), Some("→"));
        assert_eq!(string_value("1u8"), None);
    }
}
