#!/usr/bin/env bash
# Whole-process benchmarks of claimlint on generated claim files. See BENCHMARKS.md.
#
#   benches/run.sh                       # 100k and 1M lines
#   benches/run.sh "100000 1000000 10000000"
#
# Environment (all optional):
#   BIN        claimlint binary (default: $CARGO_TARGET_DIR/release/claimlint, else .../debug/claimlint)
#   RUNS       runs per measurement; the median is reported (default 3)
#   REFDATA    full reference tables (default: ../shared/data beside the checkout)
#   RULES      rules folder for the full audit (default: rules/)
#   BENCH_DIR  where generated files and run output are cached (default: $CARGO_TARGET_DIR/bench-data,
#              outside the repository)
#   SEED       generator seed (default 1)
#   SKIP       space-separated case names to skip: raw load audit html threads prescreen four
#              duckdb evaluate
#   PYTHON     python with the duckdb module for the DuckDB baseline (default python3; installed
#              with pip when missing)
#
# Wall time and peak RSS come from /usr/bin/time (%e, %M = "Maximum resident set size").
# Results go to stdout and to $BENCH_DIR/results-<time>.md.
set -euo pipefail

SIZES=${1:-"100000 1000000"}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [[ -z "${BIN:-}" ]]; then
    if [[ -x $TARGET/release/claimlint ]]; then BIN=$TARGET/release/claimlint; else BIN=$TARGET/debug/claimlint; fi
fi
RUNS=${RUNS:-3}
REFDATA=${REFDATA:-$ROOT/../shared/data}
RULES=${RULES:-$ROOT/rules}
BENCH_DIR=${BENCH_DIR:-$TARGET/bench-data}
SEED=${SEED:-1}
SKIP=" ${SKIP:-} "
mkdir -p "$BENCH_DIR"
RESULTS=$BENCH_DIR/results-$(date +%Y%m%d-%H%M%S).md

if [[ ! -x /usr/bin/time ]]; then
    echo "needs /usr/bin/time (apt-get install time)" >&2
    exit 2
fi
[[ -x $BIN ]] || { echo "no claimlint binary at $BIN (cargo test --no-run, or set BIN)" >&2; exit 2; }
[[ -d $REFDATA ]] || { echo "no reference tables at $REFDATA (set REFDATA)" >&2; exit 2; }

say() { echo "$@" | tee -a "$RESULTS"; }

# median of numbers on stdin
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

# measure NAME LINES CMD...: runs CMD $RUNS times (exit codes 0 and 1 are fine: 1 = findings),
# prints a table row with the median wall time, lines/s and the median peak RSS.
measure() {
    local name=$1 lines=$2; shift 2
    local walls=() rsss=() i out
    for ((i = 0; i < RUNS; i++)); do
        out=$BENCH_DIR/last-run.txt
        set +e
        /usr/bin/time -f "%e %M" -o "$BENCH_DIR/time.txt" "$@" >"$out" 2>"$BENCH_DIR/last-run.err"
        local rc=$?
        set -e
        if ((rc > 1)); then
            echo "failed ($rc): $*" >&2
            cat "$BENCH_DIR/last-run.err" >&2
            say "| $name | $lines | failed (exit $rc) | | | \`$*\` |"
            return 0
        fi
        read -r w m < <(tail -1 "$BENCH_DIR/time.txt")
        walls+=("$w")
        rsss+=("$m")
    done
    local wall rss rate
    wall=$(printf '%s\n' "${walls[@]}" | median)
    rss=$(printf '%s\n' "${rsss[@]}" | median)
    rate=$(awk -v n="$lines" -v w="$wall" 'BEGIN { if (w > 0) printf "%.0f", n / w; else print "-" }')
    say "| $name | $lines | $wall s ($(printf '%s ' "${walls[@]}")) | $rate | $((rss / 1024)) MB | \`${*/#$BIN/claimlint}\` |"
}

skip() { [[ $SKIP == *" $1 "* ]]; }

# evaluate_phase NAME LINES CMD...: the median of the audit's own "evaluate" phase time (the -v
# log's phase line: rules, kernels and provider partials, after loading), $RUNS runs.
evaluate_phase() {
    local name=$1 lines=$2; shift 2
    local secs=() i
    for ((i = 0; i < RUNS; i++)); do
        "$@" -v >/dev/null 2>"$BENCH_DIR/phase.err" || true
        secs+=("$(sed 's/\x1b\[[0-9;]*m//g' "$BENCH_DIR/phase.err" | grep -o 'evaluate [0-9.]* s' | tail -1 | awk '{print $2}')")
    done
    local med
    med=$(printf '%s\n' "${secs[@]}" | median)
    say "| $name | $lines | $med s ($(printf '%s ' "${secs[@]}")) | | | \`${*/#$BIN/claimlint} -v\` |"
    echo "$med"  >"$BENCH_DIR/phase-last.txt"
}

# The four federal rules the DuckDB baseline implements, alone in a rules folder.
FOUR=$BENCH_DIR/four-rules
rm -rf "$FOUR"; mkdir -p "$FOUR"
cp "$RULES"/federal/{ncci_ptp,mue,icd10_invalid,mce_sex}.rhai "$FOUR"/
PYTHON=${PYTHON:-python3}
if ! skip duckdb && ! "$PYTHON" -c 'import duckdb' 2>/dev/null; then
    "$PYTHON" -m pip install --quiet duckdb || SKIP="$SKIP duckdb "
