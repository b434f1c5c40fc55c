#!/usr/bin/env bash
# Compile-time cost of one large machine, written with typestate-fsm and with its peers.
#
# Usage: benches/compile-time/measure.sh [VARIANT...]
#   VARIANT: hand ours rust-fsm statig statum sm   (default: all, in that order)
#
# Environment (all optional):
#   CT_DIR      scratch directory   (default: $CARGO_TARGET_DIR/compile-time, or
#                                    <repo>/target/compile-time)
#   WARM_RUNS   warm `cargo check` runs per variant, median reported   (default: 5)
#   COLD_RUNS   cold `cargo build` runs per variant, median reported   (default: 1)
#   OFFLINE=1   pass --offline to cargo (after a first run has fetched everything)
#
# For every variant it generates, under CT_DIR/<variant>, a crate holding ONE machine of
# 100 states and 300 edges. The graph is the same for every variant: state S<i> has three
# edges, on events e<3i>, e<3i+1>, e<3i+2>, to S<(i+1)%100>, S<(i+7)%100> and
# S<(i+31)%100>; S0 is initial. Every state is reachable, every event is used once, and in
# each state 297 of the 300 events are illegal (left without effect at run time).
#
# Each crate has the machine in src/lib.rs with a `run` function that takes three typed
# steps where the library has typed steps (S0 -e0-> S1 -e4-> S8 -e26-> S39, for rust-fsm
# and statig through their run-time API), then feeds run-time events and prints the
# discriminant of the final state; src/main.rs (the same for every variant) passes the
# command-line numbers to `run`.
#
# Measured, per variant:
#   warm check   median of WARM_RUNS x (touch src/lib.rs; cargo check), dependencies built
#   cold build   `cargo build` (dev profile) from an empty CARGO_TARGET_DIR of its own, so
#                including the macro's dependencies (syn, ...); sources fetched beforehand
#   expanded     bytes of `cargo rustc --lib --profile=check -- -Zunpretty=expanded`
#                (RUSTC_BOOTSTRAP=1), and bytes of the hand-written source for reference
#   binary       size of the stripped `--release` binary, and its growth over `hand`
#
# Prints a Markdown table on stdout (progress goes to stderr). Not run in CI: it takes
# several minutes. Timings are wall-clock: run it on an otherwise idle machine.

set -euo pipefail

ALL_VARIANTS=(hand ours rust-fsm statig statum sm)
N_STATES=100
WARM_RUNS=${WARM_RUNS:-5}
COLD_RUNS=${COLD_RUNS:-1}

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/../.." && pwd)
FSM_CORE="$REPO/fsm-core"
CT_DIR=${CT_DIR:-${CARGO_TARGET_DIR:-$REPO/target}/compile-time}

# Peer versions: the same requirements as benches/Cargo.toml.
RUST_FSM_REQ='"0.8"'
STATIG_REQ='"0.4"'
STATUM_REQ='"0.9"'
SM_REQ='"0.9"'

CARGO_FLAGS=()
if [[ "${OFFLINE:-0}" == 1 ]]; then
    CARGO_FLAGS+=(--offline)
fi

log() { printf '%s\n' "$*" >&2; }

if [[ $# -gt 0 ]]; then
    VARIANTS=("$@")
else
    VARIANTS=("${ALL_VARIANTS[@]}")
fi
for v in "${VARIANTS[@]}"; do
    case " ${ALL_VARIANTS[*]} " in
        *" $v "*) ;;
        *) log "unknown variant '$v' (known: ${ALL_VARIANTS[*]})"; exit 2 ;;
    esac
done

# --- The graph ------------------------------------------------------------------------

# target STATE K: the target of edge K (0, 1, 2) of state STATE.
target() {
    local offsets=(1 7 31)
    echo $(( ($1 + offsets[$2]) % N_STATES ))
}

# Incoming edges per state, as "event:source" words; used by variants whose run-time
# form has one enum variant per (state, event that led there).
declare -a INCOMING
for ((i = 0; i < N_STATES; i++)); do INCOMING[i]=""; done
for ((i = 0; i < N_STATES; i++)); do
    for k in 0 1 2; do
        t=$(target "$i" "$k")
        INCOMING[t]+=" $((3 * i + k)):$i"
    done
