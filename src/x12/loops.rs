//! The 837 loop structure (5010 837P and 837I guides): which segments each loop holds, in order,
//! and which child loops it can open. The mapper walks these tables to know which loop a segment
//! belongs to, whether it is out of order, and whether a loop that may occur once is repeated.

/// What a loop means to the mapper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    Header,
    BillingHl,
    Billing,
    SubscriberHl,
    Subscriber,
    Payer,
    PatientHl,
    Patient,
    Claim,
    ClaimRendering,
    ClaimAttending,
    ClaimOperating,
    Line,
    LineRendering,
    /// A loop whose content claimlint does not map (pay-to, other payers, drug detail, ...).
    Other,
    /// An NM1 whose entity code is not allowed where it appears.
    Unknown,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Item {
    Seg(&'static str),
    /// A loop opened by NM1 with one of `codes` in NM101.
    Nm1 {
        codes: &'static [&'static str],
        max: u16,
        name: &'static str,
        role: Role,
    },
    /// A loop opened by segment `start`.
    Loop {
        start: &'static str,
        max: u16,
        name: &'static str,
        role: Role,
        schema: &'static [Item],
    },
}

impl Item {
    /// Name used in messages: the segment id or the loop name.
    pub fn label(&self) -> String {
        match self {
            Item::Seg(s) => (*s).to_string(),
            Item::Nm1 { name, codes, .. } => format!("loop {name} (NM1*{})", codes.first().copied().unwrap_or("")),
            Item::Loop { name, start, .. } => format!("loop {name} ({start})"),
        }
    }

    /// Whether segment `id` is this item or opens it.
    pub fn opened_by(&self, id: &str) -> bool {
        match self {
            Item::Seg(s) => *s == id,
            Item::Nm1 { .. } => id == "NM1",
            Item::Loop { start, .. } => *start == id,
        }
    }

    pub fn matches(&self, id: &str, nm101: &str) -> bool {
        match self {
            Item::Seg(s) => *s == id,
            Item::Nm1 { codes, .. } => id == "NM1" && codes.contains(&nm101),
            Item::Loop { start, .. } => *start == id,
        }
    }
}

use Item::*;
use Role::*;

/// Every NM1 loop in the 837 fits this order (2010AA: NM1 N3 N4 REF PER; 2420A: NM1 PRV REF;
/// 2330B: NM1 N3 N4 DTP REF; 2010BA: NM1 N3 N4 DMG REF PER).
pub(crate) const NM1_LOOP: &[Item] = &[Seg("NM1"), Seg("PRV"), Seg("N3"), Seg("N4"), Seg("DTP"), Seg("DMG"), Seg("REF"), Seg("PER")];

/// Schema of the loop opened by an HL whose level code is unknown: anything inside is unexpected.
pub(crate) const UNKNOWN_HL: &[Item] = &[Seg("HL")];

pub(crate) const HEADER: &[Item] =
    &[Seg("ST"), Seg("BHT"), Nm1 { codes: &["41"], max: 1, name: "1000A", role: Other }, Nm1 { codes: &["40"], max: 1, name: "1000B", role: Other }];

pub(crate) const L2000A: &[Item] = &[
    Seg("HL"),
    Seg("PRV"),
    Seg("CUR"),
    Nm1 { codes: &["85"], max: 1, name: "2010AA", role: Billing },
    Nm1 { codes: &["87"], max: 1, name: "2010AB", role: Other },
    Nm1 { codes: &["PE"], max: 1, name: "2010AC", role: Other },
];

const L2410: &[Item] = &[Seg("LIN"), Seg("CTP"), Seg("REF")];
const L2430: &[Item] = &[Seg("SVD"), Seg("CAS"), Seg("DTP"), Seg("AMT")];
const L2440: &[Item] = &[Seg("LQ"), Seg("FRM")];

