mod cli;
mod common;
mod support;

mod engine;
mod extrapolation;
mod federal;
mod load;
mod packs;
mod ratstats;
mod refdata;
mod samples;
mod x12;
