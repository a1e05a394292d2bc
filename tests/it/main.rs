mod cli;
mod common;
mod support;

mod engine;
mod extrapolation;
mod federal;
mod fraud;
mod fraud_stats;
mod generate;
mod load;
mod mce_agreement;
mod packs;
mod ratstats;
mod refdata;
mod remit;
mod samples;
mod x12;
