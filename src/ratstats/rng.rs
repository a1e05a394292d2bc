//! The RAT-STATS random number generator: Wichmann-Hill (AS 183), seeded through Visual
//! Basic's `Rnd`/`Randomize`, reproduced bit for bit (TechDetails - SimpleRandomSample_02js).
//!
//! Seeding: RAT-STATS calls `Rnd(-1)` (which resets VB's 24-bit generator to a fixed state,
//! 3758214 after its one step), then `Randomize seed`, then draws the three Wichmann-Hill seeds
//! with `Int(m * Rnd) + 1`, redrawing while the result is `>= m` for m = 30269, 30307, 30323.
//! Every step is integer arithmetic here, so the result cannot drift with floating point.

/// VB's linear congruential generator: `s' = (s * 0x43FD43FD + 0xC39EC3) mod 2^24`.
const VB_MULTIPLIER: u64 = 1_140_671_485;
const VB_INCREMENT: u64 = 12_820_163;
const VB_MASK: u64 = 0xFF_FFFF;

/// Visual Basic's `Rnd`/`Randomize` generator (24-bit state).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VbRnd {
    state: u32,
}

impl Default for VbRnd {
    fn default() -> Self {
        Self::new()
    }
}

impl VbRnd {
    /// The state VB starts with (0x50000) before any `Randomize`.
    pub fn new() -> Self {
        VbRnd { state: 0x50000 }
    }

    /// The current 24-bit state.
    pub fn state(&self) -> u32 {
        self.state
    }

    /// One step of the generator; returns the new state.
    pub fn step(&mut self) -> u32 {
        self.state = ((self.state as u64 * VB_MULTIPLIER + VB_INCREMENT) & VB_MASK) as u32;
        self.state
    }

    /// `Rnd()` (no argument or a positive one): step, then return `state / 2^24`. The value is a
    /// VB `Single`; it is exact in `f64` because the state has 24 bits.
    pub fn rnd(&mut self) -> f64 {
        self.step() as f64 / 16_777_216.0
    }

    /// `Rnd(x)` with `x < 0`: the state becomes the `Single` bit pattern of `x` folded to 24 bits
    /// (`(bits + (bits >> 24)) mod 2^24`), then one step. `Rnd(-1)` always leaves 3758214.
    pub fn rnd_negative(&mut self, x: f32) -> f64 {
        let bits = x.to_bits();
        self.state = bits.wrapping_add(bits >> 24) & VB_MASK as u32;
        self.rnd()
    }

    /// `Randomize seed` with a `Double`: XOR the two 16-bit halves of the double's high 32 bits,
    /// shift left 8 and keep the low byte of the current state. (For negative seeds VB's
    /// arithmetic shift sets bits above 24, which the next step's `mod 2^24` discards, so the
    /// 24-bit result below is identical.)
    pub fn randomize(&mut self, seed: f64) {
        let high = (seed.to_bits() >> 32) as u32;
        let mixed = ((high >> 16) ^ (high & 0xFFFF)) << 8;
        self.state = (mixed | (self.state & 0xFF)) & VB_MASK as u32;
    }

    /// `Int(modulus * Rnd) + 1`, redrawn while `>= modulus` (spec steps 7-15).
    fn draw_seed(&mut self, modulus: u32) -> u32 {
        loop {
            let s = self.step() as u64;
            // floor(s / 2^24 * m) + 1, computed exactly.
            let v = ((s * modulus as u64) >> 24) as u32 + 1;
            if v < modulus {
                return v;
            }
        }
    }
}

/// The three moduli of the Wichmann-Hill generator.
pub const WH_MODULI: [u32; 3] = [30269, 30307, 30323];

/// The Wichmann-Hill generator as RAT-STATS runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WichmannHill {
    a: i64,
    b: i64,
    c: i64,
}

impl WichmannHill {
    /// Seeds exactly as RAT-STATS does from the user's seed (e.g. 48863.78).
    pub fn from_seed(seed: f64) -> Self {
        let mut vb = VbRnd::new();
        vb.rnd_negative(-1.0);
        vb.randomize(seed);
        let a = vb.draw_seed(WH_MODULI[0]);
        let b = vb.draw_seed(WH_MODULI[1]);
        let c = vb.draw_seed(WH_MODULI[2]);
        Self::from_state(a, b, c)
    }

    /// A generator with explicit seeds (Result A, B, C of the spec).
    pub fn from_state(a: u32, b: u32, c: u32) -> Self {
        WichmannHill { a: a as i64, b: b as i64, c: c as i64 }
    }

    /// The three current seeds.
    pub fn state(&self) -> (u32, u32, u32) {
        (self.a as u32, self.b as u32, self.c as u32)
    }

    /// Advances the three component generators (Schrage's form, as in the spec's pseudo code)
    /// and returns the uniform fraction in [0, 1).
    pub fn next_fraction(&mut self) -> f64 {
        let t1 = self.a / 177;
        self.a = 171 * (self.a - 177 * t1) - 2 * t1;
        if self.a <= 0 {
            self.a += 30269;
        }
        let t1 = self.b / 176;
        self.b = 172 * (self.b - 176 * t1) - 35 * t1;
        if self.b <= 0 {
            self.b += 30307;
        }
        let t1 = self.c / 178;
        self.c = 170 * (self.c - 178 * t1) - 63 * t1;
        if self.c <= 0 {
            self.c += 30323;
        }
        // Same operation order as the spec, so the double rounding matches.
        let t4 = self.a as f64 / 30269.0 + self.b as f64 / 30307.0 + self.c as f64 / 30323.0;
        t4 - t4.floor()
    }

    /// `floor(fraction * universe) + low`: one (possibly repeated) number from low..=high.
    pub fn next_in_frame(&mut self, low: i64, universe: u64) -> i64 {
        let f = self.next_fraction();
        // f < 1, so the offset is below `universe`; the `min` only guards rounding in huge frames.
        ((f * universe as f64).floor() as u64).min(universe.saturating_sub(1)) as i64 + low
    }
}
