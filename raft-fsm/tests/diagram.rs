//! The role diagram in the crate documentation and in `docs/raft.md` is the one
//! `machine!` generates from the declaration, so that neither can drift from the code.

use raft_fsm::role::Spec;

/// The lines of the first ```` ```mermaid ```` block in `text`, with `prefix` removed
/// from each line.
fn mermaid_block(text: &str, prefix: &str) -> Option<String> {
    let mut lines = text
        .lines()
        .map(|line| line.strip_prefix(prefix).unwrap_or(line).trim_end());
    lines.by_ref().find(|line| *line == "```mermaid")?;
    let body: Vec<&str> = lines.take_while(|line| *line != "```").collect();
    Some(body.join("\n") + "\n")
}

fn read(relative: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_generated_diagram_is_the_table_rendered() {
    use fsm_core::Machine as _;
    assert_eq!(Spec::MERMAID, Spec::TABLE.mermaid().to_string());
}

#[test]
fn the_crate_docs_show_the_generated_diagram() {
    let docs = mermaid_block(&read("src/lib.rs"), "//! ").expect("a mermaid block in lib.rs");
    assert_eq!(docs.trim_end(), Spec::MERMAID.trim_end());
}

#[test]
fn docs_raft_md_shows_the_generated_diagram() {
    let page = mermaid_block(&read("../docs/raft.md"), "").expect("a mermaid block in raft.md");
    assert_eq!(page.trim_end(), Spec::MERMAID.trim_end());
}