done

N_EVENTS=$((3 * N_STATES))

# Common pieces of the generated sources.

# A user-level event enum E0..E299 and the array EVENTS indexing it.
user_events() {
    local i
    echo '#[derive(Clone, Copy, PartialEq, Eq)]'
    echo 'pub enum Event {'
    for ((i = 0; i < N_EVENTS; i++)); do echo "    E$i,"; done
    echo '}'
    echo
    echo "pub const EVENTS: [Event; $N_EVENTS] = ["
    for ((i = 0; i < N_EVENTS; i++)); do echo "    Event::E$i,"; done
    echo '];'
}

main_rs() {
    cat <<'EOF'
fn main() {
    let events: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|arg| arg.parse().ok())
        .collect();
    ct::run(&events);
}
EOF
}

cargo_toml() { # NAME DEPENDENCY-LINES
    cat <<EOF
[package]
name = "ct-$1"
version = "0.0.0"
edition = "2024"
publish = false

[lib]
name = "ct"

[[bin]]
name = "ct-$1"
path = "src/main.rs"

[dependencies]
$2

# A workspace of its own: not part of the typestate-fsm workspace above it.
[workspace]
EOF
}

# --- Variants ---------------------------------------------------------------------------

gen_hand() {
    local i k t
    echo '//! Hand-written: typestate structs with consuming methods, and a run-time enum + match.'
    echo
    echo 'pub mod typed {'
    echo '    /// The machine in state `S`.'
    echo '    pub struct Big<S> {'
    echo '        pub context: (),'
    echo '        pub state: S,'
    echo '    }'
    echo
    for ((i = 0; i < N_STATES; i++)); do echo "    pub struct S$i;"; done
    echo
    echo '    impl Big<S0> {'
    echo '        pub fn new(context: ()) -> Self {'
    echo '            Big { context, state: S0 }'
    echo '        }'
    echo '    }'
    for ((i = 0; i < N_STATES; i++)); do
        echo
        echo "    impl Big<S$i> {"
        for k in 0 1 2; do
            t=$(target "$i" "$k")
            echo "        pub fn e$((3 * i + k))(self) -> Big<S$t> {"
            echo "            Big { context: self.context, state: S$t }"
            echo '        }'
        done
        echo '    }'
    done
    echo '}'
    echo
    echo '#[derive(Clone, Copy, PartialEq, Eq)]'
    echo 'pub enum State {'
    for ((i = 0; i < N_STATES; i++)); do echo "    S$i,"; done
    echo '}'
    echo
    user_events
    echo
    echo 'impl State {'
    echo '    pub fn on(self, event: Event) -> State {'
    echo '        match (self, event) {'
    for ((i = 0; i < N_STATES; i++)); do
        for k in 0 1 2; do
            echo "            (State::S$i, Event::E$((3 * i + k))) => State::S$(target "$i" "$k"),"
        done
    done
    echo '            (state, _) => state,'
    echo '        }'
    echo '    }'
    echo '}'
    echo
    cat <<'EOF'
pub fn run(events: &[usize]) {
    let typed = typed::Big::new(()).e0().e4().e26();
    let _: typed::Big<typed::S39> = typed;
    let mut state = State::S39;
    for &n in events {
        state = state.on(EVENTS[n % EVENTS.len()]);
    }
    println!("{:?}", core::mem::discriminant(&state));
}
EOF
}

gen_ours() {
    local i k
    echo "//! typestate-fsm: \`fsm_core::machine!\`."
    echo
    echo 'use fsm_core::{Id as _, Runtime as _};'
    echo
    echo 'fsm_core::machine! {'
    echo '    pub Big {'
    echo '        initial: S0,'
    echo '        states: {'
    for ((i = 0; i < N_STATES; i++)); do echo "            S$i,"; done
    echo '        },'
    echo '        edges: {'
    for ((i = 0; i < N_STATES; i++)); do
        for k in 0 1 2; do
            echo "            S$i + e$((3 * i + k)) => S$(target "$i" "$k"),"
        done
    done
    echo '        },'
    echo '    }'
    echo '}'
    echo
    cat <<'EOF'
pub fn run(events: &[usize]) {
    let typed = Big::new((), big::S0).e0().e4().e26();
    let mut machine: big::Runtime = typed.into();
    let all = <big::EventId as fsm_core::Id>::ALL;
    for &n in events {
        let Some(event) = <big::Runtime>::event_for(all[n % all.len()]) else {
            continue;
        };
        // Illegal events leave the machine where it is, as in the hand-written `match`.
        machine = machine.step(event);
    }
    println!("{:?}", core::mem::discriminant(&machine));
}
EOF
}

