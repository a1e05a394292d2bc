#!/usr/bin/env python3
"""Write a small adversarial claims CSV for the differential check of the four federal edits.

    edge_claims.py OUT.csv

Each claim targets a corner of the edits' semantics (PTP versions by date, modifier bypass on
either line, identical codes, a line that is column 1 and column 2 at once, cross-claim
patient-days, provider fallback, MUE MAI 1/2/3 sums across claims, fractional and odd units,
blank and unreadable dates, missing line numbers, ICD-10 codes with and without dots, headers,
dates outside validity, MCE sex flags that change over time, blank claim ids...). Codes are
chosen from the bundled subset (rules/data) and the full CMS tables, so both refdata dirs give
findings. There are no expected results here: the check is that claimlint and the DuckDB
baseline agree.
"""

import csv
import sys

HEADER = [
    "claim_id", "patient_id", "patient_sex", "billing_npi", "rendering_npi", "received_date",
    "dx_1", "dx_2", "dx_3", "dx_4", "dx_5", "dx_6", "dx_7", "dx_8", "dx_9", "dx_10", "dx_11", "dx_12",
    "line_number", "service_date_from", "procedure_code",
    "modifier_1", "modifier_2", "modifier_3", "modifier_4", "units", "charge_amount",
]

NPI_A = "1245319599"
NPI_B = "1497758544"
NPI_C = "1234567893"

rows: list[dict] = []


def claim(cid, patient, lines, sex="F", billing=NPI_A, rendering=NPI_A, dx=("I10",), received="2024-12-31",
          per_line=None):
    """lines: list of (line_number, dos, code, modifiers, units)."""
    for i, (ln, dos, code, mods, units) in enumerate(lines):
        r = {h: "" for h in HEADER}
        r.update(claim_id=cid, patient_id=patient, patient_sex=sex, billing_npi=billing,
                 rendering_npi=rendering, received_date=received, line_number=ln,
                 service_date_from=dos, procedure_code=code, units=units, charge_amount="100.00")
        for k, d in enumerate(dx):
            r[f"dx_{k + 1}"] = d
        for k, m in enumerate(mods):
            r[f"modifier_{k + 1}"] = m
        if per_line and i in per_line:
            r.update(per_line[i])
        rows.append(r)


D = "2024-07-15"

# --- FED-NCCI-PTP ---------------------------------------------------------------------------
# indicator 0 with 59 on the column 2 line; two 80053 lines and two 80048 lines (one finding per
# column 2 line and column 1 code)
claim("E001", "P01", [(1, D, "80053", [], "1"), (2, D, "80048", ["59"], "1"),
                      (3, D, "80053", [], "1"), (4, D, "80048", [], "1")])
# a line that is column 2 of two codes and column 1 of another
claim("E002", "P02", [(1, D, "99215", [], "1"), (2, D, "99214", [], "1"), (3, D, "99213", [], "1"),
                      (4, D, "99212", [], "1")])
# indicator 1: modifier on the column 1 line bypasses; a second, unmodified column 1 line does not
claim("E003", "P03", [(1, D, "17311", ["59"], "1"), (2, D, "99213", [], "1")])
claim("E004", "P04", [(1, D, "17311", ["59"], "1"), (2, D, "17311", [], "1"), (3, D, "99213", [], "1")])
# modifier in slot 3 / slot 4, lower case, with spaces
claim("E005", "P05", [(1, D, "17311", [], "1"), (2, D, "99213", ["", "", "25"], "1")])
claim("E006", "P06", [(1, D, " 17311 ", [], "1"), (2, D, "99213", ["", "", "", " xs "], "1")])
claim("E007", "P07", [(1, D, "17311", [], "1"), (2, D, "99213", ["GT"], "1")])  # not an NCCI modifier
# lower-case code with spaces
claim("E008", "P08", [(1, D, "80053", [], "1"), (2, D, " 80048", [], "1")])
# G0008/99211 has four versions: 2000-10-30 (9), 2019-12-31 (0), 2021-09-30 (0), open (1)
for k, dos in enumerate(["2000-01-01", "2000-10-30", "2000-10-31", "2019-12-31", "2020-06-01",
                         "2021-09-30", "2021-10-01", "2024-07-15"]):
    claim(f"E01{k}", f"P1{k}", [(1, dos, "G0008", [], "1"), (2, dos, "99211", ["25"], "1")])
