//! Fraud-risk analytics: provider indicators against peers ([`indicators`]), the statistics
//! behind them ([`stats`]), and provider risk scores that list every contributing factor
//! ([`score`]). The policy (which numbers are worth a finding) lives in rules/fraud.
pub mod calendar;
pub mod indicators;
pub mod puf;
pub mod score;
pub mod stats;

use anyhow::Result;
use polars::prelude::DataFrame;

use crate::batch::Batch;
use crate::refdata::RefData;

/// Computes the provider indicators and hands them to provider-scope rules as `indicators`.
pub fn attach(
    batch: &mut Batch,
    frame: &DataFrame,
    refdata: &RefData,
    external: Option<&puf::ExternalPeers>,
) -> Result<Vec<indicators::ProviderIndicators>> {
    let computed = indicators::compute(frame, batch, refdata, external)?;
    let aggs = &mut batch.provider_aggregates;
    aggs.names.push("indicators".into());
    for (values, ind) in aggs.values.iter_mut().zip(&computed) {
        values.push(indicators::to_dynamic(ind));
    }
    Ok(computed)
}