gen_rust_fsm() {
    local i k
    echo '//! rust-fsm 0.8: the `state_machine!` DSL.'
    echo
    echo 'use rust_fsm::state_machine;'
    echo
    echo 'state_machine! {'
    echo '    pub big(S0)'
    echo
    for ((i = 0; i < N_STATES; i++)); do
        echo "    S$i => {"
        for k in 0 1 2; do
            echo "        E$((3 * i + k)) => S$(target "$i" "$k"),"
        done
        echo '    },'
    done
    echo '}'
    echo
    echo "pub const EVENTS: [big::Input; $N_EVENTS] = ["
    for ((i = 0; i < N_EVENTS; i++)); do echo "    big::Input::E$i,"; done
    echo '];'
    echo
    cat <<'EOF'
pub fn run(events: &[usize]) {
    let mut machine = big::StateMachine::new();
    // rust-fsm has no typed steps: the same three moves through `consume`.
    for n in [0, 4, 26] {
        let _ = machine.consume(&EVENTS[n]);
    }
    for &n in events {
        // `Err` means "illegal here"; the state is unchanged.
        let _ = machine.consume(&EVENTS[n % EVENTS.len()]);
    }
    println!("{:?}", core::mem::discriminant(machine.state()));
}
EOF
}

gen_statig() {
    local i k
    echo '//! statig 0.4: one handler per state; unhandled events go to the implicit top state.'
    echo
    echo 'use statig::prelude::*;'
    echo
    user_events
    echo
    echo '#[derive(Default)]'
    echo 'pub struct Big;'
    echo
    echo '#[state_machine(initial = "State::s0()")]'
    echo 'impl Big {'
    for ((i = 0; i < N_STATES; i++)); do
        echo '    #[state]'
        echo "    fn s$i(event: &Event) -> Outcome<State> {"
        echo '        match event {'
        for k in 0 1 2; do
            echo "            Event::E$((3 * i + k)) => Transition(State::s$(target "$i" "$k")()),"
        done
        echo '            _ => Super,'
        echo '        }'
        echo '    }'
        echo
    done
    echo '}'
    echo
    cat <<'EOF'
pub fn run(events: &[usize]) {
    let mut machine = Big.state_machine();
    // statig has no typed steps: the same three moves through `handle`.
    for n in [0, 4, 26] {
        machine.handle(&EVENTS[n]);
    }
    for &n in events {
        machine.handle(&EVENTS[n % EVENTS.len()]);
    }
    println!("{:?}", core::mem::discriminant(machine.state()));
}
EOF
}

gen_statum() {
    local i k t
    echo '//! statum 0.9: `#[state]`, `#[machine]`, `#[transition]`; run time through `big::SomeState`.'
    echo
    echo 'use statum::{machine, state, transition};'
    echo
    echo '#[state]'
    echo 'pub enum BigState {'
    for ((i = 0; i < N_STATES; i++)); do echo "    S$i,"; done
    echo '}'
    echo
    echo '#[machine]'
    echo 'pub struct Big<BigState> {}'
    for ((i = 0; i < N_STATES; i++)); do
        echo
        echo '#[transition]'
        echo "impl Big<S$i> {"
        for k in 0 1 2; do
            t=$(target "$i" "$k")
            echo "    pub fn e$((3 * i + k))(self) -> Big<S$t> {"
            echo '        self.transition()'
            echo '    }'
        done
        echo '}'
    done
    echo
    user_events
    echo
    echo 'pub fn step(machine: big::SomeState, event: Event) -> big::SomeState {'
    echo '    use big::SomeState as M;'
    echo '    match (machine, event) {'
    for ((i = 0; i < N_STATES; i++)); do
        for k in 0 1 2; do
            t=$(target "$i" "$k")
            echo "        (M::S$i(m), Event::E$((3 * i + k))) => M::S$t(m.e$((3 * i + k))()),"
        done
    done
    echo '        (machine, _) => machine,'
    echo '    }'
    echo '}'
    echo
    cat <<'EOF'
pub fn run(events: &[usize]) {
    let typed = Big::<S0>::builder().build().e0().e4().e26();
    let mut machine = big::SomeState::S39(typed);
    for &n in events {
        machine = step(machine, EVENTS[n % EVENTS.len()]);
    }
    println!("{:?}", core::mem::discriminant(&machine));
}
EOF
}

