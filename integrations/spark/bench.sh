#!/usr/bin/env bash
# The Spark path's overhead: the driver with local[N] against a single-process `claimlint audit`
# of the same generated file on the same machine, median of RUNS runs each. See BENCHMARKS.md.
#
#   integrations/spark/bench.sh               # 1M lines, local[2], 8 partitions
#   LINES=200000 RUNS=1 integrations/spark/bench.sh
#
# Environment (all optional):
#   BIN         claimlint binary (default: $CARGO_TARGET_DIR/release/claimlint)
#   PYTHON      python with requirements.txt installed (default: ~/.cache/claimlint-spark/venv/bin/python)
#   LINES       generated lines (default 1000000); SEED (default 5)
#   MASTER      Spark master (default local[2]); PARTITIONS (default 8)
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
PARTITIONS=${PARTITIONS:-8}
RUNS=${RUNS:-3}
BENCH_DIR=${BENCH_DIR:-$TARGET/bench-data/spark}

[[ -x $BIN ]] || { echo "no claimlint binary at $BIN (cargo build --release, or set BIN)" >&2; exit 2; }
"$PYTHON" -c "import pyspark, pyarrow, pandas" || { echo "$PYTHON cannot import pyspark, pyarrow and pandas (pip install -r integrations/spark/requirements.txt)" >&2; exit 2; }
mkdir -p "$BENCH_DIR"
claims=$BENCH_DIR/claims-$LINES-$SEED.parquet
[[ -f $claims ]] || "$BIN" generate --lines "$LINES" --seed "$SEED" --schemes --scheme-share 0.1 --out "$claims" >/dev/null

seconds() { local s; s=$(date +%s.%N); "$@" >/dev/null 2>"$BENCH_DIR/last.stderr" || [[ $? -eq 1 ]] || { cat "$BENCH_DIR/last.stderr" >&2; exit 1; }; echo "$(date +%s.%N) - $s" | bc; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

single=() spark=()
for run in $(seq "$RUNS"); do
    single+=("$(seconds "$BIN" audit "$claims" --rules "$ROOT/rules" --out "$BENCH_DIR/single" --format parquet --show 0)")
    spark+=("$(seconds env SPARK_LOCAL_IP=127.0.0.1 PYSPARK_PYTHON="$PYTHON" "$PYTHON" "$ROOT/integrations/spark/claimlint_spark.py" \
        --master "$MASTER" --partitions "$PARTITIONS" --claims "$claims" --rules "$ROOT/rules" --out "$BENCH_DIR/spark" \
        --binary "$BIN" --show 0 --conf spark.ui.enabled=false)")
    echo "run $run: single ${single[-1]} s, spark ${spark[-1]} s" >&2
done
s=$(printf '%s\n' "${single[@]}" | median)
p=$(printf '%s\n' "${spark[@]}" | median)
printf '| %s lines | single process %.1f s | %s, %s partitions %.1f s | overhead %.2f× |\n' "$LINES" "$s" "$MASTER" "$PARTITIONS" "$p" "$(echo "$p / $s" | bc -l)"