const L2400P: &[Item] = &[
    Seg("LX"),
    Seg("SV1"),
    Seg("SV5"),
    Seg("PWK"),
    Seg("CR1"),
    Seg("CR3"),
    Seg("CRC"),
    Seg("DTP"),
    Seg("QTY"),
    Seg("MEA"),
    Seg("CN1"),
    Seg("REF"),
    Seg("AMT"),
    Seg("K3"),
    Seg("NTE"),
    Seg("PS1"),
    Seg("HCP"),
    Loop { start: "LIN", max: 1, name: "2410", role: Other, schema: L2410 },
    Nm1 { codes: &["82"], max: 1, name: "2420A", role: LineRendering },
    Nm1 { codes: &["QB"], max: 1, name: "2420B", role: Other },
    Nm1 { codes: &["77"], max: 1, name: "2420C", role: Other },
    Nm1 { codes: &["DQ"], max: 1, name: "2420D", role: Other },
    Nm1 { codes: &["DK"], max: 1, name: "2420E", role: Other },
    Nm1 { codes: &["DN", "P3"], max: 2, name: "2420F", role: Other },
    Nm1 { codes: &["PW"], max: 1, name: "2420G", role: Other },
    Nm1 { codes: &["45"], max: 1, name: "2420H", role: Other },
    Loop { start: "SVD", max: 15, name: "2430", role: Other, schema: L2430 },
    Loop { start: "LQ", max: 10, name: "2440", role: Other, schema: L2440 },
];

const L2400I: &[Item] = &[
    Seg("LX"),
    Seg("SV2"),
    Seg("PWK"),
    Seg("DTP"),
    Seg("REF"),
    Seg("AMT"),
    Seg("NTE"),
    Seg("HCP"),
    Loop { start: "LIN", max: 1, name: "2410", role: Other, schema: L2410 },
    Nm1 { codes: &["72"], max: 1, name: "2420A", role: Other },
    Nm1 { codes: &["ZZ"], max: 1, name: "2420B", role: Other },
    Nm1 { codes: &["82"], max: 1, name: "2420C", role: LineRendering },
    Nm1 { codes: &["DN"], max: 1, name: "2420D", role: Other },
    Loop { start: "SVD", max: 25, name: "2430", role: Other, schema: L2430 },
];

const L2320P: &[Item] = &[
    Seg("SBR"),
    Seg("CAS"),
    Seg("AMT"),
    Seg("OI"),
    Seg("MOA"),
    Nm1 { codes: &["IL"], max: 1, name: "2330A", role: Other },
    Nm1 { codes: &["PR"], max: 1, name: "2330B", role: Other },
    Nm1 { codes: &["DN", "P3"], max: 2, name: "2330C", role: Other },
    Nm1 { codes: &["82"], max: 1, name: "2330D", role: Other },
    Nm1 { codes: &["77"], max: 1, name: "2330E", role: Other },
    Nm1 { codes: &["DQ"], max: 1, name: "2330F", role: Other },
    Nm1 { codes: &["85"], max: 1, name: "2330G", role: Other },
];

const L2320I: &[Item] = &[
    Seg("SBR"),
    Seg("CAS"),
    Seg("AMT"),
    Seg("OI"),
    Seg("MIA"),
    Seg("MOA"),
    Nm1 { codes: &["IL"], max: 1, name: "2330A", role: Other },
    Nm1 { codes: &["PR"], max: 1, name: "2330B", role: Other },
    Nm1 { codes: &["71"], max: 1, name: "2330C", role: Other },
    Nm1 { codes: &["72"], max: 1, name: "2330D", role: Other },
    Nm1 { codes: &["ZZ"], max: 1, name: "2330E", role: Other },
    Nm1 { codes: &["77"], max: 1, name: "2330F", role: Other },
    Nm1 { codes: &["82"], max: 1, name: "2330G", role: Other },
    Nm1 { codes: &["DN"], max: 1, name: "2330H", role: Other },
    Nm1 { codes: &["85"], max: 1, name: "2330I", role: Other },
];

