#!/usr/bin/env python3
"""DuckDB baseline of four federal edits, for a differential check against claimlint.

    baseline.py CLAIMS_FILE --refdata DIR --out FINDINGS.csv [--threads N]

Loads the claims (CSV/TSV or Parquet, canonical column names; claimlint's built-in header aliases
are honoured) and the normalised reference tables under DIR into DuckDB, runs the SQL under
sql/ (FED-NCCI-PTP, FED-MUE, FED-ICD10-INVALID, FED-MCE-SEX) and writes
rule_id,claim_id,line_number,detail (line_number empty for claim-level findings). Prints timings
and counts per rule. Python 3.11, standard library + duckdb.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import re
import sys
import time
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
SQL = HERE / "sql"

# docs/schema.md, in schema order; (name, required).
COLUMNS = [
    ("claim_id", True), ("claim_type", False), ("payer_id", False), ("patient_id", True),
    ("patient_birth_date", False), ("patient_sex", False), ("patient_death_date", False),
    ("billing_npi", False), ("rendering_npi", False), ("provider_specialty", False),
    ("received_date", False), ("prior_auth_number", False),
    *[(f"dx_{i}", False) for i in range(1, 13)],
    ("type_of_bill", False), ("principal_procedure_code", False), ("other_procedure_codes", False),
    ("line_number", False), ("service_date_from", True), ("service_date_to", False),
    ("place_of_service", False), ("procedure_code", True),
    ("modifier_1", False), ("modifier_2", False), ("modifier_3", False), ("modifier_4", False),
    ("units", True), ("charge_amount", True), ("dx_pointers", False), ("paid_amount", False),
    ("revenue_code", False),
]
CANONICAL = {name for name, _ in COLUMNS}

# src/schema.rs BUILTIN_ALIASES
ALIASES = {
    "claim_number": "claim_id", "claim_no": "claim_id", "member_id": "patient_id",
    "dob": "patient_birth_date", "birth_date": "patient_birth_date", "sex": "patient_sex",
    "gender": "patient_sex", "cpt": "procedure_code", "hcpcs": "procedure_code",
    "cpt_hcpcs": "procedure_code", "dos": "service_date_from",
    "date_of_service": "service_date_from", "pos": "place_of_service", "charge": "charge_amount",
    "charges": "charge_amount", "billed_amount": "charge_amount", "paid": "paid_amount",
    "tob": "type_of_bill", "rev_code": "revenue_code",
}

# (table, file-name pattern, required columns, optional columns)
REF_TABLES = [
    ("ptp_raw", "ptp_practitioner_*",
     ["column_1", "column_2", "deletion_date", "modifier_indicator"], ["effective_date"]),
    ("mue_raw", "mue_practitioner_*", ["hcpcs_code", "mue_units", "mue_mai"], []),
    ("icd_list_raw", "icd10cm_*", ["code", "billable"], []),
    ("mce_raw", "mce_*icd10_dx_master*", ["code", "start_date", "end_date", "flags"], []),
]
REF_SUFFIXES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")

EDITS = [
    ("FED-NCCI-PTP", "fed_ncci_ptp.sql", "ptp_loaded"),
    ("FED-MUE", "fed_mue.sql", "mue_loaded"),
    ("FED-ICD10-INVALID", "fed_icd10_invalid.sql", "icd_loaded"),
    ("FED-MCE-SEX", "fed_mce_sex.sql", "mce_loaded"),
]


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def ident(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def normalise_header(raw: str) -> str:
    """src/schema.rs normalise_header: trim, drop a BOM, ' - . /' -> '_', lower-case."""
    out = []
    for ch in raw.strip().lstrip("\ufeff"):
        out.append("_" if ch in " -./" else ch.lower())
    return "".join(out)


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith((".parquet", ".pq"))


def csv_header(path: Path) -> list[str]:
    """The header row of a CSV/TSV file (optionally gzip-compressed), BOM removed."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    delim = "\t" if ".tsv" in path.name.lower() else ","
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        return next(csv.reader(f, delimiter=delim), [])


