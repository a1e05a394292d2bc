//! `claimlint refdata [list|clear]`: what a reference folder holds and the state of the cache.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use crate::refdata::cache::Cache;
use crate::refdata::{load_for, CacheSetting, LoadOptions};

#[derive(Args)]
pub struct RefdataArgs {
    #[command(subcommand)]
    action: Option<Action>,
    /// Reference tables (CMS downloads as published, or normalised CSVs); default: RULES/data.
    #[arg(long, env = "CLAIMLINT_REFDATA", global = true)]
    refdata: Option<PathBuf>,
    /// Folder of rule files, whose data/ is the default reference folder.
    #[arg(long, default_value = "rules", env = "CLAIMLINT_RULES", global = true)]
    rules: PathBuf,
    /// Folder for the parsed reference-table cache; default: the user's cache folder.
    #[arg(long, env = "CLAIMLINT_CACHE_DIR", global = true)]
    cache_dir: Option<PathBuf>,
}

#[derive(Subcommand, Clone, Copy)]
enum Action {
    /// Every file seen: the table it holds, its release, rows and cache state, or why it was
    /// passed over (the default).
    List,
    /// Remove the cached tables; the next load parses the files again.
    Clear,
}

pub fn run(args: RefdataArgs) -> Result<u8> {
    let setting = args.cache_dir.clone().map_or(CacheSetting::Default, CacheSetting::Dir);
    match args.action.unwrap_or(Action::List) {
        Action::Clear => {
            let Some(dir) = setting.resolve() else {
                outln!("no cache folder (set --cache-dir or CLAIMLINT_CACHE_DIR)")?;
                return Ok(0);
            };
            let n = Cache::clear(&dir)?;
            outln!("removed {n} cached table(s) from {}", dir.display())?;
            Ok(0)
        }
        Action::List => {
            let opts = LoadOptions { only: None, cache: setting };
            let rd = load_for(&args.rules, args.refdata.as_deref(), &opts)?;
            let summary = rd.summary();
            out!("{summary}")?;
            let loaded = summary.tables.iter().filter(|t| t.loaded).count();
            outln!(
                "{} file(s) seen: {} loaded into {loaded} table(s), {} not needed, {} ignored",
                summary.files_seen(),
                rd.files().len(),
                summary.not_needed.len(),
                summary.ignored.len()
            )?;
            match &summary.cache_dir {
                Some(dir) => {
                    let (n, bytes) = Cache::usage(dir);
                    outln!("cache: {} ({n} entries, {:.1} MB)", dir.display(), bytes as f64 / 1e6)?;
                }
                None => outln!("cache: off")?,
            }
            Ok(0)
        }
    }
}
