//! Column storage: text interned once per distinct value, dates as day numbers, amounts as
//! floats. A column no input filled costs nothing.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use hashbrown::{DefaultHashBuilder, HashTable};
use rhai::ImmutableString;

/// A missing amount or unit count.
pub const NO_NUMBER: f64 = f64::NAN;
/// A missing date.
pub const NO_DAY: i32 = i32::MIN;
/// A missing whole number.
pub const NO_INTEGER: i64 = i64::MIN;

/// Assigns each distinct string one id (0 is the blank value). Strings are kept in one byte
/// arena while interning, so a lookup compares plain bytes; the shared strings scripts see are
/// made once per distinct value at the end.
pub struct Interner {
    /// Strings of up to 12 bytes, keyed by their length and bytes packed in a u128: the same
    /// key Arrow's string views hold inline, so most values are interned without touching
    /// their bytes.
    short: hashbrown::HashMap<u128, u32>,
    table: HashTable<u32>,
    bytes: Vec<u8>,
    /// (start, end) in `bytes` per id; id 0 is the blank value.
    spans: Vec<(u32, u32)>,
    state: DefaultHashBuilder,
    /// The last id returned: consecutive rows often repeat a value (the lines of one claim).
    last: u32,
}

impl Default for Interner {
    fn default() -> Self {
        Self::new()
    }
}

impl Interner {
    pub fn new() -> Self {
        Interner {
            short: hashbrown::HashMap::new(),
            table: HashTable::new(),
            bytes: Vec::new(),
            spans: vec![(0, 0)],
            state: DefaultHashBuilder::default(),
            last: 0,
        }
    }

    fn get(&self, id: u32) -> &[u8] {
        let (a, b) = self.spans[id as usize];
        &self.bytes[a as usize..b as usize]
    }

    /// The key of a string of at most 12 bytes: length in the low 32 bits, then the bytes.
    fn short_key(s: &[u8]) -> u128 {
        let mut b = [0u8; 16];
        b[..4].copy_from_slice(&(s.len() as u32).to_le_bytes());
        b[4..4 + s.len()].copy_from_slice(s);
        u128::from_le_bytes(b)
    }

    fn intern_short(&mut self, key: u128, s: &[u8]) -> u32 {
        let next = self.spans.len() as u32;
        let id = *self.short.entry(key).or_insert(next);
        if id == next {
            let start = self.bytes.len() as u32;
            self.bytes.extend_from_slice(s);
            self.spans.push((start, self.bytes.len() as u32));
        }
        id
    }

    /// Interns every value of an Arrow string-view array, appending ids (0 for nulls and "").
    /// Short values are interned by their view alone; their bytes are copied only when new.
    pub fn intern_array(&mut self, arr: &polars_arrow::array::Utf8ViewArray, ids: &mut Vec<u32>) {
        use polars_arrow::array::Array;
        let views = arr.views();
        let validity = arr.validity().filter(|v| v.unset_bits() > 0);
        ids.reserve(views.len());
        // Consecutive lines often repeat a value (a claim's header on each of its lines).
        let mut last: Option<(u128, u32)> = None;
        for (i, view) in views.iter().enumerate() {
            if validity.is_some_and(|v| !v.get_bit(i)) {
                ids.push(0);
                continue;
            }
            let raw = view.as_u128();
            if let Some((k, id)) = last {
                if k == raw && view.length <= 12 {
                    ids.push(id);
                    continue;
                }
            }
            let len = view.length as usize;
            let id = if len == 0 {
                0
            } else if len <= 12 {
                let key = view.as_u128() & if len == 12 { u128::MAX } else { (1u128 << (32 + 8 * len)) - 1 };
                let next = self.spans.len() as u32;
                let id = *self.short.entry(key).or_insert(next);
                if id == next {
                    let start = self.bytes.len() as u32;
                    self.bytes.extend_from_slice(&key.to_le_bytes()[4..4 + len]);
                    self.spans.push((start, self.bytes.len() as u32));
                }
                id
            } else {
                // SAFETY: `i` is in bounds of the array's views.
                self.intern(unsafe { arr.value_unchecked(i) })
            };
            last = Some((raw, id));
            ids.push(id);
        }
    }

    pub fn intern(&mut self, s: &str) -> u32 {
        if s.is_empty() {
            return 0;
        }
        let s = s.as_bytes();
        if s.len() <= 12 {
            return self.intern_short(Self::short_key(s), s);
        }
        if self.get(self.last) == s {
            return self.last;
        }
        let Interner { table, bytes, spans, state, last, .. } = self;
        let slice = |id: u32| {
            let (a, b) = spans[id as usize];
            &bytes[a as usize..b as usize]
        };
        let hash = state.hash_one(s);
        if let Some(&id) = table.find(hash, |&id| slice(id) == s) {
            *last = id;
            return id;
        }
        let id = spans.len() as u32;
        let start = bytes.len() as u32;
        bytes.extend_from_slice(s);
        spans.push((start, bytes.len() as u32));
        let (bytes, spans) = (&*bytes, &*spans);
        table.insert_unique(hash, id, |&id| {
            let (a, b) = spans[id as usize];
            state.hash_one(&bytes[a as usize..b as usize])
        });
        *last = id;
        id
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.len() <= 1
    }

    /// The text of an id.
    pub fn text(&self, id: u32) -> &str {
        // SAFETY: only whole `&str`s and the inline bytes of UTF-8 string views go in, so every
        // span is valid UTF-8.
        unsafe { std::str::from_utf8_unchecked(self.get(id)) }
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.spans.len() as u32).map(move |id| self.text(id))
    }

    pub fn into_dict(self) -> Dict {
        Dict { bytes: self.bytes, spans: self.spans, shared: OnceLock::new() }
    }
}

