//! Provider records: the reduce step. From merged [`ProviderPartials`], one record per provider
//! with the aggregates provider rules read and the fraud-risk indicators, each measured against
//! the provider's peers (the other providers of its specialty, or every provider when the
//! specialty is blank).
//!
//! Every peer comparison reports the two things an investigator needs before spending time on a
//! lead:
//! - **effect size**: where the provider's value sits among its peers' values, as a robust
//!   z-score (distance from the peers' median in scaled MADs) and a percentile;
//! - **significance**: a one-sided p-value of the provider's own counts against the peers'
//!   pooled rate (exact binomial or Poisson tail), and that p-value adjusted by
//!   Benjamini-Hochberg across every provider of the batch (`q_value`), so that testing hundreds
//!   of providers does not make dozens of leads by chance.
//!
//! The numbers only describe; the rules in rules/fraud decide, with thresholds as parameters,
//! what is worth a finding. Rules read a record as the provider-scope variable `indicators`.

use std::collections::{BTreeSet, HashMap};

use chrono::Datelike;
use rhai::Dynamic;
use serde::Serialize;

use super::calendar;
use super::partials::{ProviderPartial, ProviderPartials, MILLI};
use super::puf::ExternalPeers;
use super::stats::{self, ChiSquare, Conformity};
use crate::batch::{EM_ESTABLISHED, EM_NEW};
use crate::dates::{from_days, to_days};
use crate::refdata::RefData;

/// Add-on codes and the primary they are billed with, for add-on-to-primary ratios.
pub const ADDON_PAIRS: [(&str, &str); 4] = [("17312", "17311"), ("17314", "17313"), ("11045", "11042"), ("11046", "11043")];
/// Peers needed before a median and a MAD mean anything.
pub const MIN_PEERS_ROBUST: usize = 5;
/// Busiest days kept per provider for the impossible-day rule.
const BUSIEST_DAYS: usize = 10;
/// Charges per unit kept per provider (highest against the peers' median first).
const TOP_OUTLIERS: usize = 10;