# 17311/99213: two rows, open and deleted 2019-12-31, both indicator 1
claim("E020", "P20", [(1, "2019-06-01", "17311", [], "1"), (2, "2019-06-01", "99213", [], "1")])
# deleted edits: 97140/97530 (2019-12-31), 0001A/99213 (2023-12-31); indicator 9 pairs
claim("E021", "P21", [(1, D, "97140", [], "1"), (2, D, "97530", [], "1")])
claim("E022", "P22", [(1, "2019-12-31", "97140", [], "1"), (2, "2019-12-31", "97530", [], "1")])
claim("E023", "P23", [(1, "2023-12-31", "0001A", [], "1"), (2, "2023-12-31", "99213", [], "1"),
                      (3, "2024-01-01", "0001A", [], "1"), (4, "2024-01-01", "99213", [], "1")])
claim("E024", "P24", [(1, D, "93005", [], "1"), (2, D, "93010", [], "1"), (3, D, "97530", [], "1"),
                      (4, D, "97110", [], "1")])
# across claims, same patient/provider/date; the column 1 line is on the later claim
claim("E025", "P25", [(1, D, "99213", [], "1")])
claim("E026", "P25", [(1, D, "17311", [], "1")])
# same patient and date, another rendering provider: no pair; rendering blank falls back to billing
claim("E027", "P27", [(1, D, "80053", [], "1")], rendering=NPI_B)
claim("E028", "P27", [(1, D, "80048", [], "1")], rendering=NPI_C)
claim("E029", "P29", [(1, D, "80053", [], "1")], billing=NPI_B, rendering="")
claim("E030", "P29", [(1, D, "80048", [], "1")], billing=NPI_C, rendering=NPI_B)
# dates in other layouts group with ISO ones; blank and unreadable dates are never paired
claim("E031", "P31", [(1, "20240715", "80053", [], "1"), (2, "07/15/2024", "80048", [], "1"),
                      (3, "", "80053", [], "1"), (4, "", "80048", [], "1"),
                      (5, "2024-13-01", "80053", [], "1"), (6, "2024-13-01", "80048", [], "1")])
# blank patient id: still a patient-day of its own
claim("E032", "", [(1, D, "80053", [], "1"), (2, D, "80048", [], "1")])
# missing line numbers are numbered in file order within the claim
claim("E033", "P33", [("", D, "80053", [], "1"), ("", D, "80048", [], "1"), ("5", D, "82565", [], "1"),
                      ("", D, "80048", [], "1"), ("2", D, "80048", [], "1"), ("", D, "80048", [], "1")])
# the same pair in both directions (93000 bundles 93005 and 93010; 93005/93010 is indicator 9)
claim("E034", "P34", [(1, D, "93000", [], "1"), (2, D, "93005", [], "1"), (3, D, "93010", [], "1")])
# 90471 -> G0008 -> 99211 chain, and a blank claim id
claim("", "P35", [(1, D, "90471", [], "1"), (2, D, "G0008", [], "1"), (3, D, "99211", [], "1")])

# --- FED-MUE --------------------------------------------------------------------------------
claim("M001", "Q01", [(1, D, "99213", [], "3")])                                 # MAI 3, one line
claim("M002", "Q02", [(1, D, "99213", [], "1.5"), (2, D, "99213", [], "0.6")])   # fractional sum
claim("M003", "Q03", [(1, D, "G0439", [], "1")])                                 # MAI 2 across claims
claim("M004", "Q03", [(1, D, "G0439", [], "1"), (2, D, "36415", [], "2")])
claim("M005", "Q03", [(1, D, "36415", [], "1")])                                 # last 36415 line is here
claim("M006", "Q06", [(1, D, "11042", [], "1"), (2, D, "11042", [], ""), (3, D, "11042", [], "1")])
claim("M007", "Q07", [(1, D, "99486", [], "5"), (2, D, "99486", [], "4"), (3, D, "99486", [], "5")])  # MAI 1
claim("M008", "Q08", [(1, D, "A0425", [], "251"), (2, D, "A0425", [], "$1,000.00")])          # MAI 1
claim("M009", "Q09", [(1, D, "99213", [], " 2 "), (2, D, "99213", [], "abc"), (3, D, "99213", [], "1")])
claim("M010", "Q10", [(1, D, "99213", [], "NaN"), (2, D, "99213", [], "3")])
claim("M011", "Q11", [(1, D, "99213", [], "-1"), (2, D, "99213", [], "3")])
claim("M012", "Q12", [(1, D, "99213", [], "2"), (2, "", "99213", [], "5"), (3, "2024-07-16", "99213", [], "1")])
claim("M013", "Q13", [(1, D, "96372", [], "4"), (2, D, "96372", [], "1")], rendering=NPI_B)
claim("M014", "Q13", [(1, D, "96372", [], "4")], rendering=NPI_C)
claim("M015", "Q15", [(1, D, "99213", [], "2.0000001")])
claim("M016", "Q16", [(1, D, "j1100", [], "121"), (2, D, "17311", [], "5")])

