//! The parsed-table cache: what parsing a source file yields, written once and read back on later
//! runs. Entries are postcard-encoded (a compact serde format; large row arrays go in as plain
//! bytes, so reading them back is a copy rather than a decode) and keyed by the source's path,
//! size, modification time and content hash. An entry whose key does not match is rebuilt; one
//! that is truncated, corrupted or foreign fails its checksum or decoding and is rebuilt with a
//! warning. A cache problem never stops a load and never changes an answer.

use super::source::{Identity, SourceFile};
use super::TableKind;
use anyhow::{Context, Result};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// Environment variable naming the cache folder (`--cache-dir` wins).
pub const CACHE_ENV: &str = "CLAIMLINT_CACHE_DIR";

/// Bumped whenever a table's parsed form changes, so old entries are rebuilt, not misread.
const FORMAT: u32 = 2;
const MAGIC: &[u8; 8] = b"CLREFDC\x01";
const SUFFIX: &str = ".clcache";

/// Where the cache lives.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum CacheSetting {
    /// `CLAIMLINT_CACHE_DIR`, else `claimlint/` in the user's cache folder
    /// (`$XDG_CACHE_HOME` or `~/.cache` on Linux).
    #[default]
    Default,
    Dir(PathBuf),
    /// No cache: every file is parsed.
    Off,
}

impl CacheSetting {
    /// The folder, or `None` when caching is off or no user cache folder exists.
    pub fn resolve(&self) -> Option<PathBuf> {
        match self {
            CacheSetting::Off => None,
            CacheSetting::Dir(d) => Some(d.clone()),
            CacheSetting::Default => {
                std::env::var_os(CACHE_ENV).filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| dirs::cache_dir().map(|d| d.join("claimlint")))
            }
        }
    }
}

/// What happened to one file's cache entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheState {
    /// Read from the cache.
    Hit,
    /// Parsed and written (no entry yet).
    Built,
    /// The source changed since the entry was written: parsed and rewritten.
    Stale,
    /// The entry was unreadable (truncated, corrupted, foreign): parsed and rewritten.
    Rebuilt,
    /// Caching is off.
    Off,
}

impl CacheState {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheState::Hit => "cache hit",
            CacheState::Built => "cache built",
            CacheState::Stale => "cache stale, rebuilt",
            CacheState::Rebuilt => "cache unreadable, rebuilt",
            CacheState::Off => "not cached",
        }
    }
}

impl fmt::Display for CacheState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The key and checksum written before each entry's payload.
#[derive(Serialize, Deserialize, PartialEq)]
struct Header {
    format: u32,
    version: String,
    kind: String,
    source: Identity,
    payload_len: u64,
    payload_hash: u64,
}

#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    header: Header,
    #[serde(borrow, with = "serde_bytes_compat")]
    payload: &'a [u8],
}

/// postcard writes `&[u8]` as a length and the raw bytes when serialised as bytes.
mod serde_bytes_compat {
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &&[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'de [u8], D::Error> {
        <&[u8] as serde::Deserialize>::deserialize(d)
    }
}

enum Lookup<T> {
    Hit(T),
    Missing,
    Stale,
    Unreadable(String),
}

/// The cache for one load.
pub struct Cache {
    dir: Option<PathBuf>,
}

impl Cache {
    pub fn new(setting: &CacheSetting) -> Cache {
        Cache { dir: setting.resolve() }
    }

    pub fn off() -> Cache {
        Cache { dir: None }
    }

    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    fn entry_path(dir: &Path, kind: TableKind, src: &SourceFile) -> PathBuf {
        let key = format!("{}\0{}", src.path.display(), src.member.as_ref().map_or("", |m| m.name.as_str()));
        let leaf = src.name.replace(|c: char| !c.is_ascii_alphanumeric() && c != '.' && c != '_' && c != '-', "_");
        dir.join(format!("{}-{leaf}-{:016x}{SUFFIX}", kind.name(), xxhash_rust::xxh3::xxh3_64(key.as_bytes())))
    }

