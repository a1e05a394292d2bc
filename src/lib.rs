//! claimlint: a claims compliance auditor.
//!
//! The phases are kept apart:
//! 1. [`load`] reads claim files into one canonical Polars frame ([`schema`]), typing values and
//!    reporting what cannot be read;
//! 2. [`batch`] turns it into plain columns and record groups (Polars group-bys);
//! 3. [`rules`] compiles Rhai rule files once and evaluates them in parallel with rayon;
//! 4. [`findings`] and [`report`] write the findings table and the HTML report;
//!    [`price`] puts each finding's dollars at Medicare's price as well as the billed one;
//!    [`extrapolation`] projects an audited sample's overpayment to its universe (RAT-STATS).

pub mod audit;
pub mod batch;
pub mod cli;
pub mod dates;
pub mod docs;
pub mod extrapolation;
pub mod findings;
pub mod fix;
pub mod fraud;
pub mod generate;
pub mod load;
pub mod price;
pub mod ratstats;
pub mod refdata;
pub mod remit;
pub mod report;
pub mod rules;
pub mod schema;
pub mod vocab;
pub mod x12;