def source_columns(path: Path) -> list[str]:
    if is_parquet(path):
        return [d[0] for d in duckdb.sql(f"SELECT * FROM read_parquet({sql_str(str(path))}) LIMIT 0").description]
    return csv_header(path)


def reader(path: Path, header: list[str], row_number: bool = False) -> str:
    """A DuckDB table function reading the file: every column as text for CSV/TSV (no type or
    dialect sniffing: comma or tab, double quotes), as stored for Parquet."""
    p = sql_str(str(path))
    if is_parquet(path):
        return f"read_parquet({p}{', file_row_number = true' if row_number else ''})"
    delim = "\t" if ".tsv" in path.name.lower() else ","
    # positional names: header cells may repeat or be empty
    cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(len(header))) + "}"
    return (f"read_csv({p}, header = true, delim = {sql_str(delim)}, quote = '\"', escape = '\"', "
            f"auto_detect = false, columns = {cols}, null_padding = true)")


def source_ref(path: Path, header: list[str], i: int) -> str:
    """How column i of the file is named in the reader() output."""
    return ident(header[i]) if is_parquet(path) else f"c{i}"


def load_claims(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    header = source_columns(path)
    mapped: dict[str, int] = {}
    for i, c in enumerate(header):
        norm = normalise_header(c)
        target = ALIASES.get(norm, norm)
        if target not in CANONICAL:
            continue
        if target in mapped:
            sys.exit(f"{path}: two columns map to `{target}` (the second is `{c}`)")
        mapped[target] = i
    missing = [n for n, req in COLUMNS if req and n not in mapped]
    if missing:
        sys.exit(f"{path}: missing required column(s) {', '.join(missing)}")
    select = ", ".join(
        f"{source_ref(path, header, mapped[n])} AS {n}" if n in mapped else f"CAST(NULL AS VARCHAR) AS {n}"
        for n, _ in COLUMNS)
    if is_parquet(path):
        con.execute(f"CREATE OR REPLACE TABLE claims AS SELECT {select}, file_row_number AS _row "
                    f"FROM {reader(path, header, row_number=True)}")
    else:
        # insertion order is preserved, so rowid is the position in the file
        con.execute(f"CREATE OR REPLACE TABLE claims_in AS SELECT {select} FROM {reader(path, header)}")
        con.execute("CREATE OR REPLACE TABLE claims AS SELECT *, rowid AS _row FROM claims_in")
        con.execute("DROP TABLE claims_in")
    return con.execute("SELECT count(*) FROM claims").fetchone()[0]


def find_ref(root: Path, pattern: str) -> list[Path]:
    found = []
    for p in sorted(root.rglob(pattern)):
        rel = p.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        if p.name.lower().endswith(REF_SUFFIXES):
            found.append(p)
    return found


def fiscal_window(name: str):
    """The FY window claimlint gives a code list named ...fyYYYY...: YYYY-1-10-01..YYYY-09-30."""
    m = re.search(r"fy(\d{4})(?!\d)", name.lower())
    if not m:
        return None
    y = int(m.group(1))
    return f"{y - 1}-10-01", f"{y}-09-30"


def load_refdata(con: duckdb.DuckDBPyConnection, root: Path) -> dict:
    if not root.is_dir():
        sys.exit(f"reference data directory {root} does not exist")
    meta = {}
    for table, pattern, required, optional in REF_TABLES:
        files = find_ref(root, pattern)
        cols = required + optional
        if len(files) > 1:
            sys.exit(f"{root}: several files match {pattern}: {', '.join(map(str, files))}; "
                     "this baseline handles one release per table")
        if not files:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT "
                        + ", ".join(f"CAST(NULL AS VARCHAR) AS {c}" for c in cols)
                        + ", CAST(NULL AS BIGINT) AS _row WHERE false")
            meta[table] = None
            continue
        f = files[0]
        header = source_columns(f)
        have: dict[str, int] = {}
        for i, c in enumerate(header):  # detect.rs norm_header: trimmed, single-spaced, lower-case
            have.setdefault(" ".join(c.lstrip("\ufeff").split()).lower(), i)
        miss = [c for c in required if c not in have]
        if miss:
            sys.exit(f"{f}: missing column(s) {', '.join(miss)}")
        select = ", ".join(
            f"CAST({source_ref(f, header, have[c])} AS VARCHAR) AS {c}" if c in have
            else f"CAST(NULL AS VARCHAR) AS {c}"
            for c in cols)
        con.execute(f"CREATE OR REPLACE TABLE {table}_in AS SELECT {select} FROM {reader(f, header)}")
        con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT *, rowid AS _row FROM {table}_in")
        con.execute(f"DROP TABLE {table}_in")
        meta[table] = f
    window = fiscal_window(meta["icd_list_raw"].name) if meta["icd_list_raw"] else None
    con.execute(
        "CREATE OR REPLACE TABLE ref_meta AS SELECT ? AS ptp_loaded, ? AS mue_loaded, "
        "? AS list_loaded, ? AS mce_loaded, CAST(? AS DATE) AS list_from, CAST(? AS DATE) AS list_to",
        [meta["ptp_raw"] is not None, meta["mue_raw"] is not None,
         meta["icd_list_raw"] is not None, meta["mce_raw"] is not None,
         window[0] if window else None, window[1] if window else None])
    return meta


