//! Keeps `docs/compile-fail.md` in step with the cases in `tests/ui` and `tests/pass`.
//!
//! The page is rendered from the case files alone: the file name, the rule from the file's
//! leading `//` comment, and the first lines of the error from its `.stderr`. The test fails
//! when the page on disk differs from the rendering; run it with `UPDATE_DOCS=1` to write
//! the page instead. It also fails when a compile-fail case has no leading comment or no
//! `.stderr`, since such a case would document nothing.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// How to regenerate the page, quoted in failure messages.
const REGENERATE: &str = "UPDATE_DOCS=1 cargo test -p ui-tests --test docs";

/// How many lines of each `.stderr` the page shows.
const ERROR_LINES: usize = 8;

/// Titles of the groups of cases, by the first word of their file names. Cases with any
/// other first word are grouped under that word.
const GROUPS: &[(&str, &str)] = &[
    ("breaker", "Circuit breaker"),
    ("connection", "`Connection`: a TCP-style connection"),
    ("door", "`Door`: illegal moves and their relatives"),
    ("layout", "Layout: what a state may add to the machine"),
    ("payment", "`Payment`: moves restricted with `transitions:`"),
    ("role", "`Role`: a Raft server's role"),
    (
        "sealing",
        "Sealing: no states, edges, events or capabilities from outside",
    ),
    ("transition", "The `transition` primitive"),
    ("validate", "Checks on the declaration itself"),
];

/// One case file, read.
struct Case {
    /// The file name, such as `door-open-when-locked.rs`.
    file: String,
    /// The text of the leading comment, one entry per line, without the `//`.
    rule: Vec<String>,
    /// The expected compiler output, for compile-fail cases.
    stderr: Option<String>,
}

fn crate_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn page_path() -> PathBuf {
    crate_dir().join("../docs/compile-fail.md")
}

/// The `.rs` files directly in `tests/<dir>`, sorted by name.
fn rust_files(dir: &str) -> Vec<PathBuf> {
    let dir = crate_dir().join("tests").join(dir);
    let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("reading a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect();
    files.sort();
    files
}

/// The lines of the comment that opens `source`: consecutive `//` lines at the very top.
fn leading_comment(source: &str) -> Vec<String> {
    source
        .lines()
        .map_while(|line| line.trim_end().strip_prefix("//"))
        .map(|text| text.strip_prefix(' ').unwrap_or(text).to_owned())
        .collect()
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned()
}

fn read(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        .replace("\r\n", "\n")
}

/// Reads every case in `tests/<dir>`; with `compile_fail`, also its `.stderr`.
fn read_cases(dir: &str, compile_fail: bool) -> Vec<Case> {
    rust_files(dir)
        .into_iter()
        .map(|path| {
            let stderr_path = path.with_extension("stderr");
            Case {
                file: file_name(&path),
                rule: leading_comment(&read(&path)),
                stderr: (compile_fail && stderr_path.is_file()).then(|| read(&stderr_path)),
            }
        })
        .collect()
}

/// What makes a compile-fail case undocumented: no leading comment, no `.stderr`; and a
/// `.stderr` left behind without its case.
fn problems(cases: &[Case]) -> Vec<String> {
    let mut problems = Vec::new();
    for case in cases {
        if case.rule.iter().all(|line| line.trim().is_empty()) {
            problems.push(format!(
                "tests/ui/{} does not open with a `//` comment explaining its rule",
                case.file
            ));
        }
        if case.stderr.is_none() {
            problems.push(format!(
                "tests/ui/{} has no .stderr beside it; generate it with \
                 `TRYBUILD=overwrite cargo test -p ui-tests --test ui` and read it",
                case.file
            ));
        }
    }
    let dir = crate_dir().join("tests/ui");
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.expect("reading a directory entry").path();
        if path.extension().is_some_and(|ext| ext == "stderr")
            && !path.with_extension("rs").is_file()
        {
            problems.push(format!(
                "tests/ui/{} has no case beside it",
                file_name(&path)
            ));
        }
    }
    problems.sort();
    problems
}

/// The rule as Markdown paragraphs: comment lines joined, blank comment lines kept as breaks.
fn paragraphs(rule: &[String]) -> String {
    let mut out = String::new();
    for block in rule.split(|line| line.trim().is_empty()) {
        if block.is_empty() {
            continue;
        }
        let words: Vec<&str> = block.iter().map(|line| line.trim()).collect();
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&words.join(" "));
    }
    out
}

/// The group a case belongs to: the first word of its file name.
fn group_of(file: &str) -> &str {
    let stem = file.strip_suffix(".rs").unwrap_or(file);
    stem.split('-').next().unwrap_or(stem)
}

fn group_title(group: &str) -> String {
    GROUPS
        .iter()
        .find(|(word, _)| *word == group)
        .map_or_else(|| format!("`{group}-*`"), |(_, title)| (*title).to_owned())
}

/// A Markdown anchor for a heading, as GitHub makes it.
fn anchor(heading: &str) -> String {
    heading
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => Some(c),
            ' ' => Some('-'),
            _ => None,
        })
        .collect()
}

