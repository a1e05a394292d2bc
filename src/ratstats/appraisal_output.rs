//! Plain-text reports laid out like RAT-STATS's printouts, and CSV for spreadsheets.
//!
//! Text reports carry no date or time so that the same input always gives the same bytes
//! (the CLI's snapshot tests depend on it). All result structs also derive `Serialize` for the
//! HTML report.
use std::fmt::Write as _;

use super::attribute::AttributeAppraisal;
use super::sample::{RandomNumbers, StratifiedRandomNumbers};
use super::sample_size::{AttributeSampleSize, VariableSampleSizeTable};
use super::stratified::{OverallStats, StratifiedVariableAppraisal};
use super::variable::{ConfidenceLimits, UnrestrictedVariableAppraisal, VariableStats};

/// `1234567.891` with 2 decimals gives `1,234,567.89`; negatives keep their sign.
pub fn fmt_amount(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let s = format!("{:.*}", decimals, v.abs());
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (s.clone(), None),
    };
    let mut grouped = String::new();
    for (i, ch) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    // A value that rounds to zero prints without a minus sign.
    let negative = v < 0.0 && s.chars().any(|c| c.is_ascii_digit() && c != '0');
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    out.push_str(&grouped);
    if let Some(f) = frac {
        out.push('.');
        out.push_str(&f);
    }
    out
}

fn fmt_int(v: u64) -> String {
    fmt_amount(v as f64, 0)
}

fn pct_label(c: f64) -> String {
    let p = c * 100.0;
    if (p - p.round()).abs() < 1e-9 {
        format!("{}%", p.round() as i64)
    } else {
        format!("{}%", (p * 1e6).round() / 1e6)
    }
}

fn header(out: &mut String, title: &str, audit: &str) {
    let center = |s: &str| format!("{:^78}", s);
    let _ = writeln!(out, "{}", center("RAT-STATS COMPATIBLE (claimlint)").trim_end());
    let _ = writeln!(out, "{}", center(title).trim_end());
    let _ = writeln!(out);
    if !audit.is_empty() {
        let _ = writeln!(out, "AUDIT/REVIEW: {audit}");
    }
}

/// Single-stage random numbers: the sample sorted by value with its selection order, then the
/// spares in the order they are to be used.
pub fn random_numbers_text(r: &RandomNumbers, audit: &str) -> String {
    let mut out = String::new();
    header(&mut out, "SINGLE STAGE RANDOM NUMBERS", audit);
    let _ = writeln!(out, "SEED: {}", r.seed);
    let _ = writeln!(out, "FRAME: {} TO {} ({} ITEMS)", r.low, r.high, fmt_int(r.frame_size));
    let _ = writeln!(out, "QUANTITY OF RANDOM NUMBERS: {}", fmt_int(r.quantity));
    let _ = writeln!(out, "QUANTITY OF SPARES: {}", fmt_int(r.spares_requested));
    let _ = writeln!(out);
    let _ = writeln!(out, "{:>10}  {:>14}", "SELECTION", "RANDOM");
    let _ = writeln!(out, "{:>10}  {:>14}", "ORDER", "NUMBER");
    for s in &r.sorted_detail {
        let _ = writeln!(out, "{:>10}  {:>14}", s.selection_order, s.value);
    }
    if !r.spares.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "SPARES IN RANDOM ORDER");
        for (i, v) in r.spares.iter().enumerate() {
            let _ = writeln!(out, "{:>10}  {:>14}", r.quantity as usize + i + 1, v);
        }
    }
    out
}

