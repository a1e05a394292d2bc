mod common;
mod support;

mod engine;
mod load;
mod ratstats;
mod refdata;
mod samples;
mod x12;
