#!/usr/bin/env python3
"""Compare claimlint's findings with the DuckDB baseline's, for the four federal edits.

    compare.py CLAIMLINT_FINDINGS.csv DUCKDB_FINDINGS.csv

CLAIMLINT_FINDINGS.csv is the findings.csv that `claimlint audit ... --out DIR` writes;
DUCKDB_FINDINGS.csv is what baseline.py writes. Both sides become multisets of keys
(rule_id, claim_id, line_number, detail), where detail is parsed from claimlint's message:

    FED-NCCI-PTP       the column 1 code          ("... bundled into column 1 code 90471 billed ...")
    FED-MUE            the procedure code         ("99213 billed with 3 units ...")
    FED-ICD10-INVALID  dx slot and kind           ("dx_1 I10.0 is not an ICD-10-CM code..." -> dx_1:unknown,
                                                   "... is not a valid ICD-10-CM code on the date of
                                                   service ..." -> dx_1:invalid_on_date)
    FED-MCE-SEX        the dx slot                ("dx_1 N80.00 is a female-only diagnosis ..." -> dx_1)

Prints counts per rule for both sides and up to 20 differences each way. Exit code 0 when the
two multisets are identical, 1 otherwise (2 on unreadable input). Standard library only.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter

RULES = ["FED-NCCI-PTP", "FED-MUE", "FED-ICD10-INVALID", "FED-MCE-SEX"]
SHOW = 20

PTP_RE = re.compile(r"bundled into column 1 code (\S+) billed ")
MUE_RE = re.compile(r"^(\S+) billed with ")
SLOT_RE = re.compile(r"^(dx_\d+) ")

csv.field_size_limit(1 << 30)


def line_key(v: str | None) -> str:
    v = (v or "").strip()
    if v == "":
        return ""
    try:
        f = float(v)
    except ValueError:
        return v
    return str(int(f)) if f == int(f) else v


def detail_of(rule: str, msg: str) -> str:
    if rule == "FED-NCCI-PTP":
        m = PTP_RE.search(msg)
    elif rule == "FED-MUE":
        m = MUE_RE.search(msg)
    else:
        m = SLOT_RE.search(msg)
    if not m:
        return f"?unparsed: {msg[:80]}"
    d = m.group(1)
    if rule == "FED-ICD10-INVALID":
        if " is not a valid ICD-10-CM code on the date of service " in msg:
            d += ":invalid_on_date"
        elif " is not an ICD-10-CM code" in msg:
            d += ":unknown"
        else:
            d += ":?"
    return d


def read_rows(path: str) -> list[dict]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"compare.py: cannot read {path}: {e}")


def claimlint_keys(path: str) -> Counter:
    rows = read_rows(path)
    if rows and not {"rule_id", "claim_id", "line_number", "message"} <= rows[0].keys():
        print(f"compare.py: {path} lacks rule_id/claim_id/line_number/message columns", file=sys.stderr)
        sys.exit(2)
    keys = Counter()
    for r in rows:
        rule = r["rule_id"]
        if rule in RULES:
            keys[(rule, r["claim_id"], line_key(r["line_number"]), detail_of(rule, r["message"]))] += 1
    return keys


def duckdb_keys(path: str) -> Counter:
    rows = read_rows(path)
    if rows and not {"rule_id", "claim_id", "line_number", "detail"} <= rows[0].keys():
        print(f"compare.py: {path} lacks rule_id/claim_id/line_number/detail columns", file=sys.stderr)
        sys.exit(2)
    return Counter(
        (r["rule_id"], r["claim_id"], line_key(r["line_number"]), r["detail"])
        for r in rows if r["rule_id"] in RULES)


def show(title: str, diff: Counter) -> None:
    n = sum(diff.values())
    print(f"{title}: {n}")
    for i, (k, c) in enumerate(sorted(diff.items())):
        if i == SHOW:
            print(f"  ... and {len(diff) - SHOW} more keys")
            break
        rule, claim, line, detail = k
        times = f"  (x{c})" if c > 1 else ""
        print(f"  {rule:<18} claim={claim} line={line or '-'} detail={detail}{times}")


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    cl = claimlint_keys(sys.argv[1])
    dk = duckdb_keys(sys.argv[2])
    print(f"{'rule':<20} {'claimlint':>10} {'duckdb':>10}")
    for rule in RULES:
        a = sum(c for k, c in cl.items() if k[0] == rule)
        b = sum(c for k, c in dk.items() if k[0] == rule)
        print(f"{rule:<20} {a:>10} {b:>10}{'' if a == b else '   <- counts differ'}")
    print(f"{'total':<20} {sum(cl.values()):>10} {sum(dk.values()):>10}")
    only_cl = cl - dk
    only_dk = dk - cl
    if not only_cl and not only_dk:
        print("identical: every finding key matches")
        return 0
    show("only in claimlint", only_cl)
    show("only in duckdb", only_dk)
    return 1


if __name__ == "__main__":
    sys.exit(main())
