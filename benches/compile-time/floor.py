#!/usr/bin/env python3
"""How cheap could the generated machine get? A floor for the compile-time targets.

Usage: python3 benches/compile-time/floor.py [ROUNDS]     (ROUNDS of warm checks: 11)

Run measure.sh first: this reads the expansion of the `ours` crate it leaves in
CT_DIR/ours/expanded.rs (the macro's output after every macro and derive has run) and
writes, beside it, crates whose library is that expansion as source, cut down one kind of
item at a time:

  written         the expansion as it is: what the check costs without the macro's run
  inherent        the generic per-event move methods replaced by the hand-written
                  variant's form, concrete methods in one inherent impl per state
  no-edge-impls   and the 300 `Edge` impls removed
  no-event-ids    and the 300 `EventType` impls (each event's id) removed
  bare            and the 300 event types removed

Every cut drops something the declaration promises, so none of them is a design to
ship; they bound what any design that keeps those items can cost. `inherent` loses the
legal-moves error on a wrong method call (it becomes "no method named ..."), the edge
impls are what `transition` checks and what names the legal moves, and the event types
key the edges and seal them against other crates.

For each of hand, ours and the variants it prints the instructions rustc executes for the
library's warm check (counted by instructions.sh), the median wall-clock of ROUNDS warm
`cargo check`s (taken in rounds, one check of every crate per round, so that drift on
the machine hits all of them alike) and the bytes of expanded code. The variants are checked with RUSTC_BOOTSTRAP=1: expanded
derives name the standard library's internal features, which this script enables.
"""

import os
import re
import shutil
import statistics
import subprocess
import sys
import time

SCRIPT_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(SCRIPT_DIR))
CT_DIR = os.environ.get(
    "CT_DIR",
    os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(REPO, "target")), "compile-time"),
)

# An edge impl as the pretty-printer writes it, and the event id impl.
EDGE_IMPL = re.compile(
    r"    impl Edge<event::(e\d+), \([^)]*\)> for (S\d+) \{\n        type To = (S\d+);\n    \}\n"
)
EVENT_ID_IMPL = re.compile(
    r"    impl sealed::EventType for event::e\d+ \{\n        const ID: EventId = EventId::E\d+;\n    \}\n"
)
EVENT_TYPE = re.compile(r"        pub struct e\d+;\n")
MOVES = re.compile(r"type Moves = \([^)]*\);")

METHODS_START = "    impl<S: BigState, H: ::fsm_core::Recorder<Spec>> Big<S, H> {\n        #[doc = \"Takes the `e0`"
METHODS_END = "\n    }\n}\npub fn run"

VARIANTS = ["written", "inherent", "no-edge-impls", "no-event-ids", "bare"]


def log(message):
    print(message, file=sys.stderr, flush=True)


def inherent_methods(source, edges):
    """Replaces the block of generic move methods with one inherent impl per state."""
    start = source.index(METHODS_START)
    end = source.index(METHODS_END, start) + len("\n    }\n")

    by_state = {}
    for event, source_state, target in edges:
        by_state.setdefault(source_state, []).append((event, target))

    blocks = []
    for state, moves in by_state.items():
        methods = "".join(
            f'        #[doc = "Takes the `{event}` edge: `{state}` → `{target}`."]\n'
            f"        #[inline(always)]\n"
            f"        pub fn {event}(self) -> Big<{target}, H> {{ self.enter(EventId::E{event[1:]}, {target}) }}\n"
            for event, target in moves
        )
        blocks.append(f"    impl<H: ::fsm_core::Recorder<Spec>> Big<{state}, H> {{\n{methods}    }}\n")
    return source[:start] + "".join(blocks) + source[end:]


def count(pattern, source, expected):
    found = len(pattern.findall(source))
    if found != expected:
        sys.exit(f"expected {expected} matches of {pattern.pattern!r} in the expansion, found {found}")


def variants(expansion):
    """The variants' library sources, in order, each cutting one more kind of item."""
    edges = EDGE_IMPL.findall(expansion)
    if len(edges) != 300:
        sys.exit(f"expected the 300 edge impls of the 100-state machine, found {len(edges)}")
    count(EVENT_ID_IMPL, expansion, 300)
    count(EVENT_TYPE, expansion, 300)

    source = expansion
    yield "written", source
    source = inherent_methods(source, edges)
    yield "inherent", source
    source = EDGE_IMPL.sub("", source)
    yield "no-edge-impls", source
    source = EVENT_ID_IMPL.sub("", source)
    yield "no-event-ids", source
    source = MOVES.sub("type Moves = ();", EVENT_TYPE.sub("", source))
    yield "bare", source