def run_sql_file(con: duckdb.DuckDBPyConnection, name: str) -> None:
    con.execute((SQL / name).read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("claims", type=Path, help="claims file (.csv, .tsv or .parquet)")
    ap.add_argument("--refdata", type=Path, required=True, help="reference-data directory (normalised layout)")
    ap.add_argument("--out", type=Path, required=True, help="findings CSV to write")
    ap.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    args = ap.parse_args()

    t_all = time.perf_counter()
    con = duckdb.connect()
    if args.threads:
        con.execute(f"SET threads = {int(args.threads)}")
    con.execute("SET preserve_insertion_order = true")
    timings: list[tuple[str, float]] = []

    def timed(label, fn):
        t = time.perf_counter()
        out = fn()
        timings.append((label, time.perf_counter() - t))
        return out

    timed("macros", lambda: run_sql_file(con, "macros.sql"))
    n_lines = timed("load claims", lambda: load_claims(con, args.claims))
    timed("normalise claims", lambda: run_sql_file(con, "normalise_claims.sql"))
    meta = timed("load refdata", lambda: load_refdata(con, args.refdata))
    timed("index refdata", lambda: run_sql_file(con, "refdata.sql"))
    loaded = {
        "ptp_loaded": meta["ptp_raw"] is not None,
        "mue_loaded": meta["mue_raw"] is not None,
        "icd_loaded": meta["icd_list_raw"] is not None or meta["mce_raw"] is not None,
        "mce_loaded": meta["mce_raw"] is not None,
    }

    con.execute("CREATE OR REPLACE TABLE findings (rule_id VARCHAR, claim_id VARCHAR, "
                "line_number BIGINT, detail VARCHAR)")
    counts = {}
    for rule, file, need in EDITS:
        if not loaded[need]:
            counts[rule] = None
            continue
        query = (SQL / file).read_text().strip().rstrip(";")
        timed(rule, lambda: con.execute(f"INSERT INTO findings {query}"))
        counts[rule] = con.execute("SELECT count(*) FROM findings WHERE rule_id = ?", [rule]).fetchone()[0]

    args.out.parent.mkdir(parents=True, exist_ok=True)
    timed("write findings", lambda: con.execute(
        f"COPY (SELECT * FROM findings ORDER BY claim_id, line_number NULLS FIRST, rule_id, detail) "
        f"TO {sql_str(str(args.out))} (HEADER, DELIMITER ',')"))
    total = time.perf_counter() - t_all

    print(f"duckdb {duckdb.__version__}: {n_lines} lines from {args.claims}; refdata {args.refdata}")
    for table, f in meta.items():
        print(f"  {table[:-4]:<9} {f if f else 'not loaded'}")
    print("timings:")
    for label, secs in timings:
        print(f"  {label:<20} {secs:8.3f} s")
    print(f"  {'total':<20} {total:8.3f} s")
    print("findings:")
    for rule, n in counts.items():
        print(f"  {rule:<20} {'skipped (table not loaded)' if n is None else n}")
    print(f"  {'all':<20} {sum(n or 0 for n in counts.values())}  -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
