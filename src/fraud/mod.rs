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

pub use indicators::{provider_records, ProviderIndicators, ProviderRecord};
pub use partials::ProviderPartials;