def check(directory, bootstrap):
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(directory, "target-warm"))
    if bootstrap:
        env["RUSTC_BOOTSTRAP"] = "1"
    return subprocess.run(
        ["cargo", "check", "--offline", "-q"], cwd=directory, env=env, capture_output=True, text=True
    )


def enable_features(directory, body):
    """Writes the library with the internal features its expanded derives need."""
    features = set()
    while True:
        header = "#![allow(internal_features, unused_imports)]\n"
        if features:
            header = f"#![feature({', '.join(sorted(features))})]\n" + header
        with open(os.path.join(directory, "src", "lib.rs"), "w") as out:
            out.write(header + body)
        result = check(directory, bootstrap=True)
        if result.returncode == 0:
            return
        wanted = set(re.findall(r"add `#!\[feature\(([a-z_0-9]+)\)\]`", result.stderr))
        if not wanted - features:
            sys.exit(f"{directory} does not compile:\n{result.stderr[-4000:]}")
        features |= wanted


def write_variants():
    ours = os.path.join(CT_DIR, "ours")
    with open(os.path.join(ours, "expanded.rs")) as expanded:
        text = expanded.read()
    # Drop the pretty-printer's prelude lines: the crate gets its prelude as usual.
    body = re.sub(r"\A#!\[feature\(prelude_import\)\]\n(.*\n)*?use std::prelude::rust_2024::\*;\n", "", text)

    for name, source in variants(body):
        directory = os.path.join(CT_DIR, f"floor-{name}")
        os.makedirs(os.path.join(directory, "src"), exist_ok=True)
        with open(os.path.join(ours, "Cargo.toml")) as manifest:
            toml = manifest.read().replace('"ct-ours"', f'"ct-floor-{name}"')
        with open(os.path.join(directory, "Cargo.toml"), "w") as out:
            out.write(toml)
        shutil.copy(os.path.join(ours, "src", "main.rs"), os.path.join(directory, "src"))
        log(f"== floor-{name}: writing and checking")
        enable_features(directory, source)
        yield f"floor-{name}", directory, len(source.encode())


def instructions(names, bootstrap):
    """Millions of instructions per crate in `names`, counted by instructions.sh."""
    env = dict(os.environ, CT_DIR=CT_DIR)
    if bootstrap:
        env["RUSTC_BOOTSTRAP"] = "1"
    script = os.path.join(SCRIPT_DIR, "instructions.sh")
    result = subprocess.run(["bash", script, *names], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"instructions.sh failed:\n{result.stderr[-2000:]}")
    return {name: int(count) for name, count in map(str.split, result.stdout.splitlines())}


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 11
    crates = []
    for name in ["hand", "ours"]:
        directory = os.path.join(CT_DIR, name)
        expanded = os.path.getsize(os.path.join(directory, "expanded.rs"))
        crates.append((name, directory, expanded, False))
        if check(directory, bootstrap=False).returncode != 0:
            sys.exit(f"{directory} does not check: run measure.sh first")
    for name, directory, size in write_variants():
        crates.append((name, directory, size, True))

    log("== instructions")
    counts = instructions([name for name, *_, bootstrap in crates if not bootstrap], False)
    counts |= instructions([name for name, *_, bootstrap in crates if bootstrap], True)

    times = {name: [] for name, *_ in crates}
    for round_ in range(rounds):
        log(f"== warm checks, round {round_ + 1} of {rounds}")
        for name, directory, _, bootstrap in crates:
            os.utime(os.path.join(directory, "src", "lib.rs"))
            start = time.monotonic()
            check(directory, bootstrap)
            times[name].append(time.monotonic() - start)

    hand_count = counts["hand"]
    hand_time = statistics.median(times["hand"])
    hand_size = crates[0][2]
    print("| crate | instructions (millions) | vs hand | warm check (s) | vs hand | expanded (bytes) | vs hand |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, _, size, _ in crates:
        median = statistics.median(times[name])
        print(
            f"| {name} | {counts[name]} | {counts[name] / hand_count:.2f}x "
            f"| {median:.3f} | {median / hand_time:.2f}x | {size:,} | {size / hand_size:.2f}x |"
        )


if __name__ == "__main__":
    main()