/// Stratified random numbers, one block per stratum.
pub fn stratified_random_numbers_text(r: &StratifiedRandomNumbers, audit: &str) -> String {
    let mut out = String::new();
    header(&mut out, "STRATIFIED RANDOM NUMBERS", audit);
    let _ = writeln!(out, "SEED: {}", r.seed);
    let _ = writeln!(out, "STRATA: {}   TOTAL SAMPLE: {}", r.strata.len(), fmt_int(r.total_quantity));
    for s in &r.strata {
        let _ = writeln!(out);
        let name = if s.name.is_empty() { String::new() } else { format!(" ({})", s.name) };
        let _ = writeln!(
            out,
            "STRATUM {}{}: FRAME {} TO {} ({} ITEMS), SAMPLE {}, SPARES {}",
            s.stratum,
            name,
            s.low,
            s.high,
            fmt_int(s.frame_size),
            s.quantity,
            s.spares.len()
        );
        // Items are listed by frame position; find each sorted number's item by its selection.
        let item = |k: i64| {
            s.selected_items.as_ref().and_then(|items| s.selection_order.iter().position(|&v| v == k).map(|p| items[p].clone())).unwrap_or_default()
        };
        let _ = writeln!(out, "{:>10}  {:>14}  ITEM", "SEL ORDER", "NUMBER");
        for d in &s.sorted_detail {
            let _ = writeln!(out, "{:>10}  {:>14}  {}", d.selection_order, d.value, item(d.value));
        }
        if !s.spares.is_empty() {
            let _ = writeln!(out, "SPARES IN RANDOM ORDER");
            for (i, v) in s.spares.iter().enumerate() {
                let it = s.spare_items.as_ref().and_then(|x| x.get(i).cloned()).unwrap_or_default();
                let _ = writeln!(out, "{:>10}  {:>14}  {}", s.quantity as usize + i + 1, v, it);
            }
        }
    }
    // Trailing spaces from empty item columns are noise in a text report.
    out.lines().map(str::trim_end).collect::<Vec<_>>().join("\n") + "\n"
}

fn opt(v: Option<f64>, d: usize) -> String {
    v.map(|x| fmt_amount(x, d)).unwrap_or_else(|| "n/a".into())
}

fn rows_for(out: &mut String, labels_values: &[(&str, Vec<String>)]) {
    for (label, vals) in labels_values {
        let _ = write!(out, "{:<28}", label);
        for v in vals {
            let _ = write!(out, "{:>17}", v);
        }
        let _ = writeln!(out);
    }
}

fn limit_rows(out: &mut String, levels: &[f64], get: &dyn Fn(usize) -> Vec<ConfidenceLimits>, factor_label: &str) {
    for (i, &c) in levels.iter().enumerate() {
        let ls = get(i);
        let _ = writeln!(out);
        let _ = writeln!(out, "{} CONFIDENCE LEVEL", pct_label(c));
        rows_for(
            out,
            &[
                ("LOWER LIMIT", ls.iter().map(|l| fmt_amount(l.lower_limit, 2)).collect()),
                ("UPPER LIMIT", ls.iter().map(|l| fmt_amount(l.upper_limit, 2)).collect()),
                ("PRECISION AMOUNT", ls.iter().map(|l| fmt_amount(l.precision_amount, 2)).collect()),
                ("PRECISION PERCENT", ls.iter().map(|l| format!("{:.2}%", l.precision_percent)).collect()),
                (factor_label, ls.iter().map(|l| format!("{:.6}", l.factor)).collect()),
            ],
        );
    }
}

fn variable_block(out: &mut String, blocks: &[&VariableStats]) {
    let _ = write!(out, "{:<28}", "");
    for b in blocks {
        let _ = write!(out, "{:>17}", b.kind.label());
    }
    let _ = writeln!(out);
    let col = |f: &dyn Fn(&VariableStats) -> String| blocks.iter().map(|b| f(b)).collect::<Vec<_>>();
    rows_for(
        out,
        &[
            ("MEAN", col(&|b| fmt_amount(b.mean, 2))),
            ("SAMPLE TOTAL", col(&|b| fmt_amount(b.sample_total, 2))),
            ("NONZERO ITEMS", col(&|b| fmt_int(b.nonzero_items))),
            ("STANDARD DEVIATION", col(&|b| fmt_amount(b.std_dev, 2))),
            ("SKEWNESS", col(&|b| opt(b.skewness, 6))),
            ("KURTOSIS", col(&|b| opt(b.kurtosis, 6))),
            ("STANDARD ERROR (MEAN)", col(&|b| fmt_amount(b.se_mean, 2))),
            ("STANDARD ERROR (TOTAL)", col(&|b| fmt_amount(b.se_total, 2))),
            ("POINT ESTIMATE", col(&|b| fmt_amount(b.point_estimate, 2))),
        ],
    );
    let levels: Vec<f64> = blocks.first().map(|b| b.limits.iter().map(|l| l.confidence).collect()).unwrap_or_default();
    limit_rows(out, &levels, &|i| blocks.iter().map(|b| b.limits[i].clone()).collect(), "T-VALUE USED");
}

