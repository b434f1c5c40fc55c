//! The state diagrams in the documentation are the ones the machine declaration
//! generates, so that neither can go stale: the crate docs (`src/lib.rs`) and the user
//! page (`docs/breaker.md`) must each hold `Spec::MERMAID` verbatim.

use std::fs;
use std::path::Path;

use breaker_fsm::breaker::Spec;
use fsm_core::Machine;

/// The body of the first ```` ```mermaid ```` block in `text`, each line with `prefix`
/// (such as `//! `) removed.
fn mermaid_block<'a>(text: &'a str, prefix: &str) -> Option<String> {
    let unprefix = |line: &'a str| -> &'a str {
        if prefix.is_empty() {
            return line;
        }
        // An empty doc line is written `//!`, without the trailing space.
        line.strip_prefix(prefix)
            .or_else(|| line.strip_prefix(prefix.trim_end()))
            .unwrap_or(line)
    };
    let mut lines = text.lines().map(unprefix);
    lines.by_ref().find(|line| line.trim() == "```mermaid")?;
    let mut body = String::new();
    for line in lines {
        if line.trim() == "```" {
            return Some(body);
        }
        body.push_str(line);
        body.push('\n');
    }
    None
}

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn the_generated_diagram_matches_the_transition_table() {
    assert_eq!(Spec::MERMAID, Spec::TABLE.mermaid().to_string());
}

#[test]
fn the_crate_docs_show_the_generated_diagram() {
    let docs = mermaid_block(&read("src/lib.rs"), "//! ").expect("a mermaid block in src/lib.rs");
    assert_eq!(
        docs,
        Spec::MERMAID,
        "paste Spec::MERMAID into the crate docs"
    );
}

#[test]
fn the_user_page_shows_the_generated_diagram() {
    let page =
        mermaid_block(&read("../docs/breaker.md"), "").expect("a mermaid block in docs/breaker.md");
    assert_eq!(
        page,
        Spec::MERMAID,
        "paste Spec::MERMAID into docs/breaker.md"
    );
}