    /// The parsed file from the cache when its entry matches the source, else `build()`'s result
    /// (written back for next time).
    pub(crate) fn get_or_build<T: Serialize + DeserializeOwned>(
        &self,
        kind: TableKind,
        src: &SourceFile,
        build: impl FnOnce() -> Result<T>,
    ) -> Result<(T, CacheState)> {
        let Some(dir) = &self.dir else {
            return Ok((build()?, CacheState::Off));
        };
        let id = src.identity()?;
        let path = Self::entry_path(dir, kind, src);
        let state = match read_entry::<T>(&path, kind, &id) {
            Lookup::Hit(t) => return Ok((t, CacheState::Hit)),
            Lookup::Missing => CacheState::Built,
            Lookup::Stale => CacheState::Stale,
            Lookup::Unreadable(why) => {
                tracing::warn!("reference-data cache entry {} for {} is unreadable ({why}); rebuilding it", path.display(), src.shown.display());
                CacheState::Rebuilt
            }
        };
        let value = build()?;
        if let Err(e) = write_entry(dir, &path, kind, &id, &value) {
            // A read-only cache costs only the cache; -v says why.
            tracing::info!("could not write the reference-data cache entry {}: {e:#}", path.display());
        }
        Ok((value, state))
    }

    /// Remove every cache entry in the folder; returns how many were removed.
    pub fn clear(dir: &Path) -> Result<usize> {
        if !dir.is_dir() {
            return Ok(0);
        }
        let mut n = 0;
        for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let p = e?.path();
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(SUFFIX) || name.contains(&format!("{SUFFIX}.tmp")) {
                std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Cache entries in the folder: (count, bytes).
    pub fn usage(dir: &Path) -> (usize, u64) {
        std::fs::read_dir(dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(SUFFIX))
                    .fold((0, 0), |(n, b), e| (n + 1, b + e.metadata().map_or(0, |m| m.len())))
            })
            .unwrap_or((0, 0))
    }
}

fn read_entry<T: DeserializeOwned>(path: &Path, kind: TableKind, id: &Identity) -> Lookup<T> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Lookup::Missing,
        Err(e) => return Lookup::Unreadable(e.to_string()),
    };
    // Mapped rather than read: the large row arrays are then copied once, straight from the
    // page cache. SAFETY: entries are only ever replaced by renaming a new file into place (or
    // unlinked), never written in place, so the mapped file does not change under us.
    let bytes = match unsafe { memmap2::Mmap::map(&file) } {
        Ok(m) => m,
        Err(e) => return Lookup::Unreadable(e.to_string()),
    };
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Lookup::Unreadable("not a claimlint cache file".into());
    }
    let env: Envelope = match postcard::from_bytes(&bytes[MAGIC.len()..]) {
        Ok(e) => e,
        Err(e) => return Lookup::Unreadable(format!("damaged header: {e}")),
    };
    let h = &env.header;
    if h.format != FORMAT || h.version != env!("CARGO_PKG_VERSION") || h.kind != kind.name() {
        return Lookup::Stale;
    }
    if h.source != *id {
        return Lookup::Stale;
    }
    if h.payload_len != env.payload.len() as u64 || h.payload_hash != xxhash_rust::xxh3::xxh3_64(env.payload) {
        return Lookup::Unreadable("checksum mismatch".into());
    }
    match postcard::from_bytes::<T>(env.payload) {
        Ok(t) => Lookup::Hit(t),
        Err(e) => Lookup::Unreadable(format!("damaged payload: {e}")),
    }
}

fn write_entry<T: Serialize>(dir: &Path, path: &Path, kind: TableKind, id: &Identity, value: &T) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let payload = postcard::to_allocvec(value)?;
    let env = Envelope {
        header: Header {
            format: FORMAT,
            version: env!("CARGO_PKG_VERSION").to_string(),
            kind: kind.name().to_string(),
            source: id.clone(),
            payload_len: payload.len() as u64,
            payload_hash: xxhash_rust::xxh3::xxh3_64(&payload),
        },
        payload: &payload,
    };
    let mut bytes = MAGIC.to_vec();
    bytes.extend(postcard::to_allocvec(&env)?);
    // Written aside and renamed, so a concurrent run never reads half an entry.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("clcache.tmp{}-{n}", std::process::id()));
    std::fs::write(&tmp, &bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Serde helpers that store a vector of plain-old-data rows as raw bytes: reading 2.5 million PTP
/// rows back is then one copy instead of millions of field decodes. Entries are only read on the
/// machine that wrote them (their checksum is verified first), so byte order is the machine's.
pub(crate) mod pod_vec {
    use serde::{de::Error, Deserializer, Serializer};

    pub fn serialize<T: bytemuck::Pod, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytemuck::cast_slice(v))
    }

    pub fn deserialize<'de, T: bytemuck::Pod, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        let bytes = <&[u8] as serde::Deserialize>::deserialize(d)?;
        if bytes.len() % std::mem::size_of::<T>() != 0 {
            return Err(D::Error::custom("row array of the wrong length"));
        }
        Ok(bytemuck::pod_collect_to_vec(bytes))
    }
}
