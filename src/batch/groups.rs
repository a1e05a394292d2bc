//! Record groups for the claim, patient-day and provider scopes, built natively from interned
//! ids: groups are numbered in first-seen order and keep their rows in input order.

use std::hash::Hash;

use hashbrown::HashMap;

/// Rows grouped into records, stored flat: record `i` is `rows[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Default, Clone)]
pub struct Groups {
    offsets: Vec<u32>,
    rows: Vec<u32>,
    /// The record each row belongs to.
    of_row: Vec<u32>,
}

impl Groups {
    /// Groups rows by a dense key id (`key_of_row[row] < key_count`), first-seen order.
    pub fn by_dense_key(key_of_row: &[u32], key_count: usize) -> Groups {
        const UNSEEN: u32 = u32::MAX;
        let mut group_of_key = vec![UNSEEN; key_count];
        let mut of_row = Vec::with_capacity(key_of_row.len());
        let mut next = 0u32;
        for &k in key_of_row {
            let g = &mut group_of_key[k as usize];
            if *g == UNSEEN {
                *g = next;
                next += 1;
            }
            of_row.push(*g);
        }
        Groups::from_assignment(of_row, next as usize)
    }

    /// Groups rows by any hashable key, first-seen order.
    pub fn by_key<K: Hash + Eq>(keys: impl Iterator<Item = K>, len: usize) -> Groups {
        let mut ids: HashMap<K, u32> = HashMap::with_capacity(len);
        let mut of_row = Vec::with_capacity(len);
        for k in keys {
            let next = ids.len() as u32;
            of_row.push(*ids.entry(k).or_insert(next));
        }
        let n = ids.len();
        Groups::from_assignment(of_row, n)
    }

    /// Counting sort of rows by their record number; rows stay in input order within a record.
    fn from_assignment(of_row: Vec<u32>, groups: usize) -> Groups {
        let mut offsets = vec![0u32; groups + 1];
        for &g in &of_row {
            offsets[g as usize + 1] += 1;
        }
        for i in 0..groups {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut rows = vec![0u32; of_row.len()];
        for (row, &g) in of_row.iter().enumerate() {
            let at = &mut fill[g as usize];
            rows[*at as usize] = row as u32;
            *at += 1;
        }
        Groups { offsets, rows, of_row }
    }

    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows of record `i`, in input order.
    pub fn get(&self, i: usize) -> &[u32] {
        &self.rows[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u32]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    pub fn heap_bytes(&self) -> usize {
        (self.offsets.len() + self.rows.len() + self.of_row.len()) * 4
    }

    /// The record a row belongs to.
    pub fn of_row(&self, row: usize) -> usize {
        self.of_row[row] as usize
    }
}
