-- Reference tables in claimlint's normalised layout, indexed the way src/refdata reads them.
--
-- Input (created by baseline.py from the files under the refdata dir, every column as text, `_row`
-- = row position in the file; a table whose file is absent is empty):
--   ptp_raw(column_1, column_2, effective_date, deletion_date, modifier_indicator)
--   mue_raw(hcpcs_code, mue_units, mue_mai)
--   icd_list_raw(code, billable)
--   mce_raw(code, start_date, end_date, flags)
--   ref_meta(ptp_loaded, mue_loaded, list_loaded, mce_loaded, list_from, list_to): the code
--   list's fiscal-year window, read from "fyYYYY" in its file name (NULL = no window).
-- Rows claimlint would refuse (a code that is not a code, an unknown indicator, an unreadable
-- date) raise an error here too, instead of being dropped silently.

-- PTP (ncci.rs load_ptp / PtpIndex): an edit row applies on a date when eff <= dos <= del. The
-- normalised layout has no effective date, so eff is -infinity unless an effective_date column
-- exists; 9999-12-31, '*' and empty deletion dates are open (+infinity). Exact duplicate rows
-- are harmless (the choice below does not depend on multiplicity).
CREATE OR REPLACE TABLE ptp AS
WITH dates AS (
    -- a few hundred distinct date strings: parse each once
    SELECT s, ref_date_t(t, CAST('-infinity' AS DATE)) AS eff, ref_date_t(t, CAST('infinity' AS DATE)) AS del
    FROM (SELECT s, ref_text(s) AS t
          FROM (SELECT DISTINCT effective_date AS s FROM ptp_raw
                UNION SELECT DISTINCT deletion_date FROM ptp_raw))
)
SELECT
    or_error(hcpcs_key(r.column_1), ('PTP column_1 is not a HCPCS/CPT code: ' || coalesce(r.column_1, 'NULL'))) AS column_1,
    or_error(hcpcs_key(r.column_2), ('PTP column_2 is not a HCPCS/CPT code: ' || coalesce(r.column_2, 'NULL'))) AS column_2,
    e.eff,
    d.del,
    CASE WHEN r.modifier_indicator IN ('0', '1', '9') THEN CAST(r.modifier_indicator AS UTINYINT)
         WHEN regexp_full_match(cl_trim(coalesce(r.modifier_indicator, '')), '\+?0*[019]')
         THEN CAST(cl_trim(r.modifier_indicator) AS UTINYINT)
         ELSE CAST(error('PTP modifier indicator is not 0, 1 or 9: ' || coalesce(r.modifier_indicator, 'NULL')) AS UTINYINT)
    END AS ind
FROM ptp_raw r
JOIN dates e ON e.s IS NOT DISTINCT FROM r.effective_date
JOIN dates d ON d.s IS NOT DISTINCT FROM r.deletion_date;

-- MUE (load_mue / MueIndex): one entry per code, the last row of the file wins (a hash-map
-- insert). units is a whole number, the MAI the first character of the indicator cell (1-3).
CREATE OR REPLACE TABLE mue AS
SELECT code, units, mai FROM (
    SELECT
        or_error(hcpcs_key(hcpcs_code), ('MUE hcpcs_code is not a HCPCS/CPT code: ' || coalesce(hcpcs_code, 'NULL'))) AS code,
        CASE WHEN regexp_full_match(cl_trim(coalesce(mue_units, '')), '\+?[0-9]+')
             THEN CAST(cl_trim(mue_units) AS UINTEGER)
             ELSE CAST(error('MUE units is not a number: ' || coalesce(mue_units, 'NULL')) AS UINTEGER)
        END AS units,
        CASE WHEN left(cl_trim(coalesce(mue_mai, '')), 1) IN ('1', '2', '3')
             THEN CAST(left(cl_trim(mue_mai), 1) AS UTINYINT)
             ELSE CAST(error('MUE adjudication indicator: ' || coalesce(mue_mai, 'NULL')) AS UTINYINT)
        END AS mai,
        _row
    FROM mue_raw
)
QUALIFY row_number() OVER (PARTITION BY code ORDER BY _row DESC) = 1;

-- ICD-10-CM fiscal-year list (icd.rs load_list / IcdList): key -> billable, last row wins.
CREATE OR REPLACE TABLE icd_list AS
SELECT key, billable FROM (
    SELECT
        or_error(icd_key(code), ('ICD-10-CM list: not an ICD-10-CM code: ' || coalesce(code, 'NULL'))) AS key,
        CASE WHEN cl_trim(coalesce(billable, '')) IN ('Y', 'y', '1', 'true', 'TRUE') THEN true
             WHEN cl_trim(coalesce(billable, '')) IN ('N', 'n', '0', 'false', 'FALSE') THEN false
             ELSE CAST(error('ICD-10-CM list: billable is not Y/N: ' || coalesce(billable, 'NULL')) AS BOOLEAN)
        END AS billable,
        _row
    FROM icd_list_raw
)
QUALIFY row_number() OVER (PARTITION BY key ORDER BY _row DESC) = 1;

-- MCE diagnosis master (icd.rs load_mce / MceMaster): periods per code, start/end inclusive
-- (empty = open); flags lower-cased; an exact duplicate period (same dates and flag set) is
-- stored once, at its first position. mce_flags() takes the covering period stored last.
CREATE OR REPLACE TABLE mce AS
SELECT key, start_d, end_d, flags, _row FROM (
    SELECT
        or_error(icd_key(code), ('MCE master: not an ICD-10-CM code: ' || coalesce(code, 'NULL'))) AS key,
        ref_date_t(start_t, CAST('-infinity' AS DATE)) AS start_d,
        ref_date_t(end_t, CAST('infinity' AS DATE)) AS end_d,
        list_sort(list_distinct(
            [lower(cl_trim(f)) FOR f IN string_split(coalesce(flags, ''), '|') IF cl_trim(f) <> '']
        )) AS flags,
        _row
    FROM (SELECT *, ref_text(start_date) AS start_t, ref_text(end_date) AS end_t FROM mce_raw)
)
QUALIFY row_number() OVER (PARTITION BY key, start_d, end_d, flags ORDER BY _row) = 1;