const L2300P: &[Item] = &[
    Seg("CLM"),
    Seg("DTP"),
    Seg("PWK"),
    Seg("CN1"),
    Seg("AMT"),
    Seg("REF"),
    Seg("K3"),
    Seg("NTE"),
    Seg("CR1"),
    Seg("CR2"),
    Seg("CRC"),
    Seg("HI"),
    Seg("HCP"),
    Nm1 { codes: &["DN", "P3"], max: 2, name: "2310A", role: Other },
    Nm1 { codes: &["82"], max: 1, name: "2310B", role: ClaimRendering },
    Nm1 { codes: &["77"], max: 1, name: "2310C", role: Other },
    Nm1 { codes: &["DQ"], max: 1, name: "2310D", role: Other },
    Nm1 { codes: &["PW"], max: 1, name: "2310E", role: Other },
    Nm1 { codes: &["45"], max: 1, name: "2310F", role: Other },
    Loop { start: "SBR", max: 10, name: "2320", role: Other, schema: L2320P },
    Loop { start: "LX", max: 50, name: "2400", role: Line, schema: L2400P },
];

const L2300I: &[Item] = &[
    Seg("CLM"),
    Seg("DTP"),
    Seg("CL1"),
    Seg("PWK"),
    Seg("CN1"),
    Seg("AMT"),
    Seg("REF"),
    Seg("K3"),
    Seg("NTE"),
    Seg("CRC"),
    Seg("HI"),
    Seg("HCP"),
    Nm1 { codes: &["71"], max: 1, name: "2310A", role: ClaimAttending },
    Nm1 { codes: &["72"], max: 1, name: "2310B", role: ClaimOperating },
    Nm1 { codes: &["ZZ"], max: 1, name: "2310C", role: Other },
    Nm1 { codes: &["82"], max: 1, name: "2310D", role: ClaimRendering },
    Nm1 { codes: &["77"], max: 1, name: "2310E", role: Other },
    Nm1 { codes: &["DN"], max: 1, name: "2310F", role: Other },
    Loop { start: "SBR", max: 10, name: "2320", role: Other, schema: L2320I },
    Loop { start: "LX", max: 999, name: "2400", role: Line, schema: L2400I },
];

/// The subscriber and patient loops differ between 837P and 837I only through their claim loop.
pub(crate) struct Tables {
    pub l2000b: &'static [Item],
    pub l2000c: &'static [Item],
}

const L2000B_P: &[Item] = &[
    Seg("HL"),
    Seg("SBR"),
    Seg("PAT"),
    Nm1 { codes: &["IL"], max: 1, name: "2010BA", role: Subscriber },
    Nm1 { codes: &["PR"], max: 1, name: "2010BB", role: Payer },
    Loop { start: "CLM", max: 100, name: "2300", role: Claim, schema: L2300P },
];
const L2000C_P: &[Item] = &[
    Seg("HL"),
    Seg("PAT"),
    Nm1 { codes: &["QC"], max: 1, name: "2010CA", role: Patient },
    Loop { start: "CLM", max: 100, name: "2300", role: Claim, schema: L2300P },
];
const L2000B_I: &[Item] = &[
    Seg("HL"),
    Seg("SBR"),
    Seg("PAT"),
    Nm1 { codes: &["IL"], max: 1, name: "2010BA", role: Subscriber },
    Nm1 { codes: &["PR"], max: 1, name: "2010BB", role: Payer },
    Loop { start: "CLM", max: 100, name: "2300", role: Claim, schema: L2300I },
];
const L2000C_I: &[Item] = &[
    Seg("HL"),
    Seg("PAT"),
    Nm1 { codes: &["QC"], max: 1, name: "2010CA", role: Patient },
    Loop { start: "CLM", max: 100, name: "2300", role: Claim, schema: L2300I },
];

pub(crate) const PROFESSIONAL: Tables = Tables { l2000b: L2000B_P, l2000c: L2000C_P };
pub(crate) const INSTITUTIONAL: Tables = Tables { l2000b: L2000B_I, l2000c: L2000C_I };

