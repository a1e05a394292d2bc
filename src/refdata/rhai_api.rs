//! Native functions over [`RefData`] for rule scripts. Dates arrive as "YYYY-MM-DD" strings and
//! codes as strings; "not found" is unit `()`, and code-set checks return `()` when their table
//! is not loaded so a rule can tell "invalid" from "cannot tell". A malformed date is a script
//! error rather than a silent miss.

use super::{parse_dos, PfsSetting, RefData, TableKind};
use chrono::NaiveDate;
use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, INT};
use std::sync::Arc;

type Res<T> = Result<T, Box<EvalAltResult>>;

fn date(s: &str) -> Res<NaiveDate> {
    parse_dos(s).ok_or_else(|| format!("refdata: date of service {s:?} is not YYYY-MM-DD").into())
}

fn opt_date(d: Option<NaiveDate>) -> Dynamic {
    Dynamic::from(d.map(|d| d.to_string()).unwrap_or_default())
}

fn opt_bool(v: Option<bool>) -> Dynamic {
    v.map_or(Dynamic::UNIT, Dynamic::from)
}

fn text(s: &str) -> Dynamic {
    Dynamic::from(ImmutableString::from(s))
}

/// Register the reference-data functions on `engine`. What each returns is listed in the
/// registry ([`super::registry::TABLES`]), from which docs/rules.md's table is generated.
pub fn register_functions(engine: &mut Engine, refdata: Arc<RefData>) {
    let rd = refdata.clone();
    engine.register_fn("ptp", move |c1: &str, c2: &str, dos: &str| -> Res<Dynamic> {
        let Some(e) = rd.ptp(c1, c2, date(dos)?) else {
            return Ok(Dynamic::UNIT);
        };
        let mut m = Map::new();
        m.insert("indicator".into(), Dynamic::from(e.modifier_indicator as INT));
        m.insert("rationale".into(), text(&e.rationale));
        m.insert("effective".into(), opt_date(e.effective));
        m.insert("deletion".into(), opt_date(e.deletion));
        Ok(Dynamic::from_map(m))
    });

    let rd = refdata.clone();
    engine.register_fn("ptp_hits", move |codes: Array, dos: &str| -> Res<Array> {
        let dos = date(dos)?;
        // Non-string entries keep their position but never match.
        let codes: Vec<String> = codes.iter().map(|c| c.clone().into_immutable_string().map(|s| s.to_string()).unwrap_or_default()).collect();
        Ok(rd
            .ptp_hits(&codes, dos)
            .into_iter()
            .map(|h| {
                let mut m = Map::new();
                m.insert("column1".into(), Dynamic::from(h.column1 as INT));
                m.insert("column2".into(), Dynamic::from(h.column2 as INT));
                m.insert("indicator".into(), Dynamic::from(h.modifier_indicator as INT));
                m.insert("rationale".into(), text(&h.rationale));
                Dynamic::from_map(m)
            })
            .collect())
    });

    let rd = refdata.clone();
    engine.register_fn("mue", move |code: &str, dos: &str| -> Res<Dynamic> {
        let Some(e) = rd.mue(code, date(dos)?) else {
            return Ok(Dynamic::UNIT);
        };
        let mut m = Map::new();
        m.insert("units".into(), Dynamic::from(e.units as INT));
        m.insert("mai".into(), Dynamic::from(e.mai as INT));
        m.insert("rationale".into(), text(&e.rationale));
        Ok(Dynamic::from_map(m))
    });

    let rd = refdata.clone();
    engine.register_fn("addon", move |code: &str, dos: &str| -> Res<Dynamic> {
        let Some(e) = rd.addon(code, date(dos)?) else {
            return Ok(Dynamic::UNIT);
        };
        let mut m = Map::new();
        m.insert("edit_type".into(), Dynamic::from(e.edit_type as INT));
        let primaries: Array = e.primaries.iter().map(|p| text(p)).collect();
        m.insert("primaries".into(), Dynamic::from_array(primaries));
        Ok(Dynamic::from_map(m))
    });

    let rd = refdata.clone();
    engine
        .register_fn("icd10_status", move |code: &str, dos: &str| -> Res<ImmutableString> { Ok(rd.icd10_status(code, date(dos)?).as_str().into()) });

    let rd = refdata.clone();
    engine.register_fn("icd10_description", move |code: &str| -> Dynamic { rd.icd10_description(code).map_or(Dynamic::UNIT, text) });

    let rd = refdata.clone();
    engine
        .register_fn("mce_flags", move |code: &str, dos: &str| -> Res<Array> { Ok(rd.mce_flags(code, date(dos)?).into_iter().map(text).collect()) });

    let rd = refdata.clone();
    engine.register_fn("mce_age_range", move |group: &str, dos: &str| -> Res<Dynamic> {
        Ok(match rd.mce_age_range(group, date(dos)?) {
            Some(r) => Dynamic::from_array(vec![Dynamic::from(r.min as INT), Dynamic::from(r.max as INT)]),
            None => Dynamic::UNIT,
        })
    });

    let rd = refdata.clone();
    engine.register_fn("hcpcs_exists", move |code: &str| opt_bool(rd.hcpcs_exists(code)));
    let rd = refdata.clone();
    engine.register_fn("cpt_exists", move |code: &str| opt_bool(rd.cpt_exists(code)));
    let rd = refdata.clone();
    engine.register_fn("pos_valid", move |code: &str| opt_bool(rd.pos_valid(code)));
    let rd = refdata.clone();
    engine.register_fn("modifier_valid", move |m: &str| opt_bool(rd.modifier_valid(m)));
    let rd = refdata.clone();
    engine.register_fn("revenue_code_valid", move |code: &str| opt_bool(rd.revenue_code_valid(code)));

    let rd = refdata.clone();
    engine.register_fn("npi_excluded", move |npi: &str, dos: &str| -> Res<bool> { Ok(rd.npi_excluded(npi, date(dos)?).unwrap_or(false)) });

    let rd = refdata.clone();
    engine.register_fn("pfs", move |code: &str, modifier: &str, dos: &str| -> Res<Dynamic> {
        let Some(e) = rd.pfs(code, modifier, date(dos)?) else {
            return Ok(Dynamic::UNIT);
        };
        let mut m = Map::new();
        m.insert("status".into(), text(&e.status.to_string()));
        m.insert("work_rvu".into(), Dynamic::from(e.work_rvu()));
        m.insert("pe_rvu_non_facility".into(), Dynamic::from(e.pe_rvu(PfsSetting::NonFacility)));
        m.insert("pe_rvu_facility".into(), Dynamic::from(e.pe_rvu(PfsSetting::Facility)));
        m.insert("mp_rvu".into(), Dynamic::from(e.mp_rvu()));
        m.insert("non_facility_na".into(), Dynamic::from(e.non_facility_na));
        m.insert("facility_na".into(), Dynamic::from(e.facility_na));
        m.insert("pctc".into(), text(&e.pctc.to_string()));
        m.insert("global_days".into(), text(&e.global_days));
        m.insert("payable".into(), Dynamic::from(e.payable()));
        Ok(Dynamic::from_map(m))
    });

    let rd = refdata.clone();
    engine.register_fn("pfs_amount", move |code: &str, modifier: &str, dos: &str, setting: &str, cf: f64| -> Res<Dynamic> {
        let setting = PfsSetting::parse(setting).ok_or_else(|| format!("pfs_amount: setting {setting:?} is not \"facility\" or \"non_facility\""))?;
        Ok(rd.pfs_amount(code, modifier, date(dos)?, setting, cf).map_or(Dynamic::UNIT, Dynamic::from))
    });
    // Whole-dollar factors written as integers (`pfs_amount(.., 32)`) are accepted too.
    let rd = refdata.clone();
    engine.register_fn("pfs_amount", move |code: &str, modifier: &str, dos: &str, setting: &str, cf: INT| -> Res<Dynamic> {
        let setting = PfsSetting::parse(setting).ok_or_else(|| format!("pfs_amount: setting {setting:?} is not \"facility\" or \"non_facility\""))?;
        Ok(rd.pfs_amount(code, modifier, date(dos)?, setting, cf as f64).map_or(Dynamic::UNIT, Dynamic::from))
    });

    let rd = refdata.clone();
    engine.register_fn("pfs_conversion_factor", move |dos: &str| -> Res<Dynamic> {
        Ok(rd.pfs_conversion_factor(date(dos)?).map_or(Dynamic::UNIT, Dynamic::from))
    });

    let rd = refdata.clone();
    engine.register_fn("table_is_subset", move |name: &str| TableKind::from_name(name).is_some_and(|k| rd.is_subset(k)));
    let rd = refdata;
    engine.register_fn("has_table", move |name: &str| rd.has_table(name));
}
