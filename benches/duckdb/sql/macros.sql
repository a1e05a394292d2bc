-- Shared value parsing, mirroring claimlint's loaders. Run first.

-- Rust's char::is_whitespace set, which Polars' strip_chars(NULL) uses.
CREATE OR REPLACE MACRO cl_trim_all(x) AS trim(x,
    chr(32) || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(133) || chr(160) ||
    chr(5760) || chr(8192) || chr(8193) || chr(8194) || chr(8195) || chr(8196) || chr(8197) ||
    chr(8198) || chr(8199) || chr(8200) || chr(8201) || chr(8202) || chr(8232) || chr(8233) ||
    chr(8239) || chr(8287) || chr(12288));
-- Fast path: a value whose first and last characters are printable ASCII needs no trimming.
CREATE OR REPLACE MACRO cl_trim_s(s) AS
    CASE WHEN ascii(s) BETWEEN 33 AND 126 AND ascii(right(s, 1)) BETWEEN 33 AND 126 THEN s
         ELSE cl_trim_all(s) END;
CREATE OR REPLACE MACRO cl_trim(x) AS cl_trim_s(CAST(x AS VARCHAR));
CREATE OR REPLACE MACRO cl_text(x) AS nullif(cl_trim(x), '');
CREATE OR REPLACE MACRO cl_code(x) AS upper(cl_text(x));
CREATE OR REPLACE MACRO cl_date(x) AS
    CAST(try_strptime(cl_text(x), ['%Y-%m-%d', '%Y%m%d', '%m/%d/%Y']) AS DATE);
CREATE OR REPLACE MACRO cl_num(x) AS
    CASE WHEN isfinite(TRY_CAST(trim(replace(cl_text(x), ',', ''), '$ ') AS DOUBLE))
         THEN TRY_CAST(trim(replace(cl_text(x), ',', ''), '$ ') AS DOUBLE) END;
CREATE OR REPLACE MACRO cl_int(x) AS
    CASE WHEN cl_num(x) = floor(cl_num(x)) THEN TRY_CAST(cl_num(x) AS BIGINT) END;

-- HCPCS/CPT code as claimlint packs it (src/refdata/pack.rs pack_hcpcs): exactly five ASCII
-- letters or digits after trimming, case-insensitive; anything else never matches a table.
CREATE OR REPLACE MACRO hcpcs_key(x) AS
    CASE WHEN regexp_full_match(cl_trim(x), '[0-9A-Za-z]{5}') THEN upper(cl_trim(x)) END;

-- ICD-10-CM code with or without the dot (pack_icd): trimmed, every '.' removed, then 3 to 7
-- ASCII letters or digits, case-insensitive.
CREATE OR REPLACE MACRO icd_key(x) AS
    CASE WHEN regexp_full_match(replace(cl_trim(x), '.', ''), '[0-9A-Za-z]{3,7}')
         THEN upper(replace(cl_trim(x), '.', '')) END;

-- Reference-table dates (pack.rs parse_date_field): YYYY-MM-DD (or a timestamp starting so),
-- YYYYMMDD, YYYYDDD, MM/DD/YYYY. Empty, '*', all zeros and years >= 9999 are "open" and give
-- `open_`; anything else is an error, as in claimlint. t is the output of ref_text.
CREATE OR REPLACE MACRO ref_date_parse(t) AS CAST(CASE
    WHEN length(t) = 10 AND t[5] = '-' AND t[8] = '-' THEN TRY_CAST(t AS DATE)
    WHEN length(t) > 10 AND t[5] = '-' AND t[8] = '-' AND t[11] IN (' ', 'T')
        THEN TRY_CAST(t[1:10] AS DATE)
    WHEN regexp_full_match(t, '[0-9]{8}') THEN try_strptime(t, '%Y%m%d')
    WHEN regexp_full_match(t, '[0-9]{7}') THEN try_strptime(t, '%Y%j')
    WHEN regexp_full_match(t, '[^/]*/[^/]*/[0-9]{4}') THEN try_strptime(t, '%m/%d/%Y')
END AS DATE);
CREATE OR REPLACE MACRO ref_date_t(t, open_) AS CASE
    WHEN t = '9999-12-31' OR t = '' OR t = '*' OR regexp_full_match(t, '0+') THEN open_
    WHEN ref_date_parse(t) IS NULL THEN CAST(error('unreadable reference-table date ' || t) AS DATE)
    WHEN year(ref_date_parse(t)) >= 9999 THEN open_
    ELSE ref_date_parse(t)
END;
-- The text a reference date is parsed from: trimmed, surrounding quotes removed, trimmed again.
-- Compute it in a subquery and pass the column to ref_date_t, which names it many times (inlining
-- the whole expression there makes DuckDB's planner slow).
CREATE OR REPLACE MACRO ref_text(s) AS
    cl_trim(trim(cl_trim(coalesce(CAST(s AS VARCHAR), '')), '"'));

-- v, or an error with message msg when v is NULL (CASE evaluates msg only for those rows).
CREATE OR REPLACE MACRO or_error(v, msg) AS CASE WHEN v IS NULL THEN error(msg) ELSE v END;
