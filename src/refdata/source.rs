//! The files a reference folder holds, as they are: plain or compressed (`.gz`, `.zst`) files,
//! and the members of CMS release zips, opened in place. Every file seen is reported, either as a
//! table or as passed over with the reason, so nothing in a folder goes unmentioned.

use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

/// How much of a file detection looks at.
const PEEK_BYTES: usize = 64 * 1024;

/// A zip held in memory while its members are read (CMS release zips are a few MB).
pub(crate) struct Archive {
    pub path: PathBuf,
    bytes: Vec<u8>,
    hash: std::sync::OnceLock<u64>,
}

impl Archive {
    pub fn open(path: &Path) -> Result<Arc<Archive>> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        Ok(Arc::new(Archive { path: path.to_path_buf(), bytes, hash: std::sync::OnceLock::new() }))
    }

    /// The archive's files (directories left out), in archive order.
    pub fn members(self: &Arc<Self>) -> Result<Vec<Member>> {
        let archive = rawzip::ZipArchive::from_slice(&self.bytes[..]).map_err(|e| anyhow!("{}: not a readable zip: {e}", self.path.display()))?;
        let mut out = Vec::new();
        let mut entries = archive.entries();
        while let Some(entry) = entries.next_entry().map_err(|e| anyhow!("{}: damaged zip directory: {e}", self.path.display()))? {
            if entry.is_dir() {
                continue;
            }
            let name = entry
                .file_path()
                .try_normalize()
                .map_err(|e| anyhow!("{}: member with an unusable name: {e}", self.path.display()))?
                .as_str()
                .to_string();
            out.push(Member {
                archive: self.clone(),
                name,
                method: entry.compression_method(),
                crc: entry.crc32(),
                size: entry.uncompressed_size_hint(),
                wayfinder: entry.wayfinder(),
            });
        }
        Ok(out)
    }

    pub fn content_hash(&self) -> u64 {
        *self.hash.get_or_init(|| xxhash_rust::xxh3::xxh3_64(&self.bytes))
    }
}

/// One file inside a zip.
pub(crate) struct Member {
    archive: Arc<Archive>,
    pub name: String,
    method: rawzip::CompressionMethod,
    crc: u32,
    size: u64,
    wayfinder: rawzip::ZipArchiveEntryWayfinder,
}

impl Member {
    /// Run `f` on a reader of the decompressed member.
    fn with_reader<T>(&self, f: impl FnOnce(&mut dyn Read) -> T) -> Result<T> {
        let archive = rawzip::ZipArchive::from_slice(&self.archive.bytes[..]).map_err(|e| anyhow!("{}: {e}", self.archive.path.display()))?;
        let entry = archive.get_entry(self.wayfinder).map_err(|e| anyhow!("{}: member {}: {e}", self.archive.path.display(), self.name))?;
        let data = entry.data();
        if self.method == rawzip::CompressionMethod::STORE {
            Ok(f(&mut &data[..]))
        } else if self.method == rawzip::CompressionMethod::DEFLATE {
            Ok(f(&mut flate2::bufread::DeflateDecoder::new(data)))
        } else {
            bail!(
                "{}: member {} uses a compression other than deflate; only stored and deflated members are read",
                self.archive.path.display(),
                self.name
            )
        }
    }

    /// The whole member, decompressed, with its CRC checked.
    fn read_all(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.size.min(1 << 30) as usize);
        self.with_reader(|r| r.read_to_end(&mut out))?.with_context(|| format!("{}: decompressing {}", self.archive.path.display(), self.name))?;
        if rawzip::crc32(&out) != self.crc {
            bail!("{}: member {} is damaged (CRC mismatch)", self.archive.path.display(), self.name);
        }
        Ok(out)
    }

    /// The first `n` bytes of the member, decompressed.
    fn head(&self, n: usize) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(n);
        self.with_reader(|r| r.take(n as u64).read_to_end(&mut out))?
            .with_context(|| format!("{}: member {} is damaged", self.archive.path.display(), self.name))?;
        Ok(out)
    }
}

/// A file as the loader sees it: on disk, or a member of a zip on disk.
pub(crate) struct SourceFile {
    /// What the summary shows: the path, or `zip/member`.
    pub shown: PathBuf,
    /// The file on disk (the zip for a member).
    pub path: PathBuf,
    pub member: Option<Member>,
    /// Lower-case file name (of the member for zip members).
    pub name: String,
}

/// What a cache entry is keyed by: the source's path, size, modification time and content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Identity {
    pub path: String,
    pub member: Option<String>,
    pub size: u64,
    pub mtime_ns: u128,
    /// xxh3 of the file (the zip for a member; the member's CRC is in `member_crc`).
    pub hash: u64,
    pub member_crc: u32,
}

impl SourceFile {
    pub fn file(path: &Path) -> SourceFile {
        SourceFile { shown: path.to_path_buf(), path: path.to_path_buf(), member: None, name: lower_name(path) }
    }

    pub fn member(member: Member) -> SourceFile {
        let path = member.archive.path.clone();
        let leaf = member.name.rsplit('/').next().unwrap_or(&member.name).to_ascii_lowercase();
        SourceFile { shown: path.join(&member.name), path, member: Some(member), name: leaf }
    }

    /// The name without compression suffixes (`x.csv.gz` -> `x.csv`).
    pub fn base_name(&self) -> &str {
        self.name.trim_end_matches(".gz").trim_end_matches(".zst")
    }

    pub fn is_zip(&self) -> bool {
        self.member.is_none() && self.name.ends_with(".zip")
    }

