-- Claims as claimlint sees them after loading (src/load/normalise.rs, src/batch.rs).
--
-- Input: a table or view `claims` with every canonical column of docs/schema.md (any DuckDB type:
-- text from CSV, DATE/DOUBLE from Parquet; columns absent from the file are NULL) plus `_row`,
-- the 0-based position of the line in the input (file order).
--
-- Output: table `cl`, one row per line, with the values the four edits read:
--   * text trimmed of whitespace, blank -> NULL; code columns (procedure, modifiers, sex, dx)
--     also upper-cased;
--   * dates parsed from YYYY-MM-DD, YYYYMMDD or MM/DD/YYYY (anything else -> NULL);
--   * units: ',' removed, '$' and ' ' stripped from the ends, then a float (unreadable, NaN or infinite -> NULL);
--   * line_number: a whole number, else NULL; NULLs are then numbered like claimlint does
--     (per claim in file order: counter = max(counter, given) / counter + 1 when missing);
--   * group keys: claim_key = claim_id or '', patient_key = patient_id or '',
--     provider_key = rendering_npi, else billing_npi, else ''.

-- Uses the macros of macros.sql.

CREATE OR REPLACE TABLE cl AS
WITH t AS (
    SELECT
        CAST(_row AS BIGINT) AS _row,
        cl_text(claim_id) AS claim_id,
        cl_text(patient_id) AS patient_id,
        cl_code(patient_sex) AS patient_sex,
        cl_text(billing_npi) AS billing_npi,
        cl_text(rendering_npi) AS rendering_npi,
        cl_code(dx_1) AS dx_1, cl_code(dx_2) AS dx_2, cl_code(dx_3) AS dx_3,
        cl_code(dx_4) AS dx_4, cl_code(dx_5) AS dx_5, cl_code(dx_6) AS dx_6,
        cl_code(dx_7) AS dx_7, cl_code(dx_8) AS dx_8, cl_code(dx_9) AS dx_9,
        cl_code(dx_10) AS dx_10, cl_code(dx_11) AS dx_11, cl_code(dx_12) AS dx_12,
        cl_int(line_number) AS line_given,
        cl_date(service_date_from) AS dos,
        cl_code(procedure_code) AS procedure_code,
        cl_code(modifier_1) AS modifier_1, cl_code(modifier_2) AS modifier_2,
        cl_code(modifier_3) AS modifier_3, cl_code(modifier_4) AS modifier_4,
        cl_num(units) AS units
    FROM claims
),
k AS (
    SELECT *,
        coalesce(claim_id, '') AS claim_key,
        coalesce(patient_id, '') AS patient_key,
        coalesce(rendering_npi, billing_npi, '') AS provider_key
    FROM t
),
n AS (
    -- counter after row k = missing_k + max(0, max over given rows j <= k of (given_j - missing_j)),
    -- where missing_k counts rows without a line number up to and including k (same claim).
    SELECT *,
        sum(CASE WHEN line_given IS NULL THEN 1 ELSE 0 END)
            OVER (PARTITION BY claim_key ORDER BY _row ROWS UNBOUNDED PRECEDING) AS missing
    FROM k
)
SELECT * EXCLUDE (line_given, missing, run_max),
    coalesce(line_given, missing + greatest(0, coalesce(run_max, 0))) AS line_number
FROM (
    SELECT *,
        max(line_given - missing)
            OVER (PARTITION BY claim_key ORDER BY _row ROWS UNBOUNDED PRECEDING) AS run_max
    FROM n
);