fi

say "# claimlint benchmarks, $(date -u +%Y-%m-%dT%H:%MZ)"
say ""
say "binary: $BIN ($(stat -c %y "$BIN" | cut -d. -f1)); runs per row: $RUNS (median); machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
say "reference tables: $REFDATA; rules: $RULES"
say ""

# Reference tables alone: every table loaded once (the fixed cost of every audit).
say "| case | lines | wall (median; runs) | lines/s | peak RSS | command |"
say "|---|---|---|---|---|---|"
measure "reference tables only (rules check)" 0 "$BIN" rules check --rules "$RULES" --refdata "$REFDATA"

# (f) pre-screen: 1,000 lines end to end, including reference loading.
if ! skip prescreen; then
    pre=$BENCH_DIR/claims-1000-seed$SEED.parquet
    [[ -f $pre ]] || "$BIN" generate --lines 1000 --seed "$SEED" --out "$pre" --refdata "$REFDATA" >/dev/null
    # Cold: the parsed-table cache is emptied before every run; warm: it is filled once.
    cache=$BENCH_DIR/prescreen-cache
    measure "pre-screen 1,000 lines, full tables, cold cache" 1000 bash -c 'rm -rf "$0"; exec "$@"' "$cache" "$BIN" audit "$pre" --rules "$RULES" --refdata "$REFDATA" --cache-dir "$cache" --show 0
    "$BIN" refdata --refdata "$REFDATA" --cache-dir "$cache" >/dev/null
    measure "pre-screen 1,000 lines, full tables, warm cache" 1000 "$BIN" audit "$pre" --rules "$RULES" --refdata "$REFDATA" --cache-dir "$cache" --show 0
    measure "pre-screen 1,000 lines, bundled rules/data" 1000 "$BIN" audit "$pre" --rules "$RULES" --show 0
fi

for n in $SIZES; do
    file=$BENCH_DIR/claims-$n-seed$SEED.parquet
    if [[ ! -f $file ]]; then
        echo "generating $file ..." >&2
        /usr/bin/time -f "%e %M" -o "$BENCH_DIR/gen-time.txt" "$BIN" generate --lines "$n" --seed "$SEED" --out "$file" \
            --refdata "$REFDATA" --manifest "$file.manifest.csv" >"$file.generate.txt"
        read -r w m < <(tail -1 "$BENCH_DIR/gen-time.txt")
        echo "$w $m" >"$file.gen-time"
    fi
    if [[ -f $file.gen-time ]]; then
        read -r gw gm < "$file.gen-time"
        say "| generate (once, cached) | $n | $gw s | $(awk -v n="$n" -v w="$gw" 'BEGIN {printf "%.0f", n / w}') | $((gm / 1024)) MB | \`claimlint generate --lines $n --seed $SEED --out FILE --refdata REFDATA\` |"
    fi

    skip raw || measure "(b) Polars reads the Parquet" "$n" "$BIN" load --raw "$file"
    skip load || measure "(a) load: canonical frame + batch" "$n" "$BIN" load "$file"
    skip audit || measure "(c) audit, all rules, full tables, no HTML" "$n" "$BIN" audit "$file" --rules "$RULES" --refdata "$REFDATA" --show 0
    if ! skip html; then
        rm -rf "$BENCH_DIR/out-$n"
        measure "(d) audit + findings.csv + HTML report" "$n" "$BIN" audit "$file" --rules "$RULES" --refdata "$REFDATA" --show 0 --out "$BENCH_DIR/out-$n"
    fi
    if ! skip threads; then
        RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1 measure "(e) audit, 1 thread (RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1)" "$n" "$BIN" audit "$file" --rules "$RULES" --refdata "$REFDATA" --show 0
    fi
    if ! skip evaluate; then
        evaluate_phase "(f) evaluate phase, all rules, 2 threads" "$n" "$BIN" audit "$file" --rules "$RULES" --refdata "$REFDATA" --show 0
        two=$(cat "$BENCH_DIR/phase-last.txt")
        RAYON_NUM_THREADS=1 POLARS_MAX_THREADS=1 evaluate_phase "(f) evaluate phase, all rules, 1 thread" "$n" "$BIN" audit "$file" --rules "$RULES" --refdata "$REFDATA" --show 0
        one=$(cat "$BENCH_DIR/phase-last.txt")
        say "| (f) evaluate speed-up, 2 threads over 1 | $n | $(awk -v a="$one" -v b="$two" 'BEGIN { if (b > 0) printf "%.2fx", a / b }') | | | |"
    fi
    skip four || measure "(g) the four rules of the DuckDB baseline alone" "$n" "$BIN" audit "$file" --rules "$FOUR" --refdata "$REFDATA" --show 0
    skip duckdb || measure "(h) DuckDB: benches/duckdb/baseline.py, the same four edits" "$n" "$PYTHON" "$ROOT/benches/duckdb/baseline.py" "$file" --refdata "$REFDATA" --out "$BENCH_DIR/duckdb-$n.csv"
    # In-memory size of the input (canonical frame) for the memory target.
    say ""
    say "input $n lines: $(du -hL "$file" | cut -f1) Parquet on disk; $("$BIN" load "$file" | sed 's/^loaded //')"
    say ""
    say "| case | lines | wall (median; runs) | lines/s | peak RSS | command |"
    say "|---|---|---|---|---|---|"
done
echo "results: $RESULTS" >&2
