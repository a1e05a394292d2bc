-- FED-NCCI-PTP (rules/federal/ncci_ptp.rhai; ptp_hits in src/refdata/ncci.rs).
--
-- Record = patient-day: same patient_key, provider_key (rendering, else billing NPI) and
-- service_date_from, across all claims; lines without a date of service are never checked.
-- Every ordered pair of distinct lines (c1, c2) of a record is looked up as (column 1, column 2).
-- Identical codes on two lines are a pair like any other; a line is never paired with itself.
-- The edit in force on the date: among the pair's rows with eff <= dos <= del, the latest
-- effective date, then the earliest deletion date, then the lowest indicator (the first row in
-- claimlint's sort order). Indicator 9 never fires; 0 always fires; 1 is skipped when either
-- line carries an NCCI-associated modifier in modifier_1..modifier_4.
-- One finding per column 2 line and column 1 code, on the column 2 line (detail = column 1 code).
WITH lines AS (
    SELECT _row, patient_key, provider_key, dos, procedure_code AS code,
        -- NCCI-associated modifiers (the list in ncci_ptp.rhai)
        coalesce(list_has_any([modifier_1, modifier_2, modifier_3, modifier_4],
            ['E1', 'E2', 'E3', 'E4', 'FA', 'F1', 'F2', 'F3', 'F4', 'F5', 'F6', 'F7', 'F8', 'F9',
             'TA', 'T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7', 'T8', 'T9', 'LT', 'RT', 'LC', 'LD',
             'RC', 'LM', 'RI', '24', '25', '57', '58', '78', '79', '27', '59', '91',
             'XE', 'XS', 'XP', 'XU']), false)
            AS ncci_mod
    FROM cl
    WHERE dos IS NOT NULL AND hcpcs_key(procedure_code) IS NOT NULL
),
pairs AS (
    SELECT c1._row AS row1, c2._row AS row2, c1.code AS code1, c2.code AS code2, c1.dos,
        c1.ncci_mod OR c2.ncci_mod AS any_mod
    FROM lines c1
    JOIN lines c2
      ON c1.patient_key = c2.patient_key AND c1.provider_key = c2.provider_key
     AND c1.dos = c2.dos AND c1._row <> c2._row
),
candidates AS (
    SELECT DISTINCT code1, code2, dos FROM pairs
),
edit AS (
    SELECT c.code1, c.code2, c.dos, p.ind
    FROM candidates c
    JOIN ptp p ON p.column_1 = c.code1 AND p.column_2 = c.code2 AND p.eff <= c.dos AND c.dos <= p.del
    QUALIFY row_number() OVER (PARTITION BY c.code1, c.code2, c.dos ORDER BY p.eff DESC, p.del, p.ind) = 1
),
hits AS (
    SELECT DISTINCT p.row2, p.code1
    FROM pairs p JOIN edit e USING (code1, code2, dos)
    WHERE e.ind = 0 OR (e.ind = 1 AND NOT p.any_mod)
)
SELECT 'FED-NCCI-PTP' AS rule_id, l.claim_key AS claim_id, l.line_number, h.code1 AS detail
FROM hits h JOIN cl l ON l._row = h.row2
