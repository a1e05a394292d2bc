-- FED-MCE-SEX (rules/federal/mce_sex.rhai; mce_flags in src/refdata/icd.rs).
--
-- Record = claim (claim_key). patient_sex and dx_1..dx_12 come from the claim's first line in
-- file order; the date is the earliest service_date_from among its lines (none -> skipped).
-- Only sex M or F is checked. The flags of a code on the date are those of its MCE period
-- covering the date (the one stored last when several do); none when no period covers it.
-- A male patient with a "female" flag, or a female patient with a "male" flag, is flagged.
-- Claim-level finding: no line number. detail = 'dx_N'.
WITH anchor AS (
    SELECT * FROM cl QUALIFY row_number() OVER (PARTITION BY claim_key ORDER BY _row) = 1
),
first_dos AS (
    SELECT claim_key, min(dos) AS dos FROM cl WHERE dos IS NOT NULL GROUP BY claim_key
),
dx AS (
    SELECT u.claim_key, u.slot, icd_key(u.code) AS key, u.patient_sex, f.dos
    FROM (UNPIVOT (SELECT claim_key, patient_sex, dx_1, dx_2, dx_3, dx_4, dx_5, dx_6, dx_7, dx_8,
                          dx_9, dx_10, dx_11, dx_12
                   FROM anchor WHERE patient_sex IN ('M', 'F'))
          ON dx_1, dx_2, dx_3, dx_4, dx_5, dx_6, dx_7, dx_8, dx_9, dx_10, dx_11, dx_12
          INTO NAME slot VALUE code) u
    JOIN first_dos f USING (claim_key)
),
flagged AS (
    SELECT d.claim_key, d.slot, d.patient_sex, m.flags
    FROM dx d JOIN mce m ON m.key = d.key AND m.start_d <= d.dos AND d.dos <= m.end_d
    QUALIFY row_number() OVER (PARTITION BY d.claim_key, d.slot ORDER BY m._row DESC) = 1
)
SELECT 'FED-MCE-SEX' AS rule_id, claim_key AS claim_id, CAST(NULL AS BIGINT) AS line_number,
    slot AS detail
FROM flagged
WHERE (patient_sex = 'M' AND list_contains(flags, 'female'))
   OR (patient_sex = 'F' AND list_contains(flags, 'male'))
