//! `claimlint generate`: realistic, deterministic synthetic claim batches with planted errors.
//!
//! - Codes, modifiers and diagnoses come from hand-weighted lists of what practices bill most
//!   (E/M visits, labs, therapy, dermatology and Mohs, imaging, ...) and, for the long tail and
//!   for planting errors, from the reference tables under `--refdata` (normalised layouts).
//! - Patients (birth date, sex, payer, primary care provider) and providers (NPI with a valid
//!   check digit, specialty, billing group) are derived from the seed by hashing their index, so
//!   nothing about them is held in memory.
//! - Each encounter (one patient, provider and date) is generated from its own PRNG seeded by
//!   (seed, encounter index), in parallel; the file is identical for the same arguments whatever
//!   the thread count.
//! - Errors are planted for the federal rules at `--error-rate` (per line, split evenly across the
//!   rules the loaded tables allow). The [`oracle`] says what each rule will find on every
//!   encounter, so clean claims are repaired until clean and the manifest holds the exact number
//!   of findings each rule should report.
//! - Rows are written in chunks (one Parquet row group per chunk), so 10M lines never sit in
//!   memory at once.

mod model;
pub mod oracle;
mod plant;
pub mod policy;
mod pools;
mod rng;
pub mod schemes;
mod templates;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::NaiveDate;
use polars::prelude::*;
use rayon::prelude::*;

use crate::refdata::RefData;
use crate::schema::{Kind, COLUMNS};
pub use model::npi_with_check_digit;
use model::{Generated, Model};
use oracle::{Counts, RULES};

#[derive(Debug, Clone)]
pub struct GenerateOptions {
    pub lines: u64,
    pub seed: u64,
    pub out: PathBuf,
    /// Reference tables to draw from (normalised layouts); the default is rules/data.
    pub refdata: PathBuf,
    /// Rules folder whose policy lists (NCCI-associated modifiers, prior-authorization codes)
    /// the claims follow; None, or a folder without them, uses the shipped rule files.
    pub rules: Option<PathBuf>,
    /// Planted errors per line, split evenly across the plantable federal rules.
    pub error_rate: f64,
    /// Rows per written chunk (one Parquet row group each).
    pub chunk_rows: usize,
    /// First and last date of service.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Share of providers that bill a provider-level fraud scheme (`--schemes`), with natural
    /// variation for every provider; None generates the batch without either.
    pub scheme_share: Option<f64>,
}

impl GenerateOptions {
    pub fn new(lines: u64, seed: u64, out: impl Into<PathBuf>) -> GenerateOptions {
        GenerateOptions {
            lines,
            seed,
            out: out.into(),
            refdata: PathBuf::from("rules/data"),
            rules: None,
            error_rate: 0.02,
            chunk_rows: 500_000,
            from: NaiveDate::from_ymd_opt(2024, 1, 1).expect("date"),
            to: NaiveDate::from_ymd_opt(2024, 12, 31).expect("date"),
            scheme_share: None,
        }
    }
}

/// What was written, and what an audit with the federal rules should find.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub lines: u64,
    pub claims: u64,
    pub encounters: u64,
    pub patients: u64,
    pub providers: u64,
    pub payers: Vec<&'static str>,
    pub multi_line_claims: u64,
    /// Patient-days (same patient, provider and date) billed on more than one claim.
    pub split_patient_days: u64,
    /// Planted errors by rule (one per planted encounter).
    pub planted: Counts,
    /// Findings each federal rule should report (a planted error on a line-scope rule such as
    /// timely filing gives one finding per line of the claim).
    pub expected: Counts,
    pub rules_not_plantable: Vec<&'static str>,
    /// Providers billing a planted scheme (`--schemes`): the oracle for fraud-risk rankings.
    pub schemes: Vec<PlantedScheme>,
}

/// One provider's planted scheme, as the manifest lists it.
#[derive(Debug, Clone)]
pub struct PlantedScheme {
    /// The NPI its lines carry (rendering NPI).
    pub npi: String,
    pub specialty: &'static str,
    pub scheme: schemes::Scheme,
    /// 0.5 to 1: how hard the provider works the scheme.
    pub strength: f64,
    /// Encounters the scheme changed.
    pub encounters: u64,
}

impl Manifest {
    pub fn planted_total(&self) -> u64 {
        self.planted.iter().sum()
    }

