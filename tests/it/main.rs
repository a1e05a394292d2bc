mod cli;
mod damaged;
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
mod samples;
mod x12;
