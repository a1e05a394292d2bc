-- FED-MUE (rules/federal/mue.rhai; mue in src/refdata/ncci.rs).
--
-- Record = patient-day (patient_key, provider_key, service_date_from); lines without a date of
-- service or a procedure code are skipped, as are codes without an MUE. Missing units count 0.
--   MAI 1: each line whose units exceed the MUE is flagged.
--   MAI 2/3: units are summed per record and code (across claims); when the sum exceeds the MUE
--   one finding lands on the last line of that code in file order.
-- detail = the procedure code. NaN units never exceed (a Rhai float comparison with NaN is false;
-- DuckDB orders NaN above everything, hence the isnan guards).
WITH lines AS (
    SELECT l._row, l.patient_key, l.provider_key, l.dos, l.procedure_code,
        coalesce(l.units, 0.0) AS units, m.units AS mue_units, m.mai
    FROM cl l JOIN mue m ON m.code = l.procedure_code
    WHERE l.dos IS NOT NULL
),
line_edit AS (
    SELECT _row, procedure_code FROM lines
    WHERE mai = 1 AND NOT isnan(units) AND units > mue_units
),
day_edit AS (
    SELECT max(_row) AS _row, procedure_code FROM lines
    WHERE mai IN (2, 3)
    GROUP BY patient_key, provider_key, dos, procedure_code
    HAVING NOT isnan(sum(units)) AND sum(units) > any_value(mue_units)
)
SELECT 'FED-MUE' AS rule_id, l.claim_key AS claim_id, l.line_number, e.procedure_code AS detail
FROM (SELECT * FROM line_edit UNION ALL SELECT * FROM day_edit) e
JOIN cl l ON l._row = e._row