/// Unrestricted variable appraisal, one column per kind of value.
pub fn variable_text(a: &UnrestrictedVariableAppraisal, audit: &str) -> String {
    let mut out = String::new();
    header(&mut out, "UNRESTRICTED VARIABLE APPRAISAL", audit);
    let _ = writeln!(out, "SAMPLE SIZE: {}", fmt_int(a.sample_size));
    let _ = writeln!(out, "UNIVERSE SIZE: {}", fmt_int(a.universe_size));
    let _ = writeln!(out);
    variable_block(&mut out, &a.blocks());
    out
}

fn overall_block(out: &mut String, blocks: &[&OverallStats]) {
    let _ = write!(out, "{:<28}", "");
    for b in blocks {
        let _ = write!(out, "{:>17}", b.kind.label());
    }
    let _ = writeln!(out);
    let col = |f: &dyn Fn(&OverallStats) -> String| blocks.iter().map(|b| f(b)).collect::<Vec<_>>();
    rows_for(
        out,
        &[
            ("MEAN", col(&|b| fmt_amount(b.mean, 2))),
            ("NONZERO ITEMS", col(&|b| fmt_int(b.nonzero_items))),
            ("STANDARD ERROR (MEAN)", col(&|b| fmt_amount(b.se_mean, 2))),
            ("STANDARD ERROR (TOTAL)", col(&|b| fmt_amount(b.se_total, 2))),
            ("POINT ESTIMATE", col(&|b| fmt_amount(b.point_estimate, 2))),
        ],
    );
    let levels: Vec<f64> = blocks.first().map(|b| b.limits.iter().map(|l| l.confidence).collect()).unwrap_or_default();
    limit_rows(out, &levels, &|i| blocks.iter().map(|b| b.limits[i].clone()).collect(), "Z-VALUE USED");
}

/// Stratified variable appraisal: each stratum (t-based limits), then the overall (Z-based).
pub fn stratified_text(a: &StratifiedVariableAppraisal, audit: &str) -> String {
    let mut out = String::new();
    header(&mut out, "STRATIFIED VARIABLE APPRAISAL", audit);
    let _ = writeln!(out, "STRATA: {}", a.strata.len());
    let _ = writeln!(out, "SAMPLE SIZE: {}", fmt_int(a.sample_size));
    let _ = writeln!(out, "UNIVERSE SIZE: {}", fmt_int(a.universe_size));
    for s in &a.strata {
        let _ = writeln!(out);
        let name = if s.name.is_empty() { String::new() } else { format!(" ({})", s.name) };
        let _ = writeln!(out, "STRATUM {}{}: SAMPLE SIZE {}, UNIVERSE SIZE {}", s.stratum, name, fmt_int(s.sample_size), fmt_int(s.universe_size));
        let blocks: Vec<&VariableStats> = [&s.examined, &s.audited, &s.difference].into_iter().flatten().collect();
        variable_block(&mut out, &blocks);
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "OVERALL (ALL STRATA)");
    overall_block(&mut out, &a.overall_blocks());
    out
}

