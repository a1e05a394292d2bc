-- FED-ICD10-INVALID (rules/federal/icd10_invalid.rhai; icd10_status in src/refdata/icd.rs).
--
-- Record = claim (claim_key). The dx_1..dx_12 values are those of the claim's first line in file
-- order; the dates are the distinct service_date_from of all its lines (a claim with none is
-- skipped). Each non-blank slot is flagged once when its status is "unknown" or
-- "invalid_on_date" on any of those dates. Status of code c on date d:
--   c not 3-7 letters/digits once the dots are removed     -> unknown
--   MCE master loaded and c in it: a period covers d       -> valid
--                                  else a list header (N)  -> not_billable, else invalid_on_date
--   c in the FY list, not billable                         -> not_billable
--   c in the FY list, billable: d in the list's fiscal year, or no MCE master -> valid,
--                               else invalid_on_date
--   otherwise                                              -> unknown
-- Claim-level finding: no line number. detail = 'dx_N:unknown' or 'dx_N:invalid_on_date' (with a
-- single release, "unknown" does not depend on the date, so the kind is well defined).
WITH anchor AS (
    SELECT * FROM cl QUALIFY row_number() OVER (PARTITION BY claim_key ORDER BY _row) = 1
),
dx AS (
    SELECT claim_key, slot, code, icd_key(code) AS key
    FROM (UNPIVOT anchor ON dx_1, dx_2, dx_3, dx_4, dx_5, dx_6, dx_7, dx_8, dx_9, dx_10, dx_11, dx_12
          INTO NAME slot VALUE code)
),
dates AS (
    SELECT DISTINCT claim_key, dos FROM cl WHERE dos IS NOT NULL
),
checks AS (
    SELECT dx.claim_key, dx.slot, dx.key, d.dos FROM dx JOIN dates d USING (claim_key)
),
mce_cover AS (
    -- per (key, date): does the key have MCE periods, and does one cover the date
    SELECT c.key, c.dos, bool_or(m.start_d <= c.dos AND c.dos <= m.end_d) AS covered
    FROM (SELECT DISTINCT key, dos FROM checks WHERE key IS NOT NULL) c
    JOIN mce m ON m.key = c.key
    GROUP BY ALL
),
status AS (
    SELECT c.claim_key, c.slot,
        CASE
            WHEN c.key IS NULL THEN 'unknown'
            WHEN meta.mce_loaded AND mc.key IS NOT NULL THEN
                CASE WHEN mc.covered THEN 'valid'
                     WHEN li.billable = false THEN 'not_billable'
                     ELSE 'invalid_on_date' END
            WHEN li.key IS NOT NULL AND NOT li.billable THEN 'not_billable'
            WHEN li.key IS NOT NULL THEN
                CASE WHEN (meta.list_from IS NULL OR c.dos BETWEEN meta.list_from AND meta.list_to)
                          OR NOT meta.mce_loaded THEN 'valid'
                     ELSE 'invalid_on_date' END
            ELSE 'unknown'
        END AS status
    FROM checks c
    CROSS JOIN ref_meta meta
    LEFT JOIN mce_cover mc ON mc.key = c.key AND mc.dos = c.dos
    LEFT JOIN icd_list li ON li.key = c.key
)
SELECT 'FED-ICD10-INVALID' AS rule_id, claim_key AS claim_id, CAST(NULL AS BIGINT) AS line_number,
    slot || ':' || CASE WHEN bool_or(status = 'unknown') THEN 'unknown' ELSE 'invalid_on_date' END AS detail
FROM status
WHERE status IN ('unknown', 'invalid_on_date')
GROUP BY claim_key, slot