    /// `rule_id,planted,expected_findings` rows.
    pub fn rows(&self) -> Vec<(&'static str, u64, u64)> {
        RULES.iter().map(|r| (r.id(), self.planted[r.index()], self.expected[r.index()])).collect()
    }

    pub fn to_csv(&self) -> String {
        let mut s = String::from("rule_id,planted,expected_findings\n");
        for (id, p, e) in self.rows() {
            s.push_str(&format!("{id},{p},{e}\n"));
        }
        s
    }

    /// `npi,specialty,scheme,strength,encounters_changed,rule_id` rows, one per planted provider.
    pub fn schemes_csv(&self) -> String {
        let mut s = String::from("npi,specialty,scheme,strength,encounters_changed,rule_id\n");
        for p in &self.schemes {
            s.push_str(&format!("{},{},{},{:.3},{},{}\n", p.npi, p.specialty, p.scheme.id(), p.strength, p.encounters, p.scheme.rule_id()));
        }
        s
    }

    pub fn summary(&self) -> String {
        let mut s = format!(
            "generated {} lines in {} claims ({} multi-line), {} patient-days ({} billed on several claims), {} patients, {} providers, payers {}\n",
            self.lines,
            self.claims,
            self.multi_line_claims,
            self.encounters,
            self.split_patient_days,
            self.patients,
            self.providers,
            self.payers.join(", ")
        );
        s.push_str(&format!(
            "planted {} errors ({:.2}% of lines):\n",
            self.planted_total(),
            100.0 * self.planted_total() as f64 / self.lines.max(1) as f64
        ));
        s.push_str(&format!("  {:<30} {:>8} {:>18}\n", "rule", "planted", "expected findings"));
        for (id, p, e) in self.rows() {
            if p == 0 && e == 0 {
                continue;
            }
            s.push_str(&format!("  {id:<30} {p:>8} {e:>18}\n"));
        }
        if !self.schemes.is_empty() {
            s.push_str(&format!("planted {} provider-level schemes:\n", self.schemes.len()));
            for p in &self.schemes {
                s.push_str(&format!(
                    "  {} {:<38} {:<22} strength {:.2}, {} encounters\n",
                    p.npi,
                    p.specialty,
                    p.scheme.id(),
                    p.strength,
                    p.encounters
                ));
            }
        }
        if !self.rules_not_plantable.is_empty() {
            s.push_str(&format!("not planted (tables missing or rule not generated): {}\n", self.rules_not_plantable.join(", ")));
        }
        s
    }
}

/// Column buffers for one chunk, in schema order.
enum Buf {
    Text(StringChunkedBuilder),
    Date(Vec<Option<i32>>),
    Num(Vec<Option<f64>>),
    Int(Vec<Option<i64>>),
}

struct Chunk {
    bufs: Vec<Buf>,
    len: usize,
}

fn ci(name: &str) -> usize {
    COLUMNS.iter().position(|c| c.name == name).expect("canonical column")
}

fn epoch_days(d: NaiveDate) -> i32 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch")).num_days() as i32
}

impl Chunk {
    fn new(cap: usize) -> Chunk {
        let bufs = COLUMNS
            .iter()
            .map(|c| match c.kind {
                Kind::Text => Buf::Text(StringChunkedBuilder::new(c.name.into(), cap)),
                Kind::Date => Buf::Date(Vec::with_capacity(cap)),
                Kind::Number => Buf::Num(Vec::with_capacity(cap)),
                Kind::Integer => Buf::Int(Vec::with_capacity(cap)),
            })
            .collect();
        Chunk { bufs, len: 0 }
    }

    fn text(&mut self, i: usize, v: Option<&str>) {
        match (&mut self.bufs[i], v) {
            (Buf::Text(b), Some(v)) => b.append_value(v),
            (Buf::Text(b), None) => b.append_null(),
            _ => unreachable!("text column"),
        }
    }
    fn date(&mut self, i: usize, v: Option<NaiveDate>) {
        match &mut self.bufs[i] {
            Buf::Date(b) => b.push(v.map(epoch_days)),
            _ => unreachable!("date column"),
        }
    }
    fn num(&mut self, i: usize, v: Option<f64>) {
        match &mut self.bufs[i] {
            Buf::Num(b) => b.push(v),
            _ => unreachable!("number column"),
        }
    }
    fn int(&mut self, i: usize, v: Option<i64>) {
        match &mut self.bufs[i] {
            Buf::Int(b) => b.push(v),
            _ => unreachable!("integer column"),
        }
    }