# --- FED-ICD10-INVALID ----------------------------------------------------------------------
claim("I001", "R01", [(1, D, "99213", [], "1")], dx=("I10.0", "X99.9", "I10", "i10", "I10.", ".I10"))
claim("I002", "R02", [(1, D, "99213", [], "1")], dx=("S72", "S72.0", "M54.5", "R05", "A04.7", "N80.0"))
claim("I003", "R03", [(1, "2021-06-01", "99213", [], "1")], dx=("F32.A", "F32A", "M54.50", "U07.1"))
claim("I004", "R04", [(1, "2021-11-01", "99213", [], "1"), (2, "2021-06-01", "99213", [], "1")],
      dx=("F32.A",))
claim("I005", "R05", [(1, D, "99213", [], "1")],
      dx=("", "", "", "", "Z00.00", "I 10", "ABCDEFGH", "A1", "A0.4.7.1", "I10", "I10.0", "I10.0"))
claim("I006", "R06", [(1, "2015-06-01", "99213", [], "1")], dx=("I10", "M54.5", "R05", "S72.001A"))
claim("I007", "R07", [(1, D, "99213", [], "1"), (2, D, "99213", [], "1")], dx=("I10",),
      per_line={1: {"dx_2": "X99.9"}})  # dx on a later line only: claimlint reads the first line
claim("I008", "R08", [(1, "", "99213", [], "1")], dx=("X99.9",))  # no readable date: skipped
claim("I009", "R09", [(1, "2026-10-01", "99213", [], "1")], dx=("I10", "F32.A", "M54.5", "A04.72"))
claim("I010", "R10", [(1, "2016-06-01", "99213", [], "1")], dx=("A04.71", "R05.9", "P07.30", "M54.5"))
claim("I011", "R11", [(1, D, "99213", [], "1")], dx=("C44.311", "L57.0", "H40.11X1", "M54.16"))

# --- FED-MCE-SEX ----------------------------------------------------------------------------
claim("S001", "T01", [(1, "2024-08-20", "99213", [], "1")], sex="M", dx=("N80.00",))
claim("S002", "T02", [(1, "2024-10-02", "99213", [], "1"), (2, "2024-09-30", "99213", [], "1")],
      sex="M", dx=("I10", "N80.00", "O80"))        # earliest date 2024-09-30: still female-only
claim("S003", "T03", [(1, "2024-10-02", "99213", [], "1")], sex="M", dx=("N80.00", "O80"))
claim("S004", "T04", [(1, "2024-08-20", "99213", [], "1")], sex="m", dx=("Z34.90", "N8000"))
claim("S005", "T05", [(1, "2024-08-20", "99213", [], "1")], sex="F", dx=("N40.0", "N40.0"))
claim("S006", "T06", [(1, "2024-10-20", "99213", [], "1")], sex="F", dx=("N40.0",))
claim("S007", "T07", [(1, "2024-08-20", "99213", [], "1")], sex="U", dx=("N80.00",))
claim("S008", "T08", [(1, "2024-08-20", "99213", [], "1")], sex=" f ", dx=("C61", "N80.00", "N40.0"))
claim("S009", "T09", [(1, "2024-08-20", "99213", [], "1")], sex="M",
      dx=("I10", "I10", "I10", "I10", "I10", "I10", "I10", "I10", "I10", "I10", "I10", "O80"))
claim("S010", "T10", [(1, "2021-08-20", "99213", [], "1")], sex="M", dx=("N80.0", "N80.00"))
claim("S011", "T11", [(1, "2024-08-20", "99213", [], "1")], sex="", dx=("N80.00",),
      per_line=None)
claim("S012", "T12", [(1, "2024-08-20", "99213", [], "1"), (2, "2024-08-20", "99213", [], "1")],
      sex="F", dx=("I10",), per_line={1: {"patient_sex": "M", "dx_1": "N80.00"}})


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    with open(sys.argv[1], "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HEADER)
        w.writeheader()
        w.writerows(rows)
    print(f"{len(rows)} lines written to {sys.argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
