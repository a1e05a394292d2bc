#!/usr/bin/env bash
# The Spark path's overhead: the driver with local[N] against a single-process `claimlint audit`
# of the same generated file on the same machine, median of RUNS runs each. See BENCHMARKS.md.
#
# Each Spark run is one driver process that audits the file twice in its session (--repeat 2):
#   whole process = the process's wall time minus its second audit: starting the JVM and the
#                   Spark session, one audit, stopping (what `python3 claimlint_spark.py` costs);
#   job alone     = the second audit, from reading the claims to the reports written, in a session
#                   already running (a notebook or job cluster keeps one).
#
#   integrations/spark/bench.sh               # 1M lines, local[2], partitions = cores (2)
#   LINES=200000 RUNS=1 PARTITIONS=8 integrations/spark/bench.sh
#
# Environment (all optional):
#   BIN         claimlint binary (default: $CARGO_TARGET_DIR/release/claimlint)
#   PYTHON      python with requirements.txt installed (default: ~/.cache/claimlint-spark/venv/bin/python)
#   LINES       generated lines (default 1000000); SEED (default 5)
#   MASTER      Spark master (default local[2]); PARTITIONS (default: the driver's, its cores)
#   RUNS        runs per side, the median is reported (default 3)
#   BENCH_DIR   generated file and outputs (default: $CARGO_TARGET_DIR/bench-data/spark)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=${BIN:-$TARGET/release/claimlint}
PYTHON=${PYTHON:-$HOME/.cache/claimlint-spark/venv/bin/python}
LINES=${LINES:-1000000}
SEED=${SEED:-5}
MASTER=${MASTER:-local[2]}
PARTITIONS=${PARTITIONS:-}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-$TARGET/bench-data/spark}

[[ -x $BIN ]] || { echo "no claimlint binary at $BIN (cargo build --release, or set BIN)" >&2; exit 2; }
"$PYTHON" -c "import pyspark, pyarrow, pandas" || { echo "$PYTHON cannot import pyspark, pyarrow and pandas (pip install -r integrations/spark/requirements.txt)" >&2; exit 2; }
mkdir -p "$BENCH_DIR"
claims=$BENCH_DIR/claims-$LINES-$SEED.parquet
[[ -f $claims ]] || "$BIN" generate --lines "$LINES" --seed "$SEED" --schemes --scheme-share 0.1 --out "$claims" >/dev/null

seconds() { local s; s=$(date +%s.%N); "$@" >"$BENCH_DIR/last.stdout" 2>"$BENCH_DIR/last.stderr" || [[ $? -eq 1 ]] || { cat "$BENCH_DIR/last.stderr" >&2; exit 1; }; echo "$(date +%s.%N) - $s" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

partitions=() label="default partitions"
if [[ -n $PARTITIONS ]]; then partitions=(--partitions "$PARTITIONS"); label="$PARTITIONS partitions"; fi
single=() whole=() job=()
for run in $(seq "$RUNS"); do
    single+=("$(seconds "$BIN" audit "$claims" --rules "$ROOT/rules" --out "$BENCH_DIR/single" --format parquet --show 0)")
    total=$(seconds env SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON="$PYTHON" "$PYTHON" "$ROOT/integrations/spark/claimlint_spark.py" \
        --master "$MASTER" "${partitions[@]}" --claims "$claims" --rules "$ROOT/rules" --out "$BENCH_DIR/spark" \
        --binary "$BIN" --show 0 --conf spark.ui.enabled=false --conf spark.ui.showConsoleProgress=false --repeat 2 --timings)
    second=$(sed -n 's/^claimlint-spark: run 2 of 2: \([0-9.]*\) s$/\1/p' "$BENCH_DIR/last.stdout")
    [[ -n $second ]] || { echo "no 'run 2 of 2' line in the driver's output" >&2; exit 1; }
    cp "$BENCH_DIR/last.stderr" "$BENCH_DIR/spark-timings-$run.txt"
    whole+=("$(echo "$total - $second" | bc)") job+=("$second")
    echo "run $run: single ${single[-1]} s; spark whole process ${whole[-1]} s, job alone ${job[-1]} s (timings: $BENCH_DIR/spark-timings-$run.txt)" >&2
done
s=$(printf '%s\n' "${single[@]}" | median)
w=$(printf '%s\n' "${whole[@]}" | median)
j=$(printf '%s\n' "${job[@]}" | median)
printf '| %s lines | single process %.1f s | %s, %s: whole process %.1f s (%.2f×), job alone %.1f s (%.2f×) |\n' \
    "$LINES" "$s" "$MASTER" "$label" "$w" "$(echo "$w / $s" | bc -l)" "$j" "$(echo "$j / $s" | bc -l)"
