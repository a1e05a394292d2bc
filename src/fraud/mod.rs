//! Fraud-risk analytics: provider indicators against peers, risk scores with their factors.
pub mod stats;
