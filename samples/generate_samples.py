#!/usr/bin/env python3
"""Writes samples/claims.csv: a realistic, made-up batch with documented planted problems.

Deterministic (fixed seed). Run from the repo root: python3 samples/generate_samples.py
Every planted problem is listed in PLANTED and in samples/README.md, with the rule that must
catch it; every other claim is built to pass the starter rules.
"""
import csv
import random
from datetime import date, timedelta

random.seed(20240701)

COLUMNS = [
    "claim_id", "claim_type", "payer_id", "patient_id", "patient_birth_date", "patient_sex",
    "patient_death_date", "billing_npi", "rendering_npi", "provider_specialty", "received_date",
    "prior_auth_number", "dx_1", "dx_2", "dx_3", "dx_4", "type_of_bill", "line_number",
    "service_date_from", "service_date_to", "place_of_service", "procedure_code", "modifier_1",
    "modifier_2", "units", "charge_amount", "dx_pointers", "paid_amount", "revenue_code",
]

# Made-up providers; every NPI passes the check digit.
PROVIDERS = [
    ("1003000126", "1003000126", "Family Practice"),
    ("1376609297", "1376609297", "Internal Medicine"),
    ("1497758544", "1497758544", "Internal Medicine"),
    ("1215930367", "1215930367", "Family Practice"),
    ("1245319599", "1245319599", "Dermatology"),
    ("1234567893", "1234567893", "Physical Therapy"),
]
HOSPITAL_NPI = "1730188905"
PAYERS = ["MEDICARE", "ACME-COMMERCIAL", "NY-MEDICAID", "BLUE-PPO"]

# (codes with modifiers, dx) visit templates a practice really bills together.
VISITS = {
    "Family Practice": [
        ([("99213", ""), ("36415", ""), ("85025", "")], ["I10", "E78.5"]),
        ([("99214", ""), ("36415", ""), ("80053", "")], ["E11.9", "I10"]),
        ([("99212", "")], ["J06.9"]),
        ([("99213", ""), ("93000", "")], ["I48.91", "I10"]),
        ([("99213", "25"), ("90471", ""), ("90686", "")], ["Z23", "I10"]),
        ([("99214", "25"), ("20610", "RT"), ("J1100", "")], ["M17.11"]),
    ],
    "Internal Medicine": [
        ([("99214", ""), ("36415", ""), ("80053", "")], ["E11.9", "E78.5"]),
        ([("99215", ""), ("93000", "")], ["I48.91", "I10"]),
        ([("99213", "")], ["M54.50"]),
        ([("99213", ""), ("81002", "")], ["N39.0"]),
    ],
    "Dermatology": [
        ([("17311", ""), ("17312", "")], ["C44.311"]),
        ([("99213", "25"), ("11102", "")], ["L82.1"]),
        ([("17311", "")], ["C44.311"]),
    ],
    "Physical Therapy": [
        ([("97110", ""), ("97140", "")], ["M54.50"]),
        ([("97110", "")], ["M17.11"]),
    ],
}
CHARGES = {
    "99212": 95.0, "99213": 135.0, "99214": 195.0, "99215": 265.0, "36415": 12.0, "85025": 28.0,
    "80053": 42.0, "93000": 55.0, "90471": 25.0, "90686": 38.0, "20610": 160.0, "J1100": 18.0,
    "81002": 10.0, "17311": 820.0, "17312": 460.0, "11102": 140.0, "97110": 70.0, "97140": 65.0,
    # codes used only by the federal planted claims
    "80048": 30.0, "15271": 310.0, "15777": 950.0, "11042": 180.0, "20701": 150.0, "J0001": 20.0,
    # codes used only by the fraud planted claims
    "97112": 72.0,
}
UNITS = {"97110": 2, "J1100": 4}


def patient(i):
    sex = "F" if i % 2 else "M"
    birth = date(1940, 1, 1) + timedelta(days=random.randint(0, 365 * 45))
    return (f"PT{i:04d}", birth.isoformat(), sex)


PATIENTS = [patient(i) for i in range(1, 61)]


def blank_row():
    return {c: "" for c in COLUMNS}