/// Unrestricted attribute appraisal.
pub fn attribute_text(a: &AttributeAppraisal, audit: &str) -> String {
    let mut out = String::new();
    header(&mut out, "UNRESTRICTED ATTRIBUTE APPRAISAL", audit);
    let _ = writeln!(out, "UNIVERSE SIZE: {}", fmt_int(a.universe_size));
    let _ = writeln!(out, "SAMPLE SIZE: {}", fmt_int(a.sample_size));
    let _ = writeln!(out, "CHARACTERISTICS OF INTEREST: {}", fmt_int(a.sample_errors));
    let _ = writeln!(out, "SAMPLE PERCENT: {:.4}%", a.sample_percent);
    let _ = writeln!(out, "POINT ESTIMATE (UNIVERSE ITEMS): {}", fmt_amount(a.point_estimate_quantity, 2));
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<12}{:>12}{:>12}{:>12}{:>12}", "CONFIDENCE", "LOWER", "UPPER", "LOWER %", "UPPER %");
    for l in &a.limits {
        let _ = writeln!(
            out,
            "{:<12}{:>12}{:>12}{:>11.4}%{:>11.4}%",
            pct_label(l.confidence),
            fmt_int(l.lower_quantity),
            fmt_int(l.upper_quantity),
            l.lower_percent,
            l.upper_percent
        );
    }
    out
}

/// Variable sample sizes from a probe sample.
pub fn variable_sample_size_text(t: &VariableSampleSizeTable, audit: &str) -> String {
    let mut out = String::new();
    header(&mut out, "VARIABLE SAMPLE SIZE (PROBE SAMPLE)", audit);
    let _ = writeln!(out, "UNIVERSE SIZE: {}", fmt_int(t.universe_size));
    let _ = writeln!(out, "PROBE SAMPLE SIZE: {}", fmt_int(t.probe_size));
    let _ = writeln!(out, "PROBE MEAN: {}", fmt_amount(t.probe_mean, 2));
    let _ = writeln!(out, "PROBE STANDARD DEVIATION: {}", fmt_amount(t.probe_std_dev, 2));
    let _ = writeln!(out, "ESTIMATED TOTAL: {}", fmt_amount(t.estimated_total, 2));
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<12}{:>12}{:>20}{:>14}", "CONFIDENCE", "PRECISION", "PRECISION AMOUNT", "SAMPLE SIZE");
    for c in &t.cells {
        let _ = writeln!(
            out,
            "{:<12}{:>11}%{:>20}{:>14}",
            pct_label(c.confidence),
            c.precision_percent,
            fmt_amount(c.precision_amount, 2),
            fmt_int(c.sample_size)
        );
    }
    out
}

/// Attribute sample size.
pub fn attribute_sample_size_text(s: &AttributeSampleSize, audit: &str) -> String {
    let mut out = String::new();
    header(&mut out, "ATTRIBUTE SAMPLE SIZE", audit);
    let _ = writeln!(out, "UNIVERSE SIZE: {}", fmt_int(s.universe_size));
    let _ = writeln!(out, "CONFIDENCE LEVEL: {} (TWO-SIDED)", pct_label(s.confidence));
    let _ = writeln!(out, "ANTICIPATED RATE: {:.4}%", 100.0 * s.anticipated_rate);
    let _ = writeln!(out, "DESIRED PRECISION: +/- {:.4}%", 100.0 * s.precision);
    let _ = writeln!(out, "SAMPLE SIZE: {}", fmt_int(s.sample_size));
    let _ = writeln!(out, "EXPECTED ERRORS {} GIVE LIMITS {} TO {} ITEMS", s.expected_errors, fmt_int(s.lower_quantity), fmt_int(s.upper_quantity));
    out
}