    /// Whether Polars can read the file by path (members are read from memory instead).
    pub fn on_disk(&self) -> bool {
        self.member.is_none()
    }

    fn decompressed<'a>(&self, raw: Box<dyn Read + 'a>) -> Result<Box<dyn Read + 'a>> {
        Ok(if self.name.ends_with(".gz") {
            Box::new(flate2::read::MultiGzDecoder::new(raw))
        } else if self.name.ends_with(".zst") {
            Box::new(zstd::stream::read::Decoder::new(raw)?)
        } else {
            raw
        })
    }

    /// The whole content, decompressed.
    pub fn bytes(&self) -> Result<Vec<u8>> {
        let what = || format!("reading {}", self.shown.display());
        let raw = match &self.member {
            Some(m) => m.read_all()?,
            None => std::fs::read(&self.path).with_context(what)?,
        };
        if !(self.name.ends_with(".gz") || self.name.ends_with(".zst")) {
            return Ok(raw);
        }
        let mut out = Vec::with_capacity(raw.len() * 6);
        self.decompressed(Box::new(&raw[..]))?.read_to_end(&mut out).with_context(what)?;
        Ok(out)
    }

    /// The first lines (decompressed), for recognising the table. Invalid UTF-8 is replaced.
    pub fn peek_lines(&self, max_lines: usize) -> Result<Vec<String>> {
        let what = || format!("reading {}", self.shown.display());
        let mut head = Vec::with_capacity(PEEK_BYTES);
        // Damage past the first lines shows up when the table is read, not here.
        if let Some(m) = &self.member {
            let raw = m.head(PEEK_BYTES * 4)?;
            self.decompressed(Box::new(&raw[..]))?.take(PEEK_BYTES as u64).read_to_end(&mut head).with_context(what)?;
        } else {
            let file = std::fs::File::open(&self.path).with_context(what)?;
            self.decompressed(Box::new(file))?.take(PEEK_BYTES as u64).read_to_end(&mut head).with_context(what)?;
        }
        let text = String::from_utf8_lossy(&head);
        let mut lines: Vec<String> = text.split('\n').take(max_lines).map(|l| l.trim_end_matches('\r').to_string()).collect();
        // The last piece may be cut mid-line.
        if head.len() == PEEK_BYTES && lines.len() > 1 && lines.len() < max_lines {
            lines.pop();
        }
        Ok(lines)
    }

    /// For a zip member, check it decompresses to its CRC (a damaged member must not pass as
    /// an unrecognised file).
    pub fn verify(&self) -> Result<()> {
        match &self.member {
            Some(m) => m.read_all().map(|_| ()),
            None => Ok(()),
        }
    }

    pub fn identity(&self) -> Result<Identity> {
        let meta = std::fs::metadata(&self.path).with_context(|| format!("reading {}", self.path.display()))?;
        let mtime_ns = meta.modified().ok().and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map_or(0, |d| d.as_nanos());
        let (hash, member, member_crc) = match &self.member {
            Some(m) => (m.archive.content_hash(), Some(m.name.clone()), m.crc),
            None => (hash_file(&self.path)?, None, 0),
        };
        Ok(Identity { path: self.path.to_string_lossy().into_owned(), member, size: meta.len(), mtime_ns, hash, member_crc })
    }
}

/// xxh3 of a file's content, hashed from a mapping rather than a copy.
fn hash_file(path: &Path) -> Result<u64> {
    let what = || format!("reading {}", path.display());
    let file = std::fs::File::open(path).with_context(what)?;
    if file.metadata().with_context(what)?.len() == 0 {
        return Ok(xxhash_rust::xxh3::xxh3_64(b""));
    }
    // SAFETY: the mapping is read once, here; a source rewritten meanwhile gives a hash that
    // matches neither version, so its cache entry is rebuilt.
    let map = unsafe { memmap2::Mmap::map(&file) }.with_context(what)?;
    Ok(xxhash_rust::xxh3::xxh3_64(&map))
}

fn lower_name(path: &Path) -> String {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("").to_ascii_lowercase()
}

/// One entry found while walking a folder.
pub(crate) enum Found {
    File(PathBuf),
    /// Seen and passed over without reading (hidden entries, links that loop back).
    Skipped(PathBuf, String),
}

/// Every file under `dir`, recursively and in name order. Hidden entries are reported, not read.
pub(crate) fn walk(dir: &Path) -> Result<Vec<Found>> {
    let mut out = Vec::new();
    let mut visited = HashSet::new();
    walk_into(dir, &mut visited, &mut out)?;
    Ok(out)
}

fn walk_into(dir: &Path, visited: &mut HashSet<PathBuf>, out: &mut Vec<Found>) -> Result<()> {
    let canon = dir.canonicalize().with_context(|| format!("reading {}", dir.display()))?;
    if !visited.insert(canon) {
        out.push(Found::Skipped(dir.to_path_buf(), "folder already read (a link loops back)".into()));
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading directory {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .with_context(|| format!("reading directory {}", dir.display()))?;
    entries.sort();
    for p in entries {
        let hidden = p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
        if p.is_dir() {
            if hidden {
                out.push(Found::Skipped(p, "hidden folder".into()));
            } else {
                walk_into(&p, visited, out)?;
            }
        } else if hidden {
            out.push(Found::Skipped(p, "hidden file".into()));
        } else if p.is_file() {
            out.push(Found::File(p));
        } else {
            out.push(Found::Skipped(p, "not a regular file".into()));
        }
    }
    Ok(())
}
