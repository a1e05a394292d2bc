//! Loading a reference folder: walk it, open zips, recognise each file through the registry,
//! read only the tables asked for (through the cache), and record every file seen.

use super::cache::{Cache, CacheSetting};
use super::detect::{self, Detected, Probe};
use super::source::{self, Archive, Found, SourceFile};
use super::{compact, read, LoadedFile, RefData, TableKind, TABLES};
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Lines detection looks at: official files open with a preamble of a few lines.
const PEEK_LINES: usize = 80;

/// What to load and how.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Only these tables (the union of what the loaded rules require); `None` = all. The other
    /// recognised files are listed as not needed and not read. ICD-10-CM validity comes from the
    /// code lists and the MCE master together, so a rule reading `icd10_status` should require
    /// both `icd10` and `mce`.
    pub only: Option<BTreeSet<TableKind>>,
    pub cache: CacheSetting,
}

impl LoadOptions {
    /// Every table, no cache.
    pub fn uncached() -> LoadOptions {
        LoadOptions { only: None, cache: CacheSetting::Off }
    }

    fn wants(&self, kind: TableKind) -> bool {
        self.only.as_ref().is_none_or(|set| set.contains(&kind))
    }
}

/// The reference tables for a rules folder: `explicit` (`--refdata DIR`) when given, else the
/// folder's own `data/` (the small hand-made set shipped in rules/data), else none. claimlint's
/// own tables (`data/claimlint/`, not CMS's) come with the rules even when `explicit` names a
/// CMS folder without them. A named folder in which no table is recognised is an error.
pub fn load_for(rules_dir: &Path, explicit: Option<&Path>, opts: &LoadOptions) -> Result<Arc<RefData>> {
    let base = if rules_dir.is_file() { rules_dir.parent().unwrap_or(rules_dir) } else { rules_dir };
    // A single rule file or a subfolder still finds the pack's data folder above it.
    let beside_rules = |sub: &str| base.ancestors().take(3).map(|a| a.join(sub)).find(|d| d.is_dir());
    let dir = match explicit {
        Some(d) => d.to_path_buf(),
        None => match beside_rules("data") {
            Some(d) => d,
            None => return Ok(Arc::new(RefData::empty())),
        },
    };
    let input = |msg: String| crate::vocab::input_error(msg);
    if !dir.is_dir() {
        bail!(input(format!("reference data folder {} does not exist (--refdata)", dir.display())));
    }
    let started = std::time::Instant::now();
    let mut rd = RefData::default();
    rd.add_dir_with(&dir, opts).map_err(|e| input(format!("reference data in {}: {e:#}", dir.display())))?;
    if explicit.is_some() && rd.files.is_empty() && rd.not_needed.is_empty() {
        let seen: Vec<String> = rd.ignored.iter().map(|(p, why)| format!("  {}: {why}", p.display())).collect();
        bail!(input(format!(
            "no reference table recognised in {} (--refdata); files seen:\n{}",
            dir.display(),
            if seen.is_empty() { "  (none)".to_string() } else { seen.join("\n") }
        )));
    }
    let own_missing = [TableKind::ServiceMinutes, TableKind::PfsFactors].into_iter().any(|k| opts.wants(k) && !rd.has(k));
    if own_missing {
        if let Some(own) = beside_rules("data/claimlint") {
            // Only the tables still missing: the named folder's own copies win.
            let only: BTreeSet<TableKind> =
                [TableKind::ServiceMinutes, TableKind::PfsFactors].into_iter().filter(|&k| opts.wants(k) && !rd.has(k)).collect();
            let opts = LoadOptions { only: Some(only), cache: opts.cache.clone() };
            rd.add_dir_with(&own, &opts).map_err(|e| input(format!("reference data in {}: {e:#}", own.display())))?;
        }
    }
    tracing::info!(dir = %dir.display(), files = rd.files.len(), ms = started.elapsed().as_millis() as u64, "reference data loaded");
    Ok(Arc::new(rd))
}

/// One load into a [`RefData`].
pub(crate) struct Loader<'a> {
    rd: &'a mut RefData,
    opts: &'a LoadOptions,
    cache: Cache,
}