gen_sm() {
    local i k t word ev
    echo '//! sm 0.9: `sm!`; run time through `Big::Variant` (one variant per state and the event'
    echo '//! that led there).'
    echo
    echo 'use sm::{AsEnum as _, Initializer as _, Transition as _, sm};'
    echo
    echo 'sm! {'
    echo '    Big {'
    echo '        InitialStates { S0 }'
    for ((i = 0; i < N_STATES; i++)); do
        for k in 0 1 2; do
            echo
            echo "        E$((3 * i + k)) {"
            echo "            S$i => S$(target "$i" "$k")"
            echo '        }'
        done
    done
    echo '    }'
    echo '}'
    echo
    user_events
    echo
    echo 'pub fn step(machine: Big::Variant, event: Event) -> Big::Variant {'
    echo '    use Big::Variant::*;'
    echo '    match (machine, event) {'
    for ((i = 0; i < N_STATES; i++)); do
        # Every enum variant that means "in state S<i>".
        local variants=()
        if [[ $i == 0 ]]; then variants+=(InitialS0); fi
        for word in ${INCOMING[i]}; do
            ev=${word%%:*}
            variants+=("S${i}ByE$ev")
        done
        for k in 0 1 2; do
            for v in "${variants[@]}"; do
                echo "        ($v(m), Event::E$((3 * i + k))) => m.transition(Big::E$((3 * i + k))).as_enum(),"
            done
        done
    done
    echo '        (machine, _) => machine,'
    echo '    }'
    echo '}'
    echo
    cat <<'EOF'
pub fn run(events: &[usize]) {
    let typed = Big::Machine::new(Big::S0)
        .transition(Big::E0)
        .transition(Big::E4)
        .transition(Big::E26);
    let mut machine = typed.as_enum();
    for &n in events {
        machine = step(machine, EVENTS[n % EVENTS.len()]);
    }
    println!("{:?}", core::mem::discriminant(&machine));
}
EOF
}

dependency_of() {
    case "$1" in
        hand) echo '' ;;
        ours) echo "fsm-core = { path = \"$FSM_CORE\" }" ;;
        rust-fsm) echo "rust-fsm = $RUST_FSM_REQ" ;;
        statig) echo "statig = $STATIG_REQ" ;;
        statum) echo "statum = $STATUM_REQ" ;;
        sm) echo "sm = $SM_REQ" ;;
    esac
}

generate() { # VARIANT DIR
    local v=$1 dir=$2
    rm -rf "$dir"
    mkdir -p "$dir/src"
    cargo_toml "$v" "$(dependency_of "$v")" > "$dir/Cargo.toml"
    main_rs > "$dir/src/main.rs"
    case "$v" in
        hand) gen_hand ;;
        ours) gen_ours ;;
        rust-fsm) gen_rust_fsm ;;
        statig) gen_statig ;;
        statum) gen_statum ;;
        sm) gen_sm ;;
    esac > "$dir/src/lib.rs"
    # Reuse the workspace's resolved versions where they apply, so that the peers and the
    # macro's dependencies are the ones the benchmarks were built with.
    if [[ -f "$REPO/Cargo.lock" ]]; then
        cp "$REPO/Cargo.lock" "$dir/Cargo.lock"
    fi
}

# --- Measuring ----------------------------------------------------------------------------

now() { date +%s.%N; }

# seconds COMMAND...: runs COMMAND quietly (output to $LOG), prints elapsed seconds.
seconds() {
    local start end
    start=$(now)
    if ! "$@" >> "$LOG" 2>&1; then
        log "failed: $* (see $LOG)"
        tail -n 30 "$LOG" >&2
        return 1
    fi
    end=$(now)
    awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR % 2) { print a[(NR + 1) / 2] } else { print (a[NR / 2] + a[NR / 2 + 1]) / 2 }
    }'
}