    fn finish(self) -> Result<DataFrame> {
        let mut cols = Vec::with_capacity(COLUMNS.len());
        for (c, b) in COLUMNS.iter().zip(self.bufs) {
            let name: PlSmallStr = c.name.into();
            let col = match b {
                Buf::Text(b) => b.finish().into_column(),
                Buf::Date(v) => Int32Chunked::from_iter_options(name, v.into_iter()).into_date().into_column(),
                Buf::Num(v) => Float64Chunked::from_iter_options(name, v.into_iter()).into_column(),
                Buf::Int(v) => Int64Chunked::from_iter_options(name, v.into_iter()).into_column(),
            };
            cols.push(col);
        }
        Ok(DataFrame::new(self.len, cols)?)
    }
}

/// Column indexes resolved once.
struct Idx {
    claim_id: usize,
    claim_type: usize,
    payer_id: usize,
    patient_id: usize,
    birth: usize,
    sex: usize,
    death: usize,
    billing_npi: usize,
    rendering_npi: usize,
    specialty: usize,
    received: usize,
    prior_auth: usize,
    dx: [usize; 12],
    type_of_bill: usize,
    principal_proc: usize,
    other_proc: usize,
    line_number: usize,
    from: usize,
    to: usize,
    pos: usize,
    code: usize,
    mods: [usize; 4],
    units: usize,
    charge: usize,
    pointers: usize,
    paid: usize,
    revenue: usize,
}

impl Idx {
    fn new() -> Idx {
        Idx {
            claim_id: ci("claim_id"),
            claim_type: ci("claim_type"),
            payer_id: ci("payer_id"),
            patient_id: ci("patient_id"),
            birth: ci("patient_birth_date"),
            sex: ci("patient_sex"),
            death: ci("patient_death_date"),
            billing_npi: ci("billing_npi"),
            rendering_npi: ci("rendering_npi"),
            specialty: ci("provider_specialty"),
            received: ci("received_date"),
            prior_auth: ci("prior_auth_number"),
            dx: std::array::from_fn(|i| ci(&format!("dx_{}", i + 1))),
            type_of_bill: ci("type_of_bill"),
            principal_proc: ci("principal_procedure_code"),
            other_proc: ci("other_procedure_codes"),
            line_number: ci("line_number"),
            from: ci("service_date_from"),
            to: ci("service_date_to"),
            pos: ci("place_of_service"),
            code: ci("procedure_code"),
            mods: std::array::from_fn(|i| ci(&format!("modifier_{}", i + 1))),
            units: ci("units"),
            charge: ci("charge_amount"),
            pointers: ci("dx_pointers"),
            paid: ci("paid_amount"),
            revenue: ci("revenue_code"),
        }
    }
}

const POINTERS: [&str; 4] = ["A", "AB", "ABC", "ABCD"];

fn paid_share(payer: &str) -> f64 {
    match payer {
        "MEDICARE" => 0.42,
        "NY-MEDICAID" => 0.33,
        _ => 0.62,
    }
}

struct Sink<'m> {
    model: &'m Model<'m>,
    idx: Idx,
    chunk: Chunk,
    chunk_rows: usize,
    writer: Writer,
    manifest: Manifest,
    patients: HashSet<u32>,
    providers: HashSet<u32>,
    payers: HashSet<&'static str>,
    patient_salt: u64,
    /// Encounters changed by each planted provider's scheme.
    schemed: HashMap<u32, u64>,
}