impl<'a> Loader<'a> {
    pub fn new(rd: &'a mut RefData, opts: &'a LoadOptions) -> Loader<'a> {
        let cache = Cache::new(&opts.cache);
        if rd.cache_dir.is_none() {
            rd.cache_dir = cache.dir().map(Path::to_path_buf);
        }
        Loader { rd, opts, cache }
    }

    pub fn add_dir(&mut self, dir: &Path) -> Result<()> {
        if !dir.is_dir() {
            bail!("reference data directory {} does not exist", dir.display());
        }
        for found in source::walk(dir)? {
            match found {
                Found::File(p) => {
                    self.add_file(&p)?;
                }
                Found::Skipped(p, why) => self.ignore(p, why),
            }
        }
        Ok(())
    }

    fn ignore(&mut self, path: PathBuf, why: String) {
        tracing::info!(file = %path.display(), "reference file ignored: {why}");
        self.rd.ignored.push((path, why));
    }

    /// Load one file, or each member of a zip. Returns the kind of the (last) table loaded.
    pub fn add_file(&mut self, path: &Path) -> Result<Option<TableKind>> {
        let canon = path.canonicalize().with_context(|| format!("reading {}", path.display()))?;
        if !self.rd.seen.insert(canon) {
            self.ignore(path.to_path_buf(), "already read (the same file is reachable twice)".into());
            return Ok(None);
        }
        let src = SourceFile::file(path);
        if !src.is_zip() {
            return self.add_source(&src);
        }
        let archive = Archive::open(path)?;
        let mut last = None;
        let mut any = false;
        for member in archive.members()? {
            let src = SourceFile::member(member);
            any = true;
            if let Some(kind) = self.add_source(&src)? {
                last = Some(kind);
            }
        }
        if !any {
            self.ignore(path.to_path_buf(), "empty zip".into());
        }
        Ok(last)
    }

    fn add_source(&mut self, src: &SourceFile) -> Result<Option<TableKind>> {
        if src.name.ends_with(".zip") {
            self.ignore(src.shown.clone(), "a zip inside a zip: unzip the outer one".into());
            return Ok(None);
        }
        let plan = match recognise(src)? {
            Ok(plan) => plan,
            Err(why) => {
                src.verify()?;
                self.ignore(src.shown.clone(), why);
                return Ok(None);
            }
        };
        let kind = plan.kind;
        if !self.opts.wants(kind) {
            tracing::info!(file = %src.shown.display(), %kind, "reference file not needed by the loaded rules");
            self.rd.not_needed.push((src.shown.clone(), kind));
            return Ok(None);
        }
        // Members are named for their own release; the zip's name is the fallback.
        let release = compact::release_from_name(&src.name).or_else(|| match &src.member {
            Some(_) => compact::release_from_name(&src.path.file_name().unwrap_or_default().to_string_lossy()),
            None => None,
        });
        let started = std::time::Instant::now();
        let load = kind
            .def()
            .ops
            .load(self.rd, src, &plan, &self.cache, release)
            .with_context(|| format!("loading {} table {}", kind, src.shown.display()))?;
        tracing::info!(
            file = %src.shown.display(),
            %kind,
            layout = plan.layout,
            release = %load.release.map_or("undated".to_string(), |d| d.to_string()),
            rows = load.rows,
            cache = %load.cache,
            ms = started.elapsed().as_millis() as u64,
            "reference table loaded"
        );
        self.rd.files.push(LoadedFile {
            path: src.shown.clone(),
            archive: src.member.as_ref().map(|_| src.path.clone()),
            kind,
            official: plan.official,
            layout: plan.layout,
            release: load.release,
            version: load.version,
            rows: load.rows,
            skipped: load.skipped,
            cache: load.cache,
        });
        Ok(Some(kind))
    }
}

/// The plan for reading `src`, or why it is not a table. Errors only when it cannot be read.
fn recognise(src: &SourceFile) -> Result<std::result::Result<detect::Plan, String>> {
    let base = src.base_name().to_string();
    let parquet = if read::is_parquet(Path::new(&base)) {
        if !src.on_disk() {
            return Ok(Err("a Parquet file inside a zip: unzip it".into()));
        }
        Some(read::parquet_columns(&src.path).with_context(|| format!("reading {}", src.shown.display()))?)
    } else {
        None
    };
    let lines = if parquet.is_none() { src.peek_lines(PEEK_LINES)? } else { Vec::new() };
    let probe = Probe::new(&base, lines, parquet);
    for def in TABLES {
        match (def.detect)(&probe) {
            Detected::No => continue,
            Detected::Table(plan) => return Ok(Ok(plan)),
            Detected::Skip(why) => return Ok(Err(why)),
        }
    }
    Ok(Err(detect::unrecognised(&probe)))
}
