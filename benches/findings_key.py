#!/usr/bin/env python3
"""Prints the sorted keys of a findings.csv, one per line: rule, claim, line, message, amount and
location; provider-level findings (provider-scope rules) are keyed by rule, provider, message and
amount, since they name no claim. Two runs of claimlint produce the same findings exactly when
their key files are identical.

    python3 benches/findings_key.py findings.csv > keys.txt
"""
import csv
import sys

PROVIDER_RULES = {
    "FRAUD-ADDON-RATIO", "FRAUD-BENFORD", "FRAUD-CHARGE-OUTLIER", "FRAUD-EM-LEVELS",
    "FRAUD-IMPOSSIBLE-DAY", "FRAUD-MODIFIER-25", "FRAUD-MODIFIER-59", "FRAUD-WEEKEND-HOLIDAY",
}

def keys(path):
    out = []
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            amount = f"{float(r['amount_at_risk'] or 0):.2f}"
            if r["rule_id"] in PROVIDER_RULES:
                out.append("\t".join(["P", r["rule_id"], r["provider_npi"], r["message"], amount]))
            else:
                out.append("\t".join(["C", r["rule_id"], r["claim_id"], r["line_number"], r["message"], amount, r["location"]]))
    return sorted(out)

if __name__ == "__main__":
    sys.stdout.write("".join(k + "\n" for k in keys(sys.argv[1])))