impl Sink<'_> {
    fn push(&mut self, g: &Generated) -> Result<()> {
        let m = &mut self.manifest;
        m.encounters += 1;
        m.lines += g.enc.lines.len() as u64;
        m.claims += g.enc.claims.len() as u64;
        if g.enc.claims.len() > 1 {
            m.split_patient_days += 1;
        }
        if let Some(r) = g.planted {
            m.planted[r.index()] += 1;
        }
        for (e, x) in m.expected.iter_mut().zip(g.expected) {
            *e += x;
        }
        self.patients.insert(g.patient.index);
        if g.scheme.is_some() {
            *self.schemed.entry(g.enc.provider).or_default() += 1;
        }
        self.providers.insert(g.enc.provider);
        self.payers.insert(g.patient.payer);

        let prov = &self.model.providers[g.enc.provider as usize];
        let pat = &g.patient;
        let patient_id = format!("M{:09}", (pat.index as u64 * 48_271 + self.patient_salt) % 1_000_000_000);
        let idx = &self.idx;
        let c = &mut self.chunk;
        let share = paid_share(pat.payer);
        for (ci_, claim) in g.enc.claims.iter().enumerate() {
            let claim_id = format!("C{:010}", self.manifest.claims - g.enc.claims.len() as u64 + ci_ as u64 + 1);
            let lines: Vec<&model::PlannedLine> = g.enc.lines.iter().filter(|l| l.claim as usize == ci_).collect();
            if lines.len() > 1 {
                self.manifest.multi_line_claims += 1;
            }
            for (n, l) in lines.iter().enumerate() {
                c.text(idx.claim_id, Some(&claim_id));
                c.text(idx.claim_type, Some("professional"));
                c.text(idx.payer_id, Some(pat.payer));
                c.text(idx.patient_id, Some(&patient_id));
                c.date(idx.birth, Some(pat.birth));
                c.text(idx.sex, Some(pat.sex));
                c.date(idx.death, pat.death);
                c.text(idx.billing_npi, Some(&prov.billing_npi));
                c.text(idx.rendering_npi, Some(&prov.npi));
                c.text(idx.specialty, Some(prov.spec.name()));
                c.date(idx.received, Some(claim.received));
                c.text(idx.prior_auth, claim.prior_auth.as_deref());
                for (s, &col) in idx.dx.iter().enumerate() {
                    c.text(col, claim.dx.get(s).map(|d| d.as_ref()));
                }
                c.text(idx.type_of_bill, None);
                c.text(idx.principal_proc, None);
                c.text(idx.other_proc, None);
                c.int(idx.line_number, Some(n as i64 + 1));
                c.date(idx.from, Some(g.enc.dos));
                c.date(idx.to, Some(g.enc.dos));
                c.text(idx.pos, Some(&l.pos));
                c.text(idx.code, Some(&l.code));
                for (k, &col) in idx.mods.iter().enumerate() {
                    c.text(col, l.mods.get(k).map(|m| m.as_ref()));
                }
                c.num(idx.units, Some(l.units as f64));
                let charge = l.charge();
                c.num(idx.charge, Some(charge));
                let ptr = POINTERS[(claim.dx.len().min(1 + n % 3)).clamp(1, 4) - 1];
                c.text(idx.pointers, Some(ptr));
                c.num(idx.paid, Some((charge * share * 100.0).round() / 100.0));
                c.text(idx.revenue, None);
                c.len += 1;
            }
        }
        if self.chunk.len >= self.chunk_rows {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        if self.chunk.len == 0 {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Chunk::new(self.chunk_rows));
        let mut df = chunk.finish()?;
        self.writer.write(&mut df)
    }
}

enum Writer {
    // Boxed: the Parquet writer is several times the size of the CSV one.
    Parquet(Box<polars::io::parquet::write::BatchedWriter<std::fs::File>>),
    Csv(polars::io::csv::write::BatchedWriter<std::fs::File>),
}

fn schema() -> Schema {
    Schema::from_iter(COLUMNS.iter().map(|c| {
        let dt = match c.kind {
            Kind::Text => DataType::String,
            Kind::Date => DataType::Date,
            Kind::Number => DataType::Float64,
            Kind::Integer => DataType::Int64,
        };
        Field::new(c.name.into(), dt)
    }))
}

impl Writer {
    fn create(path: &Path, chunk_rows: usize) -> Result<Writer> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let schema = schema();
        Ok(match ext.as_str() {
            "parquet" => Writer::Parquet(Box::new(ParquetWriter::new(file).with_row_group_size(Some(chunk_rows)).batched(&schema)?)),
            "csv" => Writer::Csv(CsvWriter::new(file).include_header(true).batched(&schema)?),
            _ => bail!(crate::vocab::input_error(format!("{}: --out must end in .parquet or .csv", path.display()))),
        })
    }

    fn write(&mut self, df: &mut DataFrame) -> Result<()> {
        match self {
            Writer::Parquet(w) => w.write_batch(df)?,
            Writer::Csv(w) => w.write_batch(df)?,
        }
        Ok(())
    }

    fn finish(self) -> Result<()> {
        match self {
            Writer::Parquet(w) => {
                w.finish()?;
            }
            Writer::Csv(mut w) => w.finish()?,
        }
        Ok(())
    }
}