fmt2() { printf '%.2f' "$1"; }

declare -A WARM COLD EXPANDED SOURCE BINARY

measure() { # VARIANT
    local v=$1 dir="$CT_DIR/$1" runs=() i t
    LOG="$dir.log"
    : > "$LOG"
    log "== $v: generating in $dir"
    generate "$v" "$dir"
    SOURCE[$v]=$(stat -c %s "$dir/src/lib.rs")
    cd "$dir"

    log "== $v: fetching"
    cargo fetch "${CARGO_FLAGS[@]}" >> "$LOG" 2>&1

    log "== $v: cold build x$COLD_RUNS"
    runs=()
    for ((i = 0; i < COLD_RUNS; i++)); do
        rm -rf "$dir/target-cold"
        t=$(CARGO_TARGET_DIR="$dir/target-cold" seconds cargo build --offline)
        runs+=("$t")
    done
    COLD[$v]=$(median "${runs[@]}")

    log "== $v: warm check x$WARM_RUNS"
    rm -rf "$dir/target-warm"
    CARGO_TARGET_DIR="$dir/target-warm" seconds cargo check --offline > /dev/null
    runs=()
    for ((i = 0; i < WARM_RUNS; i++)); do
        touch "$dir/src/lib.rs"
        t=$(CARGO_TARGET_DIR="$dir/target-warm" seconds cargo check --offline)
        runs+=("$t")
    done
    WARM[$v]=$(median "${runs[@]}")

    log "== $v: expanded size"
    CARGO_TARGET_DIR="$dir/target-warm" RUSTC_BOOTSTRAP=1 \
        cargo rustc --offline --lib --profile=check -- -Zunpretty=expanded \
        > "$dir/expanded.rs" 2>> "$LOG"
    EXPANDED[$v]=$(stat -c %s "$dir/expanded.rs")

    log "== $v: release binary"
    CARGO_TARGET_DIR="$dir/target-warm" seconds cargo build --offline --release > /dev/null
    strip -o "$dir/ct.stripped" "$dir/target-warm/release/ct-$v"
    # A smoke run: S39 -e117-> S40, then an illegal event, then S40 -e121-> S47.
    "$dir/ct.stripped" 117 5 121 >> "$LOG"
    BINARY[$v]=$(stat -c %s "$dir/ct.stripped")
    cd "$REPO"
}

mkdir -p "$CT_DIR"
log "scratch directory: $CT_DIR"
log "rustc: $(rustc --version)"
for v in "${VARIANTS[@]}"; do
    measure "$v"
done

# --- Report -------------------------------------------------------------------------------

ratio() { # VALUE BASE
    if [[ -n "${2:-}" && "$2" != 0 ]]; then
        awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
    else
        echo '–'
    fi
}

echo
echo "Machine: $N_STATES states, $((3 * N_STATES)) edges, $N_EVENTS events. $(rustc --version)."
echo "Warm check: median of $WARM_RUNS; cold build: median of $COLD_RUNS. Ratios are against \`hand\`."
echo
echo '| variant | warm check (s) | vs hand | cold build (s) | vs hand | source (bytes) | expanded (bytes) | vs hand | release bin, stripped (bytes) | growth vs hand (bytes) |'
echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|'
base_warm=${WARM[hand]:-}
base_cold=${COLD[hand]:-}
base_exp=${EXPANDED[hand]:-}
base_bin=${BINARY[hand]:-}
for v in "${VARIANTS[@]}"; do
    growth='–'
    if [[ -n "$base_bin" ]]; then growth=$((BINARY[$v] - base_bin)); fi
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' \
        "$v" \
        "$(fmt2 "${WARM[$v]}")" "$(ratio "${WARM[$v]}" "$base_warm")" \
        "$(fmt2 "${COLD[$v]}")" "$(ratio "${COLD[$v]}" "$base_cold")" \
        "${SOURCE[$v]}" \
        "${EXPANDED[$v]}" "$(ratio "${EXPANDED[$v]}" "$base_exp")" \
        "${BINARY[$v]}" "$growth"
done