fn render(failing: &[Case], passing: &[Case]) -> String {
    let mut groups: Vec<(&str, Vec<&Case>)> = Vec::new();
    for case in failing {
        let group = group_of(&case.file);
        match groups.iter_mut().find(|(name, _)| *name == group) {
            Some((_, cases)) => cases.push(case),
            None => groups.push((group, vec![case])),
        }
    }

    let mut page = String::new();
    let _ = writeln!(
        page,
        "<!-- Generated by ui-tests/tests/docs.rs from the files in ui-tests/tests; do not edit.\n     \
         Regenerate with `{REGENERATE}`. -->\n"
    );
    page.push_str(
        "# What does not compile\n\n\
         `fsm_core::machine!` turns the rules of a state machine into rules the compiler \
         checks: an illegal move, a capability used in the wrong state, a way around the \
         declared edges, or a mistake in the declaration itself is a compile error. This \
         page lists every compile-fail case of the `ui-tests` crate. Each case is one short \
         file in `ui-tests/tests/ui` that breaks one rule; below are the rule, in the words \
         of the comment that opens the file, and the beginning of the error the compiler \
         gives, from the `.stderr` file beside the case (which the tests compare in full).\n\n\
         The machines the cases misuse (`Door`, `Connection`, `Role`, `Payment`) are declared \
         in `ui-tests/src/lib.rs`. Exact messages depend on the compiler version.\n\n",
    );
    let _ = writeln!(
        page,
        "{} compile-fail cases, {} passing cases.\n",
        failing.len(),
        passing.len()
    );

    for (group, cases) in &groups {
        let title = group_title(group);
        let _ = writeln!(page, "- [{title}](#{}): {}", anchor(&title), cases.len());
    }
    page.push_str("- [Cases that compile](#cases-that-compile)\n");
    page.push_str("- [The example machines](#the-example-machines)\n");

    for (group, cases) in &groups {
        let _ = writeln!(page, "\n## {}", group_title(group));
        for case in cases {
            let stem = case.file.strip_suffix(".rs").unwrap_or(&case.file);
            let _ = writeln!(
                page,
                "\n### `{stem}`\n\n{}\n\n[case](../ui-tests/tests/ui/{}) · \
                 [full error](../ui-tests/tests/ui/{stem}.stderr)\n",
                paragraphs(&case.rule),
                case.file,
            );
            let stderr = case.stderr.as_deref().unwrap_or_default();
            let lines: Vec<&str> = stderr.lines().collect();
            page.push_str("```text\n");
            for line in lines.iter().take(ERROR_LINES) {
                let _ = writeln!(page, "{}", line.trim_end());
            }
            if lines.len() > ERROR_LINES {
                page.push_str("...\n");
            }
            page.push_str("```\n");
        }
    }

    page.push_str(
        "\n## Cases that compile\n\n\
         The files in `ui-tests/tests/pass` must compile and run; they show the legal \
         counterparts of the cases above.\n",
    );
    for case in passing {
        let stem = case.file.strip_suffix(".rs").unwrap_or(&case.file);
        let _ = writeln!(page, "\n### `{stem}`\n");
        let rule = paragraphs(&case.rule);
        if !rule.is_empty() {
            let _ = writeln!(page, "{rule}\n");
        }
        let _ = writeln!(page, "[case](../ui-tests/tests/pass/{})", case.file);
    }
    render_machines(&mut page);
    page
}

/// The diagrams of the machines the cases use, as the macro rendered them.
fn render_machines(page: &mut String) {
    page.push_str(
        "\n## The example machines\n\n\
         Declared in `ui-tests/src/lib.rs`; each diagram is the one `machine!` wrote into the \
         machine's rustdoc.\n",
    );
    let machines = [
        ("Door", ui_tests::door::Spec::MERMAID),
        ("Connection", ui_tests::connection::Spec::MERMAID),
        ("Role", ui_tests::role::Spec::MERMAID),
        ("Payment", ui_tests::payment::Spec::MERMAID),
    ];
    for (name, mermaid) in machines {
        let _ = write!(page, "\n### `{name}`\n\n```mermaid\n{mermaid}```\n");
    }
}

/// The first line where `a` and `b` differ, counting from 1.
fn first_difference(a: &str, b: &str) -> usize {
    let mut a_lines = a.lines();
    let mut b_lines = b.lines();
    let mut line = 1;
    loop {
        match (a_lines.next(), b_lines.next()) {
            (Some(x), Some(y)) if x == y => line += 1,
            _ => return line,
        }
    }
}

/// The compile-fail cases, after checking that each documents its rule.
fn documented_cases() -> Vec<Case> {
    let cases = read_cases("ui", true);
    let problems = problems(&cases);
    assert!(
        problems.is_empty(),
        "compile-fail cases that document nothing:\n  {}",
        problems.join("\n  ")
    );
    cases
}

#[test]
fn every_compile_fail_case_is_documented() {
    documented_cases();
}

#[test]
fn compile_fail_page_is_current() {
    let failing = documented_cases();
    let passing = read_cases("pass", false);
    let page = render(&failing, &passing);
    let path = page_path();

    if std::env::var_os("UPDATE_DOCS").is_some_and(|value| !value.is_empty() && value != "0") {
        fs::write(&path, &page).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let on_disk = fs::read_to_string(&path)
        .unwrap_or_default()
        .replace("\r\n", "\n");
    assert!(
        on_disk == page,
        "docs/compile-fail.md is not the rendering of ui-tests/tests (first difference at line \
         {}); regenerate it with `{REGENERATE}` and commit the result",
        first_difference(&on_disk, &page)
    );
}