/// Where a provider's value sits among its peers' values (this provider included).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeerPosition {
    /// Providers in the distribution.
    pub peers: usize,
    pub median: f64,
    /// 1.4826 × MAD; 1.2533 × the mean absolute deviation when more than half the peers share
    /// one value (the MAD is then 0). None when every peer has the same value.
    pub scale: Option<f64>,
    /// (value − median) / scale; None with fewer than MIN_PEERS_ROBUST peers or no spread.
    pub z: Option<f64>,
    /// Share of peers at or below the value.
    pub percentile: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateIndicator {
    /// Lines with the trait (modifier 25, a 59-family modifier, weekend or holiday).
    pub count: f64,
    /// Lines it is a share of.
    pub base: f64,
    pub rate: f64,
    /// The peers' pooled lines (this provider left out) and their rate: the test's reference.
    pub peer_count: f64,
    pub peer_base: f64,
    pub peer_rate: Option<f64>,
    /// The peers' rates: median, scale, robust z and percentile of this provider's rate.
    pub peer_median: Option<f64>,
    pub peer_scale: Option<f64>,
    pub z: Option<f64>,
    pub percentile: Option<f64>,
    pub peers: usize,
    /// One-sided exact binomial test: `count` or more of `base` lines at the peers' rate.
    pub p_value: Option<f64>,
    /// `p_value` adjusted by Benjamini-Hochberg across the batch's providers.
    pub q_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EmIndicator {
    pub codes: Vec<String>,
    /// Units billed at each level.
    pub counts: Vec<f64>,
    /// The peers' pooled units at each level (this provider left out).
    pub peer_counts: Vec<f64>,
    pub visits: f64,
    /// Visits at the two highest levels, and their share.
    pub high_visits: f64,
    pub high_share: f64,
    /// The peers' pooled share at the two highest levels.
    pub peer_high_share: Option<f64>,
    /// Chi-square test of the whole level mix against the peers' (2 × k contingency).
    pub chi_square: Option<ChiSquare>,
    /// High-level visits beyond the peers' pooled share (observed − visits × peer share), ≥ 0.
    pub excess_high_visits: f64,
    /// Mean charge per unit at the two highest levels.
    pub high_mean_charge: f64,
    /// The peers' high-level shares: median, scale, robust z and percentile of this provider's.
    pub peer_median: Option<f64>,
    pub peer_scale: Option<f64>,
    pub z: Option<f64>,
    pub percentile: Option<f64>,
    pub peers: usize,
    /// One-sided exact binomial test of `high_visits` of `visits` at the peers' pooled share.
    pub p_value: Option<f64>,
    pub q_value: Option<f64>,
    /// The specialty's level shares in the external peer table (`--peers`), when it has them.
    pub external_shares: Option<Vec<f64>>,
    pub external_high_share: Option<f64>,
    /// Goodness of fit of this provider's counts to the external shares.
    pub external_chi_square: Option<ChiSquare>,
    /// One-sided binomial test of `high_visits` at the external share, and its BH adjustment.
    pub external_p_value: Option<f64>,
    pub external_q_value: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayMinutes {
    pub date: String,
    pub minutes: f64,
    /// Billed charges of the timed lines that day.
    pub charge: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AddonRatio {
    pub addon: String,
    pub primary: String,
    pub addon_units: f64,
    pub primary_units: f64,
    /// Add-on units per primary unit; `()` without the primary.
    pub ratio: Option<f64>,
    /// The peers' pooled ratio (this provider left out), and the add-on units it predicts here.
    pub peer_ratio: Option<f64>,
    pub expected_addon_units: Option<f64>,
    /// The peers' ratios (providers billing the primary, this one included).
    pub peer_median: Option<f64>,
    pub peer_scaled_mad: Option<f64>,
    pub z: Option<f64>,
    pub percentile: Option<f64>,
    pub peers: usize,
    /// One-sided Poisson test: `addon_units` or more where `expected_addon_units` were expected.
    pub p_value: Option<f64>,
    pub q_value: Option<f64>,
    /// Mean charge per add-on unit.
    pub addon_mean_charge: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChargeOutlier {
    pub code: String,
    pub units: f64,
    /// This provider's charge per unit, the peers' median, and the ratio of the two.
    pub charge_per_unit: f64,
    pub peer_median: f64,
    pub ratio_to_median: f64,
    /// Scale of the peers' log charges per unit (1.4826 × MAD of ln).
    pub peer_log_scale: f64,
    /// Robust z of ln(charge per unit) among the peers billing the code: charges are compared
    /// as ratios, since practices price multiplicatively.
    pub z: f64,
    pub percentile: f64,
    pub peers: usize,
    /// The spread of this provider's own charges per unit (standard deviation over its units).
    pub unit_price_sd: f64,
    /// One-sided t-test that the provider's charge per unit is above the peers' median given
    /// how its own charges vary (a set price does not vary: p is then 0 above the median), and
    /// its BH adjustment across every provider and code.
    pub p_value: f64,
    pub q_value: f64,
}

/// Benford's first-digit test on the charges of codes the provider bills at varying prices.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenfordIndicator {
    /// Charges of $10 or more on codes billed at more than PRICE_SAMPLE distinct unit prices.
    pub n: u64,
    pub counts: [u64; 9],
    pub observed_share: [f64; 9],
    /// Mean absolute deviation from Benford's shares, and Nigrini's class for it.
    pub mad: f64,
    pub conformity: Conformity,
    /// Goodness of fit to Benford's shares (df 8), its p-value and BH adjustment.
    pub chi_square: Option<ChiSquare>,
    pub p_value: Option<f64>,
    pub q_value: Option<f64>,
    /// Codes that qualified, and the charges left out because their code has a set price.
    pub varying_price_codes: usize,
    pub fixed_price_charges: u64,
}

/// Every indicator for one provider, with the numbers behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    pub benford: Option<BenfordIndicator>,
    pub busiest_days: Vec<DayMinutes>,
    pub addon_ratios: Vec<AddonRatio>,
    pub charge_outliers: Vec<ChargeOutlier>,
}

/// One provider after the reduce: what provider-scope rules read.
#[derive(Debug, Clone)]
pub struct ProviderRecord {
    pub npi: String,
    pub specialty: String,
    /// Values of `crate::batch::PROVIDER_AGGREGATES`, in that order.
    pub aggregates: Vec<Dynamic>,
    pub indicators: ProviderIndicators,
}

// ---------------------------------------------------------------- peer distributions

/// A peer distribution: median, robust scale, and the values sorted for percentiles.
struct Distribution {
    median: f64,
    scale: Option<f64>,
    sorted: Vec<f64>,
}

impl Distribution {
    fn of(mut values: Vec<f64>) -> Option<Distribution> {
        values.retain(|v| v.is_finite());
        let (median, mad) = stats::mad_scaled(&values)?;
        let scale = if mad > 0.0 { Some(mad) } else { stats::mean_ad_scaled(&values, median).filter(|s| *s > 0.0) };
        values.sort_by(f64::total_cmp);
        Some(Distribution { median, scale, sorted: values })
    }

    fn position(&self, x: f64) -> PeerPosition {
        let z = self.scale.filter(|_| self.sorted.len() >= MIN_PEERS_ROBUST).and_then(|s| stats::robust_z(x, self.median, s));
        PeerPosition {
            peers: self.sorted.len(),
            median: self.median,
            scale: self.scale,
            z,
            percentile: self.sorted.partition_point(|v| *v <= x) as f64 / self.sorted.len() as f64,
        }
    }
}

/// Providers grouped by specialty (case-insensitive); a blank specialty is compared with every
/// provider, under the group key "".
struct Peers {
    key: Vec<String>,
    groups: HashMap<String, Vec<usize>>,
}

impl Peers {
    fn new(specialties: &[String]) -> Peers {
        let key: Vec<String> = specialties.iter().map(|s| s.to_lowercase()).collect();
        let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, k) in key.iter().enumerate() {
            if !k.is_empty() {
                groups.entry(k.clone()).or_default().push(i);
            }
        }
        groups.insert(String::new(), (0..key.len()).collect());
        Peers { key, groups }
    }

    fn of(&self, i: usize) -> (&str, &[usize]) {
        let k = self.key[i].as_str();
        (k, &self.groups[k])
    }
}

/// BH q-values for optional p-values, aligned with them.
fn adjust(p: &[Option<f64>]) -> Vec<Option<f64>> {
    let raw: Vec<f64> = p.iter().map(|x| x.unwrap_or(f64::NAN)).collect();
    stats::benjamini_hochberg(&raw).into_iter().map(|q| (!q.is_nan()).then_some(q)).collect()
}

/// A (count, base) rate per provider against its peers: pooled reference, distribution, test.
fn rates(values: &[(f64, f64)], peers: &Peers) -> Vec<Option<RateIndicator>> {
    let mut by_group: HashMap<&str, ((f64, f64), Option<Distribution>)> = HashMap::new();
    for (k, members) in &peers.groups {
        let pooled = members.iter().fold((0.0, 0.0), |(c, b), &i| (c + values[i].0, b + values[i].1));
        let dist = Distribution::of(members.iter().filter(|&&i| values[i].1 > 0.0).map(|&i| values[i].0 / values[i].1).collect());
        by_group.insert(k.as_str(), (pooled, dist));
    }
    let mut out: Vec<Option<RateIndicator>> = values
        .iter()
        .enumerate()
        .map(|(i, &(count, base))| {
            if base <= 0.0 {
                return None;
            }
            let ((pc, pb), dist) = &by_group[peers.of(i).0];
            let (peer_count, peer_base) = (pc - count, pb - base);
            let peer_rate = stats::share(peer_count, peer_base);
            let rate = count / base;
            let pos = dist.as_ref().map(|d| d.position(rate));
            Some(RateIndicator {
                count,
                base,
                rate,
                peer_count,
                peer_base,
                peer_rate,
                peer_median: pos.as_ref().map(|p| p.median),
                peer_scale: pos.as_ref().and_then(|p| p.scale),
                z: pos.as_ref().and_then(|p| p.z),
                percentile: pos.as_ref().map(|p| p.percentile),
                peers: pos.as_ref().map_or(0, |p| p.peers),
                p_value: peer_rate.map(|r| stats::binomial_upper_tail(count, base, r)).filter(|p| !p.is_nan()),
                q_value: None,
            })
        })
        .collect();
    let q = adjust(&out.iter().map(|r| r.as_ref().and_then(|r| r.p_value)).collect::<Vec<_>>());
    for (r, q) in out.iter_mut().zip(q) {
        if let Some(r) = r {
            r.q_value = q;
        }
    }
    out
}

// ---------------------------------------------------------------- the reduce step

/// Units of `code` billed by a provider.
fn units(p: &ProviderPartial, code: &str) -> f64 {
    p.codes.get(code).map_or(0.0, |t| t.units_milli as f64 / MILLI)
}

fn charge(p: &ProviderPartial, code: &str) -> f64 {
    p.codes.get(code).map_or(0.0, |t| t.charge_cents as f64 / 100.0)
}

/// Observed federal holidays (day numbers) for every year the batch's dates touch.
fn holidays(partials: &ProviderPartials) -> BTreeSet<i32> {
    let days = partials.providers.values().flat_map(|p| p.days.keys().copied());
    let (lo, hi) = days.fold((i32::MAX, i32::MIN), |(lo, hi), d| (lo.min(d), hi.max(d)));
    let mut out = BTreeSet::new();
    if lo <= hi {
        // Up to the year after: New Year's Day on a Saturday is observed on December 31.
        for y in from_days(lo).year()..=from_days(hi).year() + 1 {
            out.extend(calendar::federal_holidays(y).into_iter().map(to_days));
        }
    }
    out
}

/// 1970-01-01 was a Thursday: day 2 (mod 7) is a Saturday, 3 a Sunday.
fn is_weekend(day: i32) -> bool {
    matches!(day.rem_euclid(7), 2 | 3)
}

fn em_indicators(levels: &[&str], parts: &[&ProviderPartial], peers: &Peers, external: Option<&ExternalPeers>) -> Vec<Option<EmIndicator>> {
    let k = levels.len();
    let counts: Vec<Vec<f64>> = parts.iter().map(|p| levels.iter().map(|c| units(p, c)).collect()).collect();
    let high_of = |c: &[f64]| c[k - 2] + c[k - 1];
    let shares = rates(&counts.iter().map(|c| (high_of(c), c.iter().sum())).collect::<Vec<_>>(), peers);
    let mut pooled: HashMap<&str, Vec<f64>> = HashMap::new();
    for (key, members) in &peers.groups {
        let mut sum = vec![0.0; k];
        for &i in members {
            for (s, c) in sum.iter_mut().zip(&counts[i]) {
                *s += c;
            }
        }
        pooled.insert(key.as_str(), sum);
    }
    let mut out: Vec<Option<EmIndicator>> = Vec::with_capacity(parts.len());
    for (i, p) in parts.iter().enumerate() {
        let Some(share) = shares[i].as_ref() else {
            out.push(None);
            continue;
        };
        let (key, _) = peers.of(i);
        let mine = &counts[i];
        let peer_counts: Vec<f64> = pooled[key].iter().zip(mine).map(|(a, m)| (a - m).max(0.0)).collect();
        let high_charge: f64 = levels[k - 2..].iter().map(|c| charge(p, c)).sum();
        let external_counts: Option<Vec<f64>> = external
            .and_then(|e| e.get(key))
            .map(|e| levels.iter().map(|c| e.get(*c).copied().unwrap_or(0.0)).collect())
            .filter(|v: &Vec<f64>| v.iter().sum::<f64>() > 0.0);
        let external_shares: Option<Vec<f64>> = external_counts.map(|v| {
            let total: f64 = v.iter().sum();
            v.iter().map(|x| x / total).collect()
        });
        let external_high_share = external_shares.as_ref().map(|s| high_of(s));
        out.push(Some(EmIndicator {
            codes: levels.iter().map(|s| s.to_string()).collect(),
            counts: mine.clone(),
            chi_square: stats::chi_square_2xk(mine, &peer_counts),
            peer_counts,
            visits: share.base,
            high_visits: share.count,
            high_share: share.rate,
            peer_high_share: share.peer_rate,
            excess_high_visits: share.peer_rate.map_or(0.0, |r| (share.count - share.base * r).max(0.0)),
            high_mean_charge: if share.count > 0.0 { high_charge / share.count } else { 0.0 },
            peer_median: share.peer_median,
            peer_scale: share.peer_scale,
            z: share.z,
            percentile: share.percentile,
            peers: share.peers,
            p_value: share.p_value,
            q_value: share.q_value,
            external_chi_square: external_shares.as_ref().and_then(|s| stats::chi_square_goodness_of_fit(mine, s)),
            external_p_value: external_high_share.map(|s| stats::binomial_upper_tail(share.count, share.base, s)).filter(|p| !p.is_nan()),
            external_high_share,
            external_shares,
            external_q_value: None,
        }));
    }
    let q = adjust(&out.iter().map(|e| e.as_ref().and_then(|e| e.external_p_value)).collect::<Vec<_>>());
    for (e, q) in out.iter_mut().zip(q) {
        if let Some(e) = e {
            e.external_q_value = q;
        }
    }
    out
}

fn addon_ratios(parts: &[&ProviderPartial], peers: &Peers) -> Vec<Vec<AddonRatio>> {
    let mut out: Vec<Vec<AddonRatio>> = vec![Vec::new(); parts.len()];
    for (addon, primary) in ADDON_PAIRS {
        let pairs: Vec<(f64, f64)> = parts.iter().map(|p| (units(p, addon), units(p, primary))).collect();
        let mut by_group: HashMap<&str, ((f64, f64), Option<Distribution>)> = HashMap::new();
        for (k, members) in &peers.groups {
            let pooled = members.iter().fold((0.0, 0.0), |(a, b), &i| (a + pairs[i].0, b + pairs[i].1));
            let dist = Distribution::of(members.iter().filter(|&&i| pairs[i].1 > 0.0).map(|&i| pairs[i].0 / pairs[i].1).collect());
            by_group.insert(k.as_str(), (pooled, dist));
        }
        for (i, p) in parts.iter().enumerate() {
            let (a, pr) = pairs[i];
            if a <= 0.0 && pr <= 0.0 {
                continue;
            }
            let ((pa, ppr), dist) = &by_group[peers.of(i).0];
            let ratio = (pr > 0.0).then(|| a / pr);
            let peer_ratio = stats::share(pa - a, ppr - pr);
            let expected = peer_ratio.filter(|_| pr > 0.0).map(|r| r * pr);
            let pos = dist.as_ref().zip(ratio).map(|(d, x)| d.position(x));
            out[i].push(AddonRatio {
                addon: addon.to_string(),
                primary: primary.to_string(),
                addon_units: a,
                primary_units: pr,
                ratio,
                peer_ratio,
                expected_addon_units: expected,
                peer_median: dist.as_ref().map(|d| d.median),
                peer_scaled_mad: dist.as_ref().and_then(|d| d.scale),
                z: pos.as_ref().and_then(|p| p.z),
                percentile: pos.as_ref().map(|p| p.percentile),
                peers: dist.as_ref().map_or(0, |d| d.sorted.len()),
                p_value: expected.map(|e| stats::poisson_upper_tail(a, e)).filter(|p| !p.is_nan()),
                q_value: None,
                addon_mean_charge: if a > 0.0 { charge(p, addon) / a } else { 0.0 },
            });
        }
    }
    let flat: Vec<Option<f64>> = out.iter().flatten().map(|r| r.p_value).collect();
    let mut q = adjust(&flat).into_iter();
    for r in out.iter_mut().flatten() {
        r.q_value = q.next().flatten();
    }
    out
}

fn charge_outliers(parts: &[&ProviderPartial], peers: &Peers) -> Vec<Vec<ChargeOutlier>> {
    // Per peer group and code: every provider's charge per unit (raw for the median, ln for z).
    let per_unit = |p: &ProviderPartial, code: &str| -> Option<f64> {
        let t = p.codes.get(code)?;
        (t.units_milli > 0 && t.charge_cents > 0).then(|| (t.charge_cents as f64 / 100.0) / (t.units_milli as f64 / MILLI))
    };
    let mut values: HashMap<(&str, &str), Vec<f64>> = HashMap::new();
    for (key, members) in &peers.groups {
        for &i in members {
            for code in parts[i].codes.keys() {
                if let Some(x) = per_unit(parts[i], code) {
                    values.entry((key.as_str(), code.as_str())).or_default().push(x);
                }
            }
        }
    }
    let summaries: HashMap<(&str, &str), (f64, Distribution)> = values
        .into_iter()
        .filter(|(_, v)| v.len() >= MIN_PEERS_ROBUST)
        .filter_map(|(k, v)| {
            let mut raw = v.clone();
            let median = stats::median(&mut raw)?;
            Distribution::of(v.iter().map(|x| x.ln()).collect()).map(|d| (k, (median, d)))
        })
        .collect();
    let mut out: Vec<Vec<ChargeOutlier>> = vec![Vec::new(); parts.len()];
    for (i, p) in parts.iter().enumerate() {
        let (key, _) = peers.of(i);
        for (code, t) in &p.codes {
            let Some(x) = per_unit(p, code) else { continue };
            let Some((median, dist)) = summaries.get(&(key, code.as_str())) else { continue };
            let pos = dist.position(x.ln());
            let (Some(z), Some(scale)) = (pos.z, pos.scale) else { continue };
            let (_, sd, n) = t.unit_price_spread().unwrap_or((x, 0.0, 0.0));
            let p_value = if x <= *median {
                1.0
            } else if sd <= 1e-9 * x {
                0.0
            } else if n > 1.0 {
                stats::student_t_upper_tail((x - median) / (sd / n.sqrt()), n - 1.0)
            } else {
                1.0
            };
            out[i].push(ChargeOutlier {
                code: code.clone(),
                units: t.units_milli as f64 / MILLI,
                charge_per_unit: x,
                peer_median: *median,
                ratio_to_median: x / median,
                peer_log_scale: scale,
                z,
                percentile: pos.percentile,
                peers: pos.peers,
                unit_price_sd: sd,
                p_value,
                q_value: 1.0,
            });
        }
    }
    let flat: Vec<Option<f64>> = out.iter().flatten().map(|o| Some(o.p_value)).collect();
    let mut q = adjust(&flat).into_iter();
    for o in out.iter_mut().flatten() {
        o.q_value = q.next().flatten().unwrap_or(1.0);
    }
    for list in &mut out {
        list.sort_by(|a, b| b.ratio_to_median.total_cmp(&a.ratio_to_median).then(a.code.cmp(&b.code)));
        list.truncate(TOP_OUTLIERS);
    }
    out
}

fn benford(parts: &[&ProviderPartial]) -> Vec<Option<BenfordIndicator>> {
    let mut out: Vec<Option<BenfordIndicator>> = parts
        .iter()
        .map(|p| {
            let mut counts = [0u64; 9];
            let (mut codes, mut fixed) = (0usize, 0u64);
            for t in p.codes.values() {
                if t.varying_prices() {
                    codes += 1;
                    for (c, d) in counts.iter_mut().zip(t.first_digits) {
                        *c += d;
                    }
                } else {
                    fixed += t.first_digits.iter().sum::<u64>();
                }
            }
            let n: u64 = counts.iter().sum();
            if n == 0 {
                return None;
            }
            let observed_share = counts.map(|c| c as f64 / n as f64);
            let mad = observed_share.iter().zip(stats::BENFORD_FIRST_DIGIT).map(|(o, e)| (o - e).abs()).sum::<f64>() / 9.0;
            let chi_square = stats::chi_square_goodness_of_fit(&counts.map(|c| c as f64), &stats::BENFORD_FIRST_DIGIT);
            Some(BenfordIndicator {
                n,
                counts,
                observed_share,
                mad,
                conformity: Conformity::from_mad(mad),
                p_value: chi_square.as_ref().map(|c| c.p_value),
                chi_square,
                q_value: None,
                varying_price_codes: codes,
                fixed_price_charges: fixed,
            })
        })
        .collect();
    let q = adjust(&out.iter().map(|b| b.as_ref().and_then(|b| b.p_value)).collect::<Vec<_>>());
    for (b, q) in out.iter_mut().zip(q) {
        if let Some(b) = b {
            b.q_value = q;
        }
    }
    out
}

fn busiest_days(p: &ProviderPartial) -> Vec<DayMinutes> {
    let mut days: Vec<(&i32, i64, i64)> =
        p.days.iter().filter(|(_, d)| d.minutes_milli > 0).map(|(day, d)| (day, d.minutes_milli, d.timed_charge_cents)).collect();
    days.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    days.truncate(BUSIEST_DAYS);
    days.into_iter()
        .map(|(&day, m, c)| DayMinutes { date: from_days(day).format("%Y-%m-%d").to_string(), minutes: m as f64 / MILLI, charge: c as f64 / 100.0 })
        .collect()
}

/// The aggregates of `crate::batch::PROVIDER_AGGREGATES`, in its order.
fn aggregates(p: &ProviderPartial) -> Vec<Dynamic> {
    let lines_of = |codes: &[&str]| codes.iter().filter_map(|c| p.codes.get(*c)).map(|t| t.lines).sum::<u64>();
    let total_charge = p.charge_cents as f64 / 100.0;
    let int = |n: u64| Dynamic::from_int(n as i64);
    vec![
        int(p.lines),
        int(p.claims),
        int(p.patients),
        int(p.days.len() as u64),
        Dynamic::from_float(total_charge),
        Dynamic::from_float(p.units_milli as f64 / MILLI),
        if p.charged_lines > 0 { Dynamic::from_float(total_charge / p.charged_lines as f64) } else { Dynamic::UNIT },
        int(lines_of(&EM_ESTABLISHED)),
        int(lines_of(&EM_ESTABLISHED[3..])),
        int(p.codes.values().map(|t| t.modifier_25).sum()),
        int(p.codes.values().map(|t| t.modifier_59).sum()),
    ]
}

/// Per provider: (lines with the modifier, lines), over E/M lines only when `em_only`.
fn modifier_counts(parts: &[&ProviderPartial], em_only: bool, pick: fn(&super::partials::CodeTotals) -> u64) -> Vec<(f64, f64)> {
    parts
        .iter()
        .map(|p| {
            p.codes
                .iter()
                .filter(|(c, _)| !em_only || EM_ESTABLISHED.contains(&c.as_str()) || EM_NEW.contains(&c.as_str()))
                .fold((0.0, 0.0), |(n, b), (_, t)| (n + pick(t) as f64, b + t.lines as f64))
        })
        .collect()
}

/// Per provider: (lines on weekends and federal holidays, lines).
fn days_off_counts(parts: &[&ProviderPartial], holidays: &BTreeSet<i32>) -> Vec<(f64, f64)> {
    parts
        .iter()
        .map(|p| {
            p.days.iter().fold((0.0, 0.0), |(w, b), (day, d)| {
                let off = is_weekend(*day) || holidays.contains(day);
                (w + if off { d.lines as f64 } else { 0.0 }, b + d.lines as f64)
            })
        })
        .collect()
}

/// Reduce: one record per provider (in NPI order), with the aggregates provider rules read and
/// every indicator against the provider's peers. Only merged partials are read, so the result
/// is the same however the batch was split. `refdata` is not needed today (minutes per unit are
/// applied in the map step); it keeps the signature of the three steps alike.
pub fn provider_records(partials: &ProviderPartials, _refdata: &RefData, external: Option<&ExternalPeers>) -> Vec<ProviderRecord> {
    let npis: Vec<&String> = partials.providers.keys().collect();
    let parts: Vec<&ProviderPartial> = partials.providers.values().collect();
    let specialties: Vec<String> = parts.iter().map(|p| p.specialty()).collect();
    let peers = Peers::new(&specialties);
    let holidays = holidays(partials);

    let em = em_indicators(&EM_ESTABLISHED, &parts, &peers, external);
    let em_new = em_indicators(&EM_NEW, &parts, &peers, external);
    let modifier_25 = rates(&modifier_counts(&parts, true, |t| t.modifier_25), &peers);
    let modifier_59 = rates(&modifier_counts(&parts, false, |t| t.modifier_59), &peers);
    let weekend_holiday = rates(&days_off_counts(&parts, &holidays), &peers);
    let benford = benford(&parts);
    let addons = addon_ratios(&parts, &peers);
    let outliers = charge_outliers(&parts, &peers);

    let mut em = em.into_iter();
    let mut em_new = em_new.into_iter();
    let mut m25 = modifier_25.into_iter();
    let mut m59 = modifier_59.into_iter();
    let mut wh = weekend_holiday.into_iter();
    let mut bf = benford.into_iter();
    let mut ad = addons.into_iter();
    let mut co = outliers.into_iter();
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (key, members) = peers.of(i);
            let indicators = ProviderIndicators {
                npi: npis[i].clone(),
                specialty: specialties[i].clone(),
                peer_group: if key.is_empty() { "all providers".into() } else { specialties[i].clone() },
                peer_group_size: members.len(),
                lines: p.lines as usize,
                total_charge: p.charge_cents as f64 / 100.0,
                em: em.next().flatten(),
                em_new: em_new.next().flatten(),
                modifier_25: m25.next().flatten(),
                modifier_59: m59.next().flatten(),
                weekend_holiday: wh.next().flatten(),
                benford: bf.next().flatten(),
                busiest_days: busiest_days(p),
                addon_ratios: ad.next().unwrap_or_default(),
                charge_outliers: co.next().unwrap_or_default(),
            };
            ProviderRecord { npi: npis[i].clone(), specialty: specialties[i].clone(), aggregates: aggregates(p), indicators }
        })
        .collect()
}

/// The indicators as the Rhai values rules read (`indicators.em.q_value`, ...).
pub fn to_dynamic(ind: &ProviderIndicators) -> Dynamic {
    rhai::serde::to_dynamic(ind).unwrap_or(Dynamic::UNIT)
}