def professional_claim(n, provider, pat, payer, dos, visit):
    codes, dx = visit
    rows = []
    received = dos + timedelta(days=random.randint(3, 30))
    for ln, (code, mod) in enumerate(codes, start=1):
        r = blank_row()
        r.update({
            "claim_id": f"CLM{n:05d}", "claim_type": "professional", "payer_id": payer,
            "patient_id": pat[0], "patient_birth_date": pat[1], "patient_sex": pat[2],
            "billing_npi": provider[0], "rendering_npi": provider[1], "provider_specialty": provider[2],
            "received_date": received.isoformat(), "line_number": ln,
            "service_date_from": dos.isoformat(), "service_date_to": dos.isoformat(),
            "place_of_service": "11", "procedure_code": code, "modifier_1": mod,
            "units": UNITS.get(code, 1), "charge_amount": f"{CHARGES[code] * UNITS.get(code, 1):.2f}",
            "dx_pointers": "A" if len(dx) == 1 else "AB",
        })
        for k, d in enumerate(dx[:4], start=1):
            r[f"dx_{k}"] = d
        rows.append(r)
    return rows


def institutional_claim(n, pat, payer, dos):
    rows = []
    lines = [("0450", "99284", 1, 950.0), ("0300", "80053", 1, 85.0), ("0320", "71046", 1, 240.0)]
    for ln, (rev, code, units, charge) in enumerate(lines, start=1):
        r = blank_row()
        r.update({
            "claim_id": f"CLM{n:05d}", "claim_type": "institutional", "payer_id": payer,
            "patient_id": pat[0], "patient_birth_date": pat[1], "patient_sex": pat[2],
            "billing_npi": HOSPITAL_NPI, "rendering_npi": "1376609297", "provider_specialty": "Emergency",
            "received_date": (dos + timedelta(days=12)).isoformat(), "type_of_bill": "131",
            "line_number": ln, "service_date_from": dos.isoformat(), "service_date_to": dos.isoformat(),
            "procedure_code": code, "units": units, "charge_amount": f"{charge:.2f}",
            "dx_1": "J18.9", "dx_pointers": "A", "revenue_code": rev,
        })
        rows.append(r)
    return rows


def build():
    claims = []
    n = 0
    start = date(2024, 7, 1)
    seen = set()
    for _ in range(110):
        n += 1
        provider = random.choice(PROVIDERS)
        pat = random.choice(PATIENTS)
        dos = start + timedelta(days=random.randint(0, 88))
        # One visit per patient, provider and day: a second would be a duplicate claim.
        while (provider[1], pat[0], dos) in seen:
            dos = start + timedelta(days=random.randint(0, 88))
        seen.add((provider[1], pat[0], dos))
        visit = random.choice(VISITS[provider[2]])
        claims.append(professional_claim(n, provider, pat, random.choice(PAYERS), dos, visit))
    for _ in range(6):
        n += 1
        claims.append(institutional_claim(n, random.choice(PATIENTS), random.choice(PAYERS),
                                          start + timedelta(days=random.randint(0, 88))))
    return claims, n