/// The claim loop of each claim type, used when a CLM turns up where the guide allows none.
pub(crate) fn claim_schema(institutional: bool) -> &'static [Item] {
    if institutional {
        L2300I
    } else {
        L2300P
    }
}

/// Every segment of an 837 and the most data elements it may carry (the X12 5010 segment
/// definitions; SV1 as the 837P guide uses it, SV113..SV121 being unused there).
const SEGMENTS: &[(&str, usize)] = &[
    ("ISA", 16),
    ("GS", 8),
    ("ST", 3),
    ("SE", 2),
    ("GE", 2),
    ("IEA", 2),
    ("BHT", 6),
    ("NM1", 12),
    ("N2", 2),
    ("N3", 2),
    ("N4", 7),
    ("REF", 4),
    ("PER", 9),
    ("HL", 4),
    ("PRV", 6),
    ("CUR", 21),
    ("SBR", 9),
    ("PAT", 8),
    ("DMG", 11),
    ("CLM", 20),
    ("DTP", 3),
    ("CL1", 4),
    ("PWK", 9),
    ("CN1", 6),
    ("AMT", 3),
    ("K3", 3),
    ("NTE", 2),
    ("CR1", 10),
    ("CR2", 12),
    ("CR3", 5),
    ("CRC", 7),
    ("HI", 12),
    ("HCP", 15),
    ("LX", 1),
    ("SV1", 12),
    ("SV2", 10),
    ("SV5", 7),
    ("QTY", 4),
    ("MEA", 12),
    ("PS1", 3),
    ("LIN", 31),
    ("CTP", 11),
    ("SVD", 7),
    ("CAS", 19),
    ("LQ", 2),
    ("FRM", 5),
    ("OI", 6),
    ("MOA", 9),
    ("MIA", 24),
];

/// The most data elements segment `id` may carry; `None`: not a segment of an 837.
pub(crate) fn max_elements(id: &str) -> Option<usize> {
    SEGMENTS.iter().find(|(s, _)| *s == id).map(|(_, max)| *max)
}

/// 837 segment identifiers one edit (a changed, missing or extra byte) away from `id`.
pub(crate) fn lookalikes(id: &[u8]) -> Vec<&'static str> {
    SEGMENTS.iter().map(|(s, _)| *s).filter(|s| one_edit_apart(id, s.as_bytes())).collect()
}

pub(crate) fn one_edit_apart(a: &[u8], b: &[u8]) -> bool {
    match a.len() as isize - b.len() as isize {
        0 => a.iter().zip(b).filter(|(x, y)| x != y).count() <= 1,
        1 | -1 => {
            let (long, short) = if a.len() > b.len() { (a, b) } else { (b, a) };
            (0..long.len()).any(|skip| long.iter().enumerate().filter(|(i, _)| *i != skip).map(|(_, c)| c).eq(short.iter()))
        }
        _ => false,
    }
}

/// One open loop on the mapper's stack.
#[derive(Debug)]
pub(crate) struct Frame {
    pub name: &'static str,
    pub role: Role,
    pub schema: &'static [Item],
    /// Index in `schema` of the last segment or child loop seen; order may not go back.
    pub last: usize,
    /// How often each child loop (by schema index) was opened.
    pub counts: Vec<(usize, u16)>,
}

impl Frame {
    pub fn new(name: &'static str, role: Role, schema: &'static [Item]) -> Self {
        Frame { name, role, schema, last: 0, counts: Vec::new() }
    }

    /// Counts one more occurrence of the child loop at `index`; returns the new count.
    pub fn bump(&mut self, index: usize) -> u16 {
        if let Some(c) = self.counts.iter_mut().find(|c| c.0 == index) {
            c.1 = c.1.saturating_add(1);
            c.1
        } else {
            self.counts.push((index, 1));
            1
        }
    }
}
