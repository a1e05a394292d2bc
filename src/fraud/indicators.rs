//! Provider-level fraud-risk indicators, computed once per batch before the rules run.
//!
//! Polars does the group-bys (provider × code, provider × day, provider calendar shares); plain
//! Rust then compares each provider with its peers: the other providers of the same specialty
//! (or taxonomy) in the batch, or every provider when the specialty is blank. The results are
//! numbers only; the rules in rules/fraud decide, with their thresholds as parameters, what is
//! worth a finding. Rules read them as the provider-scope variable `indicators`.

use std::collections::HashMap;

use anyhow::Result;
use chrono::Datelike;
use polars::prelude::*;
use serde::Serialize;

use super::calendar;
use super::puf::ExternalPeers;
use super::stats::{self, BenfordResult, ChiSquare};
pub use crate::batch::{EM_ESTABLISHED, EM_NEW};
use crate::batch::{col_index, has_modifier, provider_key, Batch, MOD_59_FAMILY};
use crate::dates::{from_days, to_days};
use crate::refdata::RefData;

/// Add-on codes and the primary they are billed with, for add-on-to-primary ratios.
pub const ADDON_PAIRS: [(&str, &str); 4] = [("17312", "17311"), ("17314", "17313"), ("11045", "11042"), ("11046", "11043")];
/// Peers needed before a median and MAD mean anything.
pub const MIN_PEERS_ROBUST: usize = 5;
/// Busiest days kept per provider for the impossible-day rule.
const BUSIEST_DAYS: usize = 10;
/// Charge outliers kept per provider (largest z first).
const TOP_OUTLIERS: usize = 10;