/// A column's distinct values, indexed by id (id 0 is the blank value), kept as one byte arena.
/// Native code reads `&str`s; the shared strings scripts receive are made on first use.
#[derive(Debug, Default)]
pub struct Dict {
    bytes: Vec<u8>,
    spans: Vec<(u32, u32)>,
    shared: OnceLock<Vec<ImmutableString>>,
}

impl Clone for Dict {
    fn clone(&self) -> Self {
        Dict { bytes: self.bytes.clone(), spans: self.spans.clone(), shared: OnceLock::new() }
    }
}

impl Dict {
    /// A dictionary of these values, the first of which must be "".
    pub fn from_values<'a>(values: impl IntoIterator<Item = &'a str>) -> Dict {
        let mut bytes = Vec::new();
        let mut spans = Vec::new();
        for v in values {
            let start = bytes.len() as u32;
            bytes.extend_from_slice(v.as_bytes());
            spans.push((start, bytes.len() as u32));
        }
        debug_assert!(spans.first().is_some_and(|(a, b)| a == b), "id 0 is the blank value");
        Dict { bytes, spans, shared: OnceLock::new() }
    }

    /// Just the blank value.
    pub fn blank() -> Dict {
        Dict::from_values([""])
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.len() <= 1
    }

    pub fn get(&self, id: usize) -> &str {
        let (a, b) = self.spans[id];
        // SAFETY: the arena holds whole UTF-8 strings (see `Interner::text`).
        unsafe { std::str::from_utf8_unchecked(&self.bytes[a as usize..b as usize]) }
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.spans.len()).map(move |i| self.get(i))
    }

    /// The shared string of an id, as scripts see it.
    pub fn shared(&self, id: usize) -> &ImmutableString {
        &self.shared.get_or_init(|| self.iter().map(ImmutableString::from).collect())[id]
    }

    pub fn heap_bytes(&self) -> usize {
        self.bytes.len() + self.spans.len() * 8 + self.shared.get().map_or(0, |s| s.len() * 40)
    }
}

impl std::ops::Index<usize> for Dict {
    type Output = str;
    fn index(&self, id: usize) -> &str {
        self.get(id)
    }
}

/// Text interned per column: codes, NPIs and ids repeat, so a value is a `u32` and clones for
/// scripts are reference-count bumps.
#[derive(Debug, Default, Clone)]
pub struct TextColumn {
    pub(crate) ids: Vec<u32>,
    pub(crate) dict: Dict,
}

impl TextColumn {
    pub fn new(ids: Vec<u32>, dict: Dict) -> Self {
        TextColumn { ids, dict }
    }

    /// The value as scripts see it.
    pub fn get(&self, row: usize) -> &ImmutableString {
        self.dict.shared(self.ids[row] as usize)
    }

    pub fn text(&self, row: usize) -> &str {
        self.dict.get(self.ids[row] as usize)
    }

    pub fn id(&self, row: usize) -> u32 {
        self.ids[row]
    }

    /// The distinct values, indexed by id; id 0 is the blank value.
    pub fn dict(&self) -> &Dict {
        &self.dict
    }

    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Dates as day numbers (since 1970-01-01) for native code, with the ISO text scripts see made
/// once per distinct day, on first use.
#[derive(Debug, Default, Clone)]
pub struct DateColumn {
    pub(crate) days: Vec<i32>,
    /// Distinct days, sorted, with their "YYYY-MM-DD" text.
    text: OnceLock<Vec<(i32, ImmutableString)>>,
}

impl DateColumn {
    pub fn new(days: Vec<i32>) -> Self {
        DateColumn { days, text: OnceLock::new() }
    }

    fn distinct_text(&self) -> &[(i32, ImmutableString)] {
        self.text.get_or_init(|| {
            let present = || self.days.iter().copied().filter(|&d| d != NO_DAY);
            let (lo, hi) = (present().min().unwrap_or(0), present().max().unwrap_or(-1));
            let span = (i64::from(hi) - i64::from(lo) + 1).max(0) as usize;
            // Dates span a few years: mark them in a bitmap rather than sorting every row.
            let distinct: Vec<i32> = if span <= 1 << 22 {
                let mut seen = vec![false; span];
                present().for_each(|d| seen[(d - lo) as usize] = true);
                seen.iter().enumerate().filter(|(_, &x)| x).map(|(i, _)| lo + i as i32).collect()
            } else {
                let mut v: Vec<i32> = present().collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            distinct.into_iter().map(|d| (d, crate::dates::from_days(d).format("%Y-%m-%d").to_string().into())).collect()
        })
    }

    pub fn day(&self, row: usize) -> Option<i32> {
        let d = self.days[row];
        (d != NO_DAY).then_some(d)
    }

    pub fn days(&self) -> &[i32] {
        &self.days
    }

    /// "YYYY-MM-DD", or "" when missing.
    pub fn text(&self, row: usize) -> &ImmutableString {
        static BLANK: std::sync::LazyLock<ImmutableString> = std::sync::LazyLock::new(ImmutableString::new);
        let d = self.days[row];
        if d == NO_DAY {
            return &BLANK;
        }
        let text = self.distinct_text();
        match text.binary_search_by_key(&d, |(day, _)| *day) {
            Ok(i) => &text[i].1,
            Err(_) => &BLANK,
        }
    }
}

#[derive(Debug, Clone)]
pub enum ColumnData {
    /// No input had the column, or every value was blank.
    Null,
    Text(TextColumn),
    Date(DateColumn),
    /// `NO_NUMBER` (NaN) when missing.
    Number(Vec<f64>),
    /// `NO_INTEGER` when missing.
    Integer(Vec<i64>),
}