def plant(claims, n):
    """Planted problems: (claim id, line, rule, what). Appended as new claims so ids are stable."""
    planted = []
    fp = PROVIDERS[0]
    pat = PATIENTS[4]
    dos = date(2024, 8, 14)

    def add(rows, rule, what, line=None):
        claims.append(rows)
        planted.append((rows[0]["claim_id"], line, rule, what))

    n += 1
    rows = professional_claim(n, fp, pat, "MEDICARE", dos, VISITS["Family Practice"][0])
    for r in rows:
        r["billing_npi"] = ""
    add(rows, "CORE-REQUIRED-FIELDS", "billing NPI left blank")

    n += 1
    rows = professional_claim(n, (fp[0], "1234567890", fp[2]), pat, "ACME-COMMERCIAL", dos, VISITS["Family Practice"][2])
    add(rows, "CORE-NPI-CHECK-DIGIT", "rendering NPI 1234567890 fails the check digit")

    n += 1
    rows = professional_claim(n, fp, PATIENTS[7], "BLUE-PPO", date(2024, 9, 20), VISITS["Family Practice"][2])
    for r in rows:
        r["received_date"] = "2024-09-10"
    add(rows, "CORE-SERVICE-AFTER-RECEIPT", "service 2024-09-20 on a claim received 2024-09-10", 1)

    n += 1
    rows = professional_claim(n, PROVIDERS[5], PATIENTS[9], "NY-MEDICAID", dos, VISITS["Physical Therapy"][1])
    rows[0]["units"] = 0
    rows[0]["charge_amount"] = "0.00"
    add(rows, "CORE-UNITS-POSITIVE", "97110 billed with 0 units", 1)

    n += 1
    rows = professional_claim(n, PROVIDERS[1], PATIENTS[11], "MEDICARE", dos, VISITS["Internal Medicine"][2])
    rows[0]["dx_pointers"] = "AC"
    add(rows, "CORE-DX-POINTER-EMPTY", "pointer C names an empty diagnosis slot", 1)

    n += 1
    rows = professional_claim(n, fp, PATIENTS[13], "ACME-COMMERCIAL", dos, VISITS["Family Practice"][0])
    dup = dict(rows[1])
    dup["line_number"] = 4
    rows.append(dup)
    add(rows, "CORE-DUPLICATE-LINE", "36415 keyed twice on one claim", 4)
    # Its 99213 was also billed to another payer for the same patient-day: a fraud-risk lead.
    planted.append((rows[0]["claim_id"], 1, "FRAUD-DUPLICATE-CLAIMS", "99213 billed to ACME-COMMERCIAL after NY-MEDICAID for the same patient-day"))

    n += 1
    rows = professional_claim(n, PROVIDERS[2], PATIENTS[15], "BLUE-PPO", dos, VISITS["Internal Medicine"][3])
    rows[1]["charge_amount"] = "1O.00"  # letter O typed for a zero
    add(rows, "DQ-UNREADABLE-VALUE", "charge `1O.00` is not a number (also CORE-REQUIRED-FIELDS: charge missing)", 2)

    # Federal rules (rules/federal), detectable with the default tables in rules/data. Dated after
    # every base claim and each on its own patient, so no patient-day edit touches a base claim.
    fdos = date(2024, 9, 30)
    derm, pt, im = PROVIDERS[4], PROVIDERS[5], PROVIDERS[1]

    def fed(provider, pat, payer, codes, dx, dos=fdos):
        nonlocal n
        n += 1
        return professional_claim(n, provider, pat, payer, dos, (codes, dx))

    rows = fed(fp, PATIENTS[20], "MEDICARE", [("80053", ""), ("80048", "59")], ["E11.9", "I10"])
    add(rows, "FED-NCCI-PTP", "80048 billed with 80053 (PTP modifier indicator 0: modifier 59 cannot bypass)", 2)

    rows = fed(fp, PATIENTS[21], "MEDICARE", [("99213", "")], ["I10"])
    rows[0]["units"] = 3
    rows[0]["charge_amount"] = "405.00"
    add(rows, "FED-MUE", "99213 billed with 3 units on one date (MUE 2, MAI 3)", 1)

    rows = fed(derm, PATIENTS[22], "MEDICARE", [("17312", "")], ["C44.311"])
    add(rows, "FED-ADDON-PRIMARY", "add-on 17312 without its primary 17311", 1)

    rows = fed(derm, PATIENTS[23], "MEDICARE", [("15271", ""), ("15777", "")], ["L98.9"])
    add(rows, "FED-ADDON-CONTRACTOR", "type 2 add-on 15777: contractor-defined primaries (info)", 2)

    rows = fed(derm, PATIENTS[24], "MEDICARE", [("11042", ""), ("20701", "")], ["L98.9"])
    add(rows, "FED-ADDON-TYPE3", "type 3 add-on 20701 with 11042, not a listed primary", 2)

    rows = fed(im, PATIENTS[25], "MEDICARE", [("99213", "")], ["I10.0"])
    add(rows, "FED-ICD10-INVALID", "dx I10.0 does not exist (I10 has no subcodes)")

    rows = fed(pt, PATIENTS[26], "MEDICARE", [("97110", "")], ["M54.5"])
    add(rows, "FED-ICD10-NOT-BILLABLE", "dx M54.5, a header since 2021-10-01 (M54.50/M54.51/M54.59)")

    rows = fed(im, PATIENTS[27], "MEDICARE", [("99213", "")], ["N80.00"], dos=date(2024, 8, 20))
    add(rows, "FED-MCE-SEX", "N80.00 (female-only until 2024-09-30) on a male patient on 2024-08-20")

    rows = fed(im, PATIENTS[28], "MEDICARE", [("99213", "")], ["A33"])
    add(rows, "FED-MCE-AGE", "newborn diagnosis A33 on an adult patient")

    rows = fed(im, PATIENTS[29], "MEDICARE", [("99214", "")], ["F02.80", "G30.9"])
    add(rows, "FED-MCE-MANIFESTATION", "manifestation code F02.80 listed first, before its etiology G30.9")

    n += 1
    rows = institutional_claim(n, PATIENTS[30], "MEDICARE", fdos)
    for r in rows:
        r["dx_1"], r["dx_2"] = "W19.XXXA", "S72.001A"
    add(rows, "FED-MCE-PRINCIPAL-DX", "external-cause code W19.XXXA as principal diagnosis on an outpatient hospital claim")

    rows = fed(fp, PATIENTS[31], "MEDICARE", [("99213", "25"), ("J0001", "")], ["I10"])
    add(rows, "FED-HCPCS-EXISTS", "J0001 is not a HCPCS Level II code", 2)

    rows = fed(fp, PATIENTS[32], "MEDICARE", [("99213", "")], ["I10"])
    rows[0]["place_of_service"] = "98"
    add(rows, "FED-POS-VALID", "place of service 98 is not assigned", 1)

    rows = fed(fp, PATIENTS[33], "MEDICARE", [("99214", "2S"), ("20610", "RT")], ["M17.11"])
    add(rows, "FED-MODIFIER-VALID", "modifier 2S (25 mistyped) is not a modifier", 1)

    rows = fed(fp, PATIENTS[34], "MEDICARE", [("99213", "")], ["I10"], dos=date(2024, 7, 9))
    for r in rows:
        r["received_date"] = "2025-07-21"
    add(rows, "FED-TIMELY-FILING", "Medicare claim received 2025-07-21 for a 2024-07-09 service (over one year)", 1)

    first = fed(fp, PATIENTS[35], "ACME-COMMERCIAL", [("99213", ""), ("36415", "")], ["I10"])
    claims.append(first)  # the original claim: clean
    rows = fed(fp, PATIENTS[35], "ACME-COMMERCIAL", [("99213", ""), ("36415", "")], ["I10"])
    add(rows, "FED-DUPLICATE-ACROSS-CLAIMS", f"resubmits {first[0]['claim_id']} as a new claim", 1)
    # A plain resubmission is a billing error the payment edit denies, not a fraud-risk lead.

    # Fraud-risk indicators (rules/fraud).
    rows = fed(fp, PATIENTS[36], "MEDICARE", [("99213", "")], ["I10"])
    for r in rows:
        r["patient_death_date"] = "2024-09-15"
    add(rows, "FRAUD-SERVICE-AFTER-DEATH", "visit on 2024-09-30 for a patient who died on 2024-09-15", 1)

    rows = fed((fp[0], "1999999984", fp[2]), PATIENTS[37], "MEDICARE", [("99213", "")], ["I10"])
    add(rows, "FRAUD-EXCLUDED-PROVIDER", "rendering NPI 1999999984 is on the (hand-made) LEIE, excluded since 2024-03-01", 1)

    # A physical therapist billing 27 hours of 15-minute therapy units on one day, over 9 patients.
    pt2 = ("1666666668", "1666666668", "Physical Therapy")
    for k in range(9):
        rows = fed(pt2, PATIENTS[40 + k], "ACME-COMMERCIAL", [("97110", ""), ("97112", "")], ["M54.50"])
        for r in rows:
            r["units"] = 6
            r["charge_amount"] = f"{CHARGES[r['procedure_code']] * 6:.2f}"
        claims.append(rows)
    # A provider-level finding names the provider, not a claim.
    planted.append(("provider:1666666668", None, "FRAUD-IMPOSSIBLE-DAY", "27 hours of timed therapy on 2024-09-30"))
    return planted


def main():
    claims, n = build()
    planted = plant(claims, n)
    with open("samples/claims.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for rows in claims:
            w.writerows(rows)
    with open("samples/planted.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["claim_id", "line_number", "rule_id", "problem"])
        for claim_id, line, rule, what in planted:
            w.writerow([claim_id, "" if line is None else line, rule, what])
    lines = sum(len(c) for c in claims)
    print(f"wrote samples/claims.csv: {len(claims)} claims, {lines} lines; {len(planted)} planted problems")


if __name__ == "__main__":
    main()