/// Quotes a CSV field when it needs it.
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn opt_csv(v: Option<f64>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

/// `kind,selection_order,value`: the sample in selection order, then the spares.
pub fn random_numbers_csv(r: &RandomNumbers) -> String {
    let mut out = String::from("kind,selection_order,value\n");
    for (i, v) in r.selection_order.iter().enumerate() {
        let _ = writeln!(out, "sample,{},{}", i + 1, v);
    }
    for (i, v) in r.spares.iter().enumerate() {
        let _ = writeln!(out, "spare,{},{}", r.quantity as usize + i + 1, v);
    }
    out
}

/// `stratum,name,kind,selection_order,value,item,frame_size`; `claimlint audit --sample` reads
/// the universe of each stratum from `frame_size`.
pub fn stratified_random_numbers_csv(r: &StratifiedRandomNumbers) -> String {
    let mut out = String::from("stratum,name,kind,selection_order,value,item,frame_size\n");
    for s in &r.strata {
        let rows =
            s.selection_order.iter().enumerate().map(|(i, v)| ("sample", i, *v, s.selected_items.as_ref().map(|x| x[i].clone()))).chain(
                s.spares.iter().enumerate().map(|(i, v)| ("spare", s.quantity as usize + i, *v, s.spare_items.as_ref().map(|x| x[i].clone()))),
            );
        for (kind, i, v, item) in rows {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{}",
                s.stratum,
                csv_field(&s.name),
                kind,
                i + 1,
                v,
                csv_field(&item.unwrap_or_default()),
                s.frame_size
            );
        }
    }
    out
}

const VARIABLE_CSV_HEADER: &str = "stratum,kind,universe_size,sample_size,mean,std_dev,skewness,kurtosis,se_mean,se_total,point_estimate,confidence,factor,lower_limit,upper_limit,precision_amount,precision_percent\n";

fn variable_csv_rows(out: &mut String, stratum: &str, b: &VariableStats) {
    for l in &b.limits {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            stratum,
            b.kind.label().to_lowercase(),
            b.universe_size,
            b.sample_size,
            b.mean,
            b.std_dev,
            opt_csv(b.skewness),
            opt_csv(b.kurtosis),
            b.se_mean,
            b.se_total,
            b.point_estimate,
            l.confidence,
            l.factor,
            l.lower_limit,
            l.upper_limit,
            l.precision_amount,
            l.precision_percent
        );
    }
}

/// One row per kind of value and confidence level (full precision, for spreadsheets).
pub fn variable_csv(a: &UnrestrictedVariableAppraisal) -> String {
    let mut out = String::from(VARIABLE_CSV_HEADER);
    for b in a.blocks() {
        variable_csv_rows(&mut out, "", b);
    }
    out
}

/// Per-stratum rows (stratum number), then overall rows (stratum `overall`; no skewness,
/// kurtosis or standard deviation, which are per-stratum figures).
pub fn stratified_csv(a: &StratifiedVariableAppraisal) -> String {
    let mut out = String::from(VARIABLE_CSV_HEADER);
    for s in &a.strata {
        for b in [&s.examined, &s.audited, &s.difference].into_iter().flatten() {
            variable_csv_rows(&mut out, &s.stratum.to_string(), b);
        }
    }
    for b in a.overall_blocks() {
        for l in &b.limits {
            let _ = writeln!(
                out,
                "overall,{},{},{},{},,,,{},{},{},{},{},{},{},{},{}",
                b.kind.label().to_lowercase(),
                b.universe_size,
                b.sample_size,
                b.mean,
                b.se_mean,
                b.se_total,
                b.point_estimate,
                l.confidence,
                l.factor,
                l.lower_limit,
                l.upper_limit,
                l.precision_amount,
                l.precision_percent
            );
        }
    }
    out
}

/// One row per confidence level.
pub fn attribute_csv(a: &AttributeAppraisal) -> String {
    let mut out = String::from(
        "universe_size,sample_size,sample_errors,point_estimate_quantity,confidence,lower_quantity,upper_quantity,lower_percent,upper_percent\n",
    );
    for l in &a.limits {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            a.universe_size,
            a.sample_size,
            a.sample_errors,
            a.point_estimate_quantity,
            l.confidence,
            l.lower_quantity,
            l.upper_quantity,
            l.lower_percent,
            l.upper_percent
        );
    }
    out
}

/// One row per confidence level and precision.
pub fn variable_sample_size_csv(t: &VariableSampleSizeTable) -> String {
    let mut out = String::from("confidence,precision_percent,precision_amount,sample_size\n");
    for c in &t.cells {
        let _ = writeln!(out, "{},{},{},{}", c.confidence, c.precision_percent, c.precision_amount, c.sample_size);
    }
    out
}
