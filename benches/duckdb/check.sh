#!/usr/bin/env bash
# Differential check: claimlint's findings for FED-NCCI-PTP, FED-MUE, FED-ICD10-INVALID and
# FED-MCE-SEX must equal the DuckDB baseline's.
#
#   benches/duckdb/check.sh [CLAIMLINT [CLAIMS [REFDATA]]]
#
#   CLAIMLINT  claimlint binary (default: $CLAIMLINT, else release/claimlint or debug/claimlint
#              under $CARGO_TARGET_DIR or target/, whichever exists first)
#   CLAIMS     claims file (default: samples/claims.csv); the word "edge" runs the adversarial
#              cases that edge_claims.py writes
#   REFDATA    reference-data folder (default: ../shared/data)
#
# Defaults are relative to the repository root; paths given as arguments are relative to the
# directory you run the script from. Exit 0 when both sides agree, 1 when they differ, 2 on a
# setup or run error.
set -euo pipefail

here=$(pwd)
abs() { case "$1" in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$here/$1" ;; esac; }

claimlint=${1:-${CLAIMLINT:-}}
claims=${2:-}
refdata=${3:-}
[ -n "$claimlint" ] && [[ "$claimlint" == */* ]] && claimlint=$(abs "$claimlint")
[ -n "$claims" ] && [ "$claims" != edge ] && claims=$(abs "$claims")
[ -n "$refdata" ] && refdata=$(abs "$refdata")

cd "$(dirname "$0")/../.."
root=$(pwd)

if [ -z "$claimlint" ]; then
    target=${CARGO_TARGET_DIR:-target}
    case "$target" in /*) ;; *) target=$root/$target ;; esac
    for c in "$target/release/claimlint" "$target/debug/claimlint"; do
        if [ -x "$c" ]; then claimlint=$c; break; fi
    done
fi
if [ -z "$claimlint" ]; then
    echo "check.sh: no claimlint binary: pass it as the first argument or set CLAIMLINT" >&2
    exit 2
fi
claims=${claims:-$root/samples/claims.csv}
if [ -z "$refdata" ]; then
    refdata=$(cd "$root/.." && pwd)/shared/data
fi
[ -d "$refdata" ] || { echo "check.sh: reference-data folder $refdata does not exist" >&2; exit 2; }
if [ "$claims" != edge ] && [ ! -e "$claims" ]; then
    echo "check.sh: claims file $claims does not exist" >&2
    exit 2
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import duckdb' 2>/dev/null; then
    echo "check.sh: installing duckdb" >&2
    "$python" -m pip install --quiet duckdb
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/claimlint-duckdb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if [ "$claims" = edge ]; then
    "$python" "$root/benches/duckdb/edge_claims.py" "$tmp/edge_claims.csv"
    claims=$tmp/edge_claims.csv
fi

echo "== claimlint audit $claims --refdata $refdata"
start=$(date +%s.%N)
set +e
"$claimlint" audit "$claims" --rules "$root/rules" --refdata "$refdata" --out "$tmp/claimlint" --show 0 \
    >"$tmp/claimlint.out" 2>"$tmp/claimlint.err"
rc=$?
set -e
end=$(date +%s.%N)
cat "$tmp/claimlint.out"
# A rule that fails at run time is reported on stderr and its findings are dropped: show it.
grep -i -E 'fail|error' "$tmp/claimlint.err" >&2 || true
if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
    echo "check.sh: claimlint exited with $rc" >&2
    cat "$tmp/claimlint.err" >&2
    exit 2
fi
awk -v s="$start" -v e="$end" 'BEGIN { printf "claimlint wall time: %.3f s\n", e - s }'

echo
echo "== DuckDB baseline"
"$python" "$root/benches/duckdb/baseline.py" "$claims" --refdata "$refdata" --out "$tmp/duckdb.csv"

echo
echo "== compare"
"$python" "$root/benches/duckdb/compare.py" "$tmp/claimlint/findings.csv" "$tmp/duckdb.csv"
