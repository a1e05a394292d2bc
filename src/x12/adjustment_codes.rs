//! The formats of the X12 claim adjustment reason codes (CARC) and remittance advice remark codes
//! (RARC): what a rule's denial metadata and an 835's CAS and LQ segments may contain.

/// A CARC as X12 writes them: 1 to 3 digits, or a letter and digits (A1, B15, P12).
pub fn valid_carc(code: &str) -> bool {
    let b = code.as_bytes();
    match b {
        [] => false,
        [first, rest @ ..] if first.is_ascii_uppercase() => !rest.is_empty() && rest.len() <= 3 && rest.iter().all(u8::is_ascii_digit),
        _ => b.len() <= 3 && b.iter().all(u8::is_ascii_digit),
    }
}

/// A RARC as CMS writes them: M, MA or N followed by digits (M15, MA130, N362).
pub fn valid_rarc(code: &str) -> bool {
    let digits = code.strip_prefix("MA").or_else(|| code.strip_prefix('M')).or_else(|| code.strip_prefix('N'));
    digits.is_some_and(|d| (1..=4).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()))
}
