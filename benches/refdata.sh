#!/usr/bin/env bash
# Reference-table loading with and without the parsed-table cache, and the 1,000-line pre-screen
# warm and cold. See BENCHMARKS.md ("Reference data").
#
#   benches/refdata.sh
#
# Environment (all optional): BIN (default: $CARGO_TARGET_DIR/release/claimlint), RUNS (default
# 3, the median is reported), REFDATA (default ../shared/data), RULES (default rules/),
# BENCH_DIR (default $CARGO_TARGET_DIR/bench-data), SEED (default 1).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${BIN:-$TARGET/release/claimlint}
RUNS=${RUNS:-3}
REFDATA=${REFDATA:-$ROOT/../shared/data}
RULES=${RULES:-$ROOT/rules}
BENCH_DIR=${BENCH_DIR:-$TARGET/bench-data}
SEED=${SEED:-1}
CACHE=$BENCH_DIR/refdata-cache
mkdir -p "$BENCH_DIR"
[[ -x $BIN ]] || { echo "no claimlint binary at $BIN (cargo build --release, or set BIN)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 2; }

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure NAME PREPARE CMD...: runs PREPARE (a shell snippet, e.g. clearing the cache) and then CMD,
# $RUNS times; prints the median wall time, the median CPU time (user + system: on a busy machine
# the wall time mostly measures waiting for a core), the median in-process load time the -v log
# reports, and the median peak RSS.
measure() {
    local name=$1 prepare=$2; shift 2
    local walls=() cpus=() loads=() rsss=() i
    for ((i = 0; i < RUNS; i++)); do
        bash -c "$prepare"
        set +e
        /usr/bin/time -f "%e %M %U %S" -o "$BENCH_DIR/time.txt" "$@" -v >/dev/null 2>"$BENCH_DIR/last-run.err"
        local rc=$?
        set -e
        ((rc <= 1)) || { cat "$BENCH_DIR/last-run.err" >&2; echo "failed ($rc): $*" >&2; exit 1; }
        read -r w m u sy < <(tail -1 "$BENCH_DIR/time.txt")
        walls+=("$w")
        cpus+=("$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')")
        rsss+=("$m")
        loads+=("$(sed 's/\x1b\[[0-9;]*m//g' "$BENCH_DIR/last-run.err" | grep 'reference data loaded' | sed 's/.* ms=\([0-9]*\).*/\1/' | tail -1)")
    done
    echo "| $name | $(printf '%s\n' "${walls[@]}" | median) s ($(printf '%s ' "${walls[@]}")) | $(printf '%s\n' "${cpus[@]}" | median) s | $(printf '%s\n' "${loads[@]}" | median) ms | $(( $(printf '%s\n' "${rsss[@]}" | median) / 1024 )) MB | \`${*/#$BIN/claimlint}\` |"
}

pre=$BENCH_DIR/claims-1000-seed$SEED.parquet
[[ -f $pre ]] || "$BIN" generate --lines 1000 --seed "$SEED" --out "$pre" --refdata "$REFDATA" >/dev/null

echo "binary: $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); runs: $RUNS (median); $(nproc) cores; reference tables: $REFDATA"
echo
echo "| case | wall (median; runs) | CPU user+sys (median) | loading in-process, wall (median) | peak RSS | command |"
echo "|---|---|---|---|---|---|"
measure "all tables, cold (cache cleared before each run)" "rm -rf '$CACHE'" "$BIN" refdata --refdata "$REFDATA" --cache-dir "$CACHE"
measure "all tables, warm cache" "true" "$BIN" refdata --refdata "$REFDATA" --cache-dir "$CACHE"
measure "pre-screen 1,000 lines, full tables, cold" "rm -rf '$CACHE'" "$BIN" audit "$pre" --rules "$RULES" --refdata "$REFDATA" --cache-dir "$CACHE" --show 0
measure "pre-screen 1,000 lines, full tables, warm" "true" "$BIN" audit "$pre" --rules "$RULES" --refdata "$REFDATA" --cache-dir "$CACHE" --show 0