/// Encounters generated per parallel block.
const BLOCK: u64 = 16_384;

pub fn generate(opts: &GenerateOptions) -> Result<Manifest> {
    if opts.lines == 0 {
        bail!(crate::vocab::input_error("--lines must be at least 1"));
    }
    if !(0.0..=1.0).contains(&opts.error_rate) {
        bail!(crate::vocab::input_error("--error-rate must be between 0 and 1"));
    }
    if opts.to < opts.from {
        bail!(crate::vocab::input_error("--to is before --from"));
    }
    if opts.scheme_share.is_some_and(|s| !(0.0..=0.5).contains(&s)) {
        bail!(crate::vocab::input_error("--scheme-share must be between 0 and 0.5"));
    }
    let started = std::time::Instant::now();
    let rd = {
        let _span = tracing::info_span!("refdata").entered();
        RefData::load_dir(&opts.refdata).with_context(|| format!("loading reference tables from {}", opts.refdata.display()))?
    };
    let pools = pools::Pools::load(&opts.refdata, &templates::common_codes())?;
    let policy = policy::Policy::load(opts.rules.as_deref())?;
    tracing::info!(
        ptp_pairs = pools.ptp_pairs.len(),
        mue_codes = pools.mue_codes.len(),
        addons = pools.addons.len(),
        icd_billable = pools.icd_billable.len(),
        leie_npis = pools.leie_npis.len(),
        secs = started.elapsed().as_secs_f64(),
        "reference tables and generator pools loaded"
    );
    let model = Model::new(opts, &rd, &pools, &policy);
    let chunk_rows = opts.chunk_rows.max(1);
    let mut sink = Sink {
        model: &model,
        idx: Idx::new(),
        chunk: Chunk::new(chunk_rows.min(opts.lines as usize)),
        chunk_rows,
        writer: Writer::create(&opts.out, chunk_rows)?,
        manifest: Manifest::default(),
        patients: HashSet::new(),
        providers: HashSet::new(),
        payers: HashSet::new(),
        patient_salt: rng::hash(opts.seed, &[5]) % 1_000_000_000,
        schemed: HashMap::new(),
    };
    let mut next = 0u64;
    let _span = tracing::info_span!("generate").entered();
    'outer: loop {
        let block: Vec<Generated> = (next..next + BLOCK).into_par_iter().map(|e| model.generate(e)).collect();
        next += BLOCK;
        for g in block {
            let remaining = opts.lines - sink.manifest.lines;
            if remaining == 0 {
                break 'outer;
            }
            if g.enc.lines.len() as u64 > remaining {
                sink.push(&model.filler(g.enc.index))?;
            } else {
                sink.push(&g)?;
            }
        }
        if sink.manifest.lines >= opts.lines {
            break;
        }
    }
    sink.flush()?;
    let Sink { writer, mut manifest, patients, providers, payers, schemed, .. } = sink;
    writer.finish()?;
    tracing::info!(lines = manifest.lines, secs = started.elapsed().as_secs_f64(), "generated");
    manifest.patients = patients.len() as u64;
    manifest.providers = providers.len() as u64;
    let mut payers: Vec<&'static str> = payers.into_iter().collect();
    payers.sort();
    manifest.payers = payers;
    manifest.rules_not_plantable = RULES.iter().filter(|r| !model.plantable.contains(r)).map(|r| r.id()).collect();
    if let Some(s) = &model.schemes {
        manifest.schemes = s
            .planted
            .iter()
            .map(|p| {
                let prov = &model.providers[p.provider as usize];
                PlantedScheme {
                    npi: prov.npi.clone(),
                    specialty: prov.spec.name(),
                    scheme: p.scheme,
                    strength: p.strength,
                    encounters: schemed.get(&p.provider).copied().unwrap_or(0),
                }
            })
            .collect();
    }
    Ok(manifest)
}
