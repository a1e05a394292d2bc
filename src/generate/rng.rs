//! A small, hand-written PRNG (xoshiro256** seeded through splitmix64). No `rand` crate: its
//! features would be unified with Polars' and force a full rebuild. Every encounter gets its own
//! generator seeded from (seed, encounter index), so output does not depend on thread count.

/// One step of splitmix64: a good 64-bit mixer for seeding and hashing small integers.
pub fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hash of a seed and a few integers: stable attributes of patients and providers.
pub fn hash(seed: u64, parts: &[u64]) -> u64 {
    let mut s = seed;
    let mut h = splitmix64(&mut s);
    for &p in parts {
        s ^= p.wrapping_mul(0xD6E8_FEB8_6659_FD93).rotate_left(17) ^ h;
        h = splitmix64(&mut s);
    }
    h
}

#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    pub fn new(seed: u64) -> Rng {
        let mut sm = seed;
        let s = [splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm), splitmix64(&mut sm)];
        Rng { s }
    }

    /// xoshiro256**.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in 0..n (n > 0), by multiply-shift (Lemire) without the rejection step: the bias is
    /// below 2^-32 for the small n used here.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in lo..=hi.
    pub fn range(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below((hi - lo + 1) as u64) as u32
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    /// `pick` for values that are `Copy` (codes as `&'static str`), drawing the same number.
    pub fn pick_copy<T: Copy>(&mut self, xs: &[T]) -> T {
        *self.pick(xs)
    }

    /// An index drawn with the given (relative) weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| w as u64).sum();
        let mut x = self.below(total.max(1));
        for (i, &w) in weights.iter().enumerate() {
            if x < w as u64 {
                return i;
            }
            x -= w as u64;
        }
        weights.len() - 1
    }

    /// A value from (value, weight) pairs.
    pub fn pick_weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| *w as u64).sum();
        let mut x = self.below(total.max(1));
        for (v, w) in items {
            if x < *w as u64 {
                return *v;
            }
            x -= *w as u64;
        }
        items[items.len() - 1].0
    }
}
