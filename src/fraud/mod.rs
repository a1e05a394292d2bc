//! Fraud-risk analytics: provider indicators against peers, computed in three mergeable steps
//! ([`partials`]: map and merge; [`indicators::provider_records`]: reduce), the statistics
//! behind them ([`stats`]), and provider risk scores that list every contributing factor
//! ([`score`]). The policy (which numbers are worth a finding) lives in rules/fraud.
pub mod calendar;
pub mod indicators;
pub mod partials;
pub mod puf;
pub mod score;
pub mod stats;

use std::collections::HashMap;

use anyhow::Result;
use polars::prelude::DataFrame;

pub use indicators::{provider_records, ProviderIndicators, ProviderRecord};
pub use partials::ProviderPartials;

use crate::batch::Batch;
use crate::refdata::RefData;

/// Computes the provider indicators of a whole batch (map, then reduce) and hands them to
/// provider-scope rules as `indicators`. Returns them in `batch.providers` order. `frame` is not
/// read: the indicators come from the batch columns.
pub fn attach(
    batch: &mut Batch,
    _frame: &DataFrame,
    refdata: &RefData,
    external: Option<&puf::ExternalPeers>,
) -> Result<Vec<ProviderIndicators>> {
    let started = std::time::Instant::now();
    let partials = ProviderPartials::from_batch(batch, refdata);
    let mapped = started.elapsed().as_secs_f64();
    let mut records: HashMap<String, ProviderRecord> =
        provider_records(&partials, refdata, external).into_iter().map(|r| (r.npi.clone(), r)).collect();
    tracing::info!(
        providers = records.len(),
        map_secs = mapped,
        reduce_secs = started.elapsed().as_secs_f64() - mapped,
        "provider partials and records"
    );
    let mut out = Vec::with_capacity(batch.providers.members.len());
    for rows in &batch.providers.members {
        let npi = batch.provider.get(rows[0] as usize).to_string();
        let record = records.remove(&npi).ok_or_else(|| anyhow::anyhow!("provider {npi} has no provider record"))?;
        out.push(record.indicators);
    }
    let aggs = &mut batch.provider_aggregates;
    aggs.names.push("indicators".into());
    for (values, ind) in aggs.values.iter_mut().zip(&out) {
        values.push(indicators::to_dynamic(ind));
    }
    Ok(out)
}
