#!/usr/bin/env python3
"""Scores a fraud-risk ranking against planted schemes.

usage: fraud_eval.py PROVIDERS_CSV [SCHEMES_CSV]

PROVIDERS_CSV is the providers.csv an audit writes beside fraud.html (rank order); SCHEMES_CSV is
the FILE-schemes.csv `claimlint generate --schemes` writes beside its manifest. Prints precision
at k (k = planted providers), recall in the top 2k, and how many honest providers have any
fraud-risk finding. Without SCHEMES_CSV, only the share of providers flagged.
"""
import csv
import sys


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    with open(argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    rule_columns = [c for c in rows[0].keys() if c not in ("rank", "npi", "specialty", "score", "amount_at_risk")] if rows else []
    rows.sort(key=lambda r: int(r["rank"]))
    flagged = {r["npi"] for r in rows if any(r[c] for c in rule_columns)}
    planted = {}
    if len(argv) == 3:
        with open(argv[2], newline="") as f:
            planted = {r["npi"]: r["scheme"] for r in csv.DictReader(f)}
    k = len(planted)
    ranked = [r["npi"] for r in rows]
    print(f"providers {len(rows)}, flagged {len(flagged)} ({100 * len(flagged) / max(len(rows), 1):.1f}%)")
    if k:
        hits = lambda n: sum(1 for npi in ranked[:n] if npi in planted)
        honest = [npi for npi in ranked if npi not in planted]
        honest_flagged = [npi for npi in honest if npi in flagged]
        missed = sorted(f"{npi} ({planted[npi]})" for npi in planted if npi not in ranked[: 2 * k])
        print(f"planted {k}: precision at k {hits(k) / k:.3f}, recall in the top 2k {hits(2 * k) / k:.3f}")
        print(f"honest providers with a fraud-risk finding: {len(honest_flagged)} of {len(honest)} ({100 * len(honest_flagged) / max(len(honest), 1):.1f}%)")
        if missed:
            print("planted, not in the top 2k: " + ", ".join(missed))


if __name__ == "__main__":
    main(sys.argv)