#[derive(Debug, Clone, Serialize)]
pub struct EmIndicator {
    pub codes: Vec<String>,
    /// Units billed at each level.
    pub counts: Vec<f64>,
    /// The peers' pooled units at each level (this provider left out).
    pub peer_counts: Vec<f64>,
    pub visits: f64,
    /// Share of the two highest levels.
    pub high_share: f64,
    pub peer_high_share: Option<f64>,
    /// Chi-square test of this provider's level mix against the peers' (2 × k contingency).
    pub chi_square: Option<ChiSquare>,
    /// High-level visits beyond what the peers' mix predicts (observed − expected), at least 0.
    pub excess_high_visits: f64,
    /// Mean charge per unit at the two highest levels.
    pub high_mean_charge: f64,
    /// The specialty's level shares in the external peer table (`--peers`), when it has them.
    pub external_shares: Option<Vec<f64>>,
    pub external_high_share: Option<f64>,
    /// Goodness of fit of this provider's counts to the external shares.
    pub external_chi_square: Option<ChiSquare>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RateIndicator {
    /// Lines with the trait (modifier 25, a 59-family modifier, weekend or holiday).
    pub count: f64,
    /// Lines it is a share of.
    pub base: f64,
    pub rate: f64,
    pub peer_count: f64,
    pub peer_base: f64,
    pub peer_rate: Option<f64>,
    /// 2 × 2 chi-square p-value against the peers; `()` when the peers have no lines.
    pub p_value: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DayMinutes {
    pub date: String,
    pub minutes: f64,
    /// Billed charges of the timed lines that day.
    pub charge: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AddonRatio {
    pub addon: String,
    pub primary: String,
    pub addon_units: f64,
    pub primary_units: f64,
    /// Add-on units per primary unit; `()` without the primary.
    pub ratio: Option<f64>,
    pub peer_median: Option<f64>,
    pub peer_scaled_mad: Option<f64>,
    pub z: Option<f64>,
    /// Peers (this provider included) with the primary code billed.
    pub peers: usize,
    /// Mean charge per add-on unit.
    pub addon_mean_charge: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChargeOutlier {
    pub code: String,
    pub units: f64,
    /// This provider's charge per unit.
    pub charge_per_unit: f64,
    pub peer_median: f64,
    pub peer_scaled_mad: f64,
    pub z: f64,
    pub percentile: f64,
    pub peers: usize,
}

/// Every indicator for one provider, with the numbers behind it.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderIndicators {
    pub npi: String,
    pub specialty: String,
    /// The peer group's name: the specialty, or "all providers".
    pub peer_group: String,
    /// Providers in the peer group, this one included.
    pub peer_group_size: usize,
    pub lines: usize,
    pub total_charge: f64,
    pub em: Option<EmIndicator>,
    pub em_new: Option<EmIndicator>,
    pub modifier_25: Option<RateIndicator>,
    pub modifier_59: Option<RateIndicator>,
    pub weekend_holiday: Option<RateIndicator>,
    pub benford: Option<BenfordResult>,
    pub busiest_days: Vec<DayMinutes>,
    pub addon_ratios: Vec<AddonRatio>,
    pub charge_outliers: Vec<ChargeOutlier>,
}

/// A peer distribution: median, scaled MAD, and the values sorted for percentiles.
struct Robust {
    median: f64,
    mad: f64,
    sorted: Vec<f64>,
}

#[derive(Default, Clone, Copy)]
struct CodeStat {
    lines: f64,
    units: f64,
    charge: f64,
    mod25: f64,
    mod59: f64,
}

fn str_col<'a>(df: &'a DataFrame, name: &str) -> Result<&'a StringChunked> {
    Ok(df.column(name)?.str()?)
}

fn f64_col(df: &DataFrame, name: &str) -> Result<Vec<f64>> {
    Ok(df.column(name)?.cast(&DataType::Float64)?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect())
}

/// Provider × code: lines, units, charges and modifier counts.
fn code_stats(frame: &DataFrame, index: &HashMap<String, usize>, n: usize) -> Result<Vec<HashMap<String, CodeStat>>> {
    let df = frame
        .clone()
        .lazy()
        .with_column(provider_key().alias("_provider"))
        .group_by([col("_provider"), col("procedure_code")])
        .agg([
            len().alias("lines"),
            col("units").sum().alias("units"),
            col("charge_amount").sum().alias("charge"),
            has_modifier(&["25"]).sum().alias("mod25"),
            has_modifier(&MOD_59_FAMILY).sum().alias("mod59"),
        ])
        .collect()?;
    let (prov, code) = (str_col(&df, "_provider")?, str_col(&df, "procedure_code")?);
    let (lines, units, charge, m25, m59) =
        (f64_col(&df, "lines")?, f64_col(&df, "units")?, f64_col(&df, "charge")?, f64_col(&df, "mod25")?, f64_col(&df, "mod59")?);
    let mut out = vec![HashMap::new(); n];
    for i in 0..df.height() {
        let (Some(p), Some(c)) = (prov.get(i), code.get(i)) else { continue };
        if let Some(&g) = index.get(p) {
            out[g].insert(c.to_string(), CodeStat { lines: lines[i], units: units[i], charge: charge[i], mod25: m25[i], mod59: m59[i] });
        }
    }
    Ok(out)
}

/// Provider × day minutes of timed services, the busiest days first.
fn busiest_days(frame: &DataFrame, refdata: &RefData, index: &HashMap<String, usize>, n: usize) -> Result<Vec<Vec<DayMinutes>>> {
    let mut out = vec![Vec::new(); n];
    let table = refdata.service_minutes();
    if table.is_empty() {
        return Ok(out);
    }
    let minutes = df!(
        "procedure_code" => table.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(),
        "_minutes" => table.iter().map(|(_, m)| *m).collect::<Vec<_>>(),
    )?;
    let df = frame
        .clone()
        .lazy()
        .with_column(provider_key().alias("_provider"))
        .join(minutes.lazy(), [col("procedure_code")], [col("procedure_code")], JoinArgs::new(JoinType::Inner))
        .filter(col("service_date_from").is_not_null())
        .group_by([col("_provider"), col("service_date_from")])
        .agg([
            (col("units").fill_null(lit(0.0)) * col("_minutes")).sum().alias("minutes"),
            col("charge_amount").sum().alias("charge"),
        ])
        .sort(["minutes"], SortMultipleOptions::default().with_order_descending(true))
        .collect()?;
    let prov = str_col(&df, "_provider")?;
    let dates = df.column("service_date_from")?.cast(&DataType::String)?;
    let dates = dates.str()?;
    let (mins, charge) = (f64_col(&df, "minutes")?, f64_col(&df, "charge")?);
    for i in 0..df.height() {
        let Some(&g) = prov.get(i).and_then(|p| index.get(p)) else { continue };
        if out[g].len() < BUSIEST_DAYS {
            out[g].push(DayMinutes { date: dates.get(i).unwrap_or("").to_string(), minutes: mins[i], charge: charge[i] });
        }
    }
    Ok(out)
}

/// Provider: (lines on a weekend or federal holiday, lines with a date).
fn weekend_holiday_counts(frame: &DataFrame, index: &HashMap<String, usize>, n: usize) -> Result<Vec<(f64, f64)>> {
    let dates = frame.column("service_date_from")?.date()?.physical().clone();
    let (lo, hi) = (dates.min(), dates.max());
    let mut holidays: Vec<i32> = Vec::new();
    if let (Some(lo), Some(hi)) = (lo, hi) {
        // Up to the year after: New Year's Day on a Saturday is observed on December 31.
        for y in from_days(lo).year()..=from_days(hi).year() + 1 {
            holidays.extend(calendar::federal_holidays(y).into_iter().map(to_days));
        }
    }
    let days = col("service_date_from").cast(DataType::Int32);
    // 1970-01-01 was a Thursday: day 2 (mod 7) is Saturday, 3 is Sunday.
    let weekday = (days.clone() + lit(7_000_000)) % lit(7);
    let flagged = weekday.clone().eq(lit(2)).or(weekday.eq(lit(3))).or(days.is_in(lit(Series::new("h".into(), holidays)).implode(false), false));
    let df = frame
        .clone()
        .lazy()
        .with_column(provider_key().alias("_provider"))
        .filter(col("service_date_from").is_not_null())
        .group_by([col("_provider")])
        .agg([flagged.cast(DataType::Float64).sum().alias("flagged"), len().alias("dated")])
        .collect()?;
    let prov = str_col(&df, "_provider")?;
    let (flagged, dated) = (f64_col(&df, "flagged")?, f64_col(&df, "dated")?);
    let mut out = vec![(0.0, 0.0); n];
    for i in 0..df.height() {
        if let Some(&g) = prov.get(i).and_then(|p| index.get(p)) {
            out[g] = (flagged[i], dated[i]);
        }
    }
    Ok(out)
}

fn rate(count: f64, base: f64, peer_count: f64, peer_base: f64) -> Option<RateIndicator> {
    if base <= 0.0 {
        return None;
    }
    let p_value = (peer_base > 0.0)
        .then(|| stats::chi_square_2xk(&[count, base - count], &[peer_count, peer_base - peer_count]))
        .flatten()
        .map(|c| c.p_value);
    Some(RateIndicator {
        count,
        base,
        rate: count / base,
        peer_count,
        peer_base,
        peer_rate: stats::share(peer_count, peer_base),
        p_value,
    })
}

fn em_indicator(levels: &[&str], mine: &HashMap<String, CodeStat>, pooled: &[f64], external: Option<&HashMap<String, f64>>) -> Option<EmIndicator> {
    let counts: Vec<f64> = levels.iter().map(|c| mine.get(*c).map_or(0.0, |s| s.units)).collect();
    let visits: f64 = counts.iter().sum();
    if visits <= 0.0 {
        return None;
    }
    let peer_counts: Vec<f64> = pooled.iter().zip(&counts).map(|(p, m)| (p - m).max(0.0)).collect();
    let k = levels.len();
    let high = counts[k - 2] + counts[k - 1];
    let chi_square = stats::chi_square_2xk(&counts, &peer_counts);
    let excess_high_visits = chi_square
        .as_ref()
        .map(|c| ((c.observed[k - 2] + c.observed[k - 1]) - (c.expected[k - 2] + c.expected[k - 1])).max(0.0))
        .unwrap_or(0.0);
    let high_charge: f64 = levels[k - 2..].iter().map(|c| mine.get(*c).map_or(0.0, |s| s.charge)).sum();
    let external_counts: Option<Vec<f64>> =
        external.map(|e| levels.iter().map(|c| e.get(*c).copied().unwrap_or(0.0)).collect()).filter(|v: &Vec<f64>| v.iter().sum::<f64>() > 0.0);
    let external_total: f64 = external_counts.as_ref().map_or(0.0, |v| v.iter().sum());
    let external_shares = external_counts.map(|v| v.iter().map(|x| x / external_total).collect::<Vec<f64>>());
    Some(EmIndicator {
        external_chi_square: external_shares.as_ref().and_then(|s| stats::chi_square_goodness_of_fit(&counts, s)),
        external_high_share: external_shares.as_ref().map(|s| s[k - 2] + s[k - 1]),
        external_shares,
        codes: levels.iter().map(|s| s.to_string()).collect(),
        high_share: high / visits,
        peer_high_share: stats::share(peer_counts[k - 2] + peer_counts[k - 1], peer_counts.iter().sum()),
        counts,
        peer_counts,
        visits,
        chi_square,
        excess_high_visits,
        high_mean_charge: if high > 0.0 { high_charge / high } else { 0.0 },
    })
}

/// Computes every provider's indicators. Providers are in `batch.providers` order.
pub fn compute(frame: &DataFrame, batch: &Batch, refdata: &RefData, external: Option<&ExternalPeers>) -> Result<Vec<ProviderIndicators>> {
    let n = batch.providers.len();
    let specialty_col = col_index("provider_specialty");
    let charge_col = col_index("charge_amount");
    let mut index = HashMap::with_capacity(n);
    let mut npis = Vec::with_capacity(n);
    let mut specialties = Vec::with_capacity(n);
    for (g, rows) in batch.providers.iter().enumerate() {
        let first = rows[0] as usize;
        let npi = batch.provider.get(first).to_string();
        index.insert(npi.clone(), g);
        npis.push(npi);
        specialties.push(batch.text(specialty_col, first).trim().to_string());
    }
    let codes = code_stats(frame, &index, n)?;
    let days = busiest_days(frame, refdata, &index, n)?;
    let calendar = weekend_holiday_counts(frame, &index, n)?;

    // Peer groups by specialty (case-insensitive); a blank specialty compares with everyone.
    let group_key: Vec<String> = specialties.iter().map(|s| s.to_lowercase()).collect();
    let mut groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (g, key) in group_key.iter().enumerate() {
        groups.entry(key.as_str()).or_default().push(g);
    }
    let all: Vec<usize> = (0..n).collect();
    let peers_of = |g: usize| -> &Vec<usize> {
        if group_key[g].is_empty() {
            &all
        } else {
            &groups[group_key[g].as_str()]
        }
    };

    // Pooled sums per peer group, computed once.
    struct Pooled {
        em: Vec<f64>,
        em_new: Vec<f64>,
        mod25: (f64, f64),
        mod59: (f64, f64),
        calendar: (f64, f64),
    }
    let pool = |members: &[usize]| {
        let mut p = Pooled { em: vec![0.0; 5], em_new: vec![0.0; 4], mod25: (0.0, 0.0), mod59: (0.0, 0.0), calendar: (0.0, 0.0) };
        for &g in members {
            for (i, c) in EM_ESTABLISHED.iter().enumerate() {
                p.em[i] += codes[g].get(*c).map_or(0.0, |s| s.units);
            }
            for (i, c) in EM_NEW.iter().enumerate() {
                p.em_new[i] += codes[g].get(*c).map_or(0.0, |s| s.units);
            }
            let (m25, em_lines, m59, lines) = modifier_counts(&codes[g]);
            p.mod25.0 += m25;
            p.mod25.1 += em_lines;
            p.mod59.0 += m59;
            p.mod59.1 += lines;
            p.calendar.0 += calendar[g].0;
            p.calendar.1 += calendar[g].1;
        }
        p
    };
    let mut pooled: HashMap<&str, Pooled> = groups.iter().map(|(k, m)| (*k, pool(m))).collect();
    pooled.insert("", pool(&all));

    // Per peer group and code, every provider's charge per unit; per group and add-on pair, every
    // ratio. Collected in one pass and summarised once, not once per provider.
    let mut unit_charges: HashMap<(&str, &str), Vec<f64>> = HashMap::new();
    let mut ratios: HashMap<(&str, usize), Vec<f64>> = HashMap::new();
    // Providers without a specialty compare with everyone: the "" group holds every provider.
    let need_all = group_key.iter().any(|k| k.is_empty());
    for g in 0..n {
        let own = group_key[g].as_str();
        let keys: &[&str] = match (own.is_empty(), need_all) {
            (true, _) => &[""],
            (false, true) => &[own, ""],
            (false, false) => &[own],
        };
        for &key in keys {
            for (code, s) in &codes[g] {
                if s.units > 0.0 {
                    unit_charges.entry((key, code.as_str())).or_default().push(s.charge / s.units);
                }
            }
            for (k, (addon, primary)) in ADDON_PAIRS.iter().enumerate() {
                let pu = codes[g].get(*primary).map_or(0.0, |s| s.units);
                if pu > 0.0 {
                    ratios.entry((key, k)).or_default().push(codes[g].get(*addon).map_or(0.0, |s| s.units) / pu);
                }
            }
        }
    }
    let summarise = |mut v: Vec<f64>| -> Option<Robust> {
        if v.len() < MIN_PEERS_ROBUST {
            return None;
        }
        let (median, mad) = stats::mad_scaled(&v)?;
        v.sort_by(f64::total_cmp);
        Some(Robust { median, mad, sorted: v })
    };
    let unit_charges: HashMap<(&str, &str), Robust> =
        unit_charges.into_iter().filter_map(|(k, v)| summarise(v).map(|r| (k, r))).collect();
    let ratios: HashMap<(&str, usize), Robust> = ratios.into_iter().filter_map(|(k, v)| summarise(v).map(|r| (k, r))).collect();

    let mut out = Vec::with_capacity(n);
    for g in 0..n {
        let key = group_key[g].as_str();
        let members = peers_of(g);
        let p = &pooled[key];
        let mine = &codes[g];
        let (m25, em_lines, m59, lines) = modifier_counts(mine);

        let mut charge_outliers = Vec::new();
        for (code, s) in mine {
            if s.units <= 0.0 {
                continue;
            }
            let Some(r) = unit_charges.get(&(key, code.as_str())) else { continue };
            let x = s.charge / s.units;
            if let Some(z) = stats::robust_z(x, r.median, r.mad) {
                charge_outliers.push(ChargeOutlier {
                    code: code.clone(),
                    units: s.units,
                    charge_per_unit: x,
                    peer_median: r.median,
                    peer_scaled_mad: r.mad,
                    z,
                    percentile: r.sorted.partition_point(|v| *v <= x) as f64 / r.sorted.len() as f64,
                    peers: r.sorted.len(),
                });
            }
        }
        charge_outliers.sort_by(|a, b| b.z.total_cmp(&a.z).then(a.code.cmp(&b.code)));
        charge_outliers.truncate(TOP_OUTLIERS);

        let mut addon_ratios = Vec::new();
        for (k, (addon, primary)) in ADDON_PAIRS.iter().enumerate() {
            let a = mine.get(*addon).copied().unwrap_or_default();
            let pr = mine.get(*primary).copied().unwrap_or_default();
            if pr.units <= 0.0 && a.units <= 0.0 {
                continue;
            }
            let ratio = (pr.units > 0.0).then(|| a.units / pr.units);
            let r = ratios.get(&(key, k));
            addon_ratios.push(AddonRatio {
                addon: addon.to_string(),
                primary: primary.to_string(),
                addon_units: a.units,
                primary_units: pr.units,
                ratio,
                peer_median: r.map(|r| r.median),
                peer_scaled_mad: r.map(|r| r.mad),
                z: r.zip(ratio).and_then(|(r, x)| stats::robust_z(x, r.median, r.mad)),
                peers: r.map_or(0, |r| r.sorted.len()),
                addon_mean_charge: if a.units > 0.0 { a.charge / a.units } else { 0.0 },
            });
        }

        let rows = batch.providers.get(g);
        let charges = rows.iter().filter_map(|&r| batch.number(charge_col, r as usize));
        out.push(ProviderIndicators {
            npi: npis[g].clone(),
            specialty: specialties[g].clone(),
            peer_group: if key.is_empty() { "all providers".into() } else { specialties[g].clone() },
            peer_group_size: members.len(),
            lines: rows.len(),
            total_charge: rows.iter().filter_map(|&r| batch.number(charge_col, r as usize)).sum(),
            em: em_indicator(&EM_ESTABLISHED, mine, &p.em, external.and_then(|e| e.get(key))),
            em_new: em_indicator(&EM_NEW, mine, &p.em_new, external.and_then(|e| e.get(key))),
            modifier_25: rate(m25, em_lines, p.mod25.0 - m25, p.mod25.1 - em_lines),
            modifier_59: rate(m59, lines, p.mod59.0 - m59, p.mod59.1 - lines),
            weekend_holiday: rate(calendar[g].0, calendar[g].1, p.calendar.0 - calendar[g].0, p.calendar.1 - calendar[g].1),
            benford: stats::benford(charges),
            busiest_days: days[g].clone(),
            addon_ratios,
            charge_outliers,
        });
    }
    Ok(out)
}

/// (E/M lines with modifier 25, E/M lines, lines with a 59-family modifier, all lines).
fn modifier_counts(codes: &HashMap<String, CodeStat>) -> (f64, f64, f64, f64) {
    let mut t = (0.0, 0.0, 0.0, 0.0);
    for (code, s) in codes {
        if EM_ESTABLISHED.contains(&code.as_str()) || EM_NEW.contains(&code.as_str()) {
            t.0 += s.mod25;
            t.1 += s.lines;
        }
        t.2 += s.mod59;
        t.3 += s.lines;
    }
    t
}

/// The indicators as the Rhai values rules read (`indicators.em.chi_square.p_value`, ...).
pub fn to_dynamic(ind: &ProviderIndicators) -> rhai::Dynamic {
    rhai::serde::to_dynamic(ind).unwrap_or(rhai::Dynamic::UNIT)
}
