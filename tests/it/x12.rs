//! X12 837P/837I reader: inline interchanges (always run) and every file under
//! ../shared/data/x12 (ignored by default). The expected values below were read off the files by
//! hand: claim ids, CLM02, each SV102/SV203, and the segment numbers of the defects.

use std::collections::BTreeSet;

use claimlint::x12::{looks_like_x12, parse_837, ClaimLine, ProblemKind, Severity, X12Batch, X12Error};

// ---------------------------------------------------------------- helpers

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn shared(rel: &str) -> Vec<u8> {
    read(&crate::common::shared_data(&format!("x12/{rel}")))
}

fn parse_ok(bytes: &[u8], name: &str) -> X12Batch {
    parse_837(bytes, name).unwrap_or_else(|e| panic!("{name} should parse: {e}"))
}

fn parse_err(bytes: &[u8], name: &str) -> X12Error {
    match parse_837(bytes, name) {
        Ok(b) => panic!("{name} should be refused, got {} claims", b.claims.len()),
        Err(e) => e,
    }
}

fn dump(b: &X12Batch) -> String {
    b.problems.iter().map(|p| format!("  {p}\n")).collect()
}

/// Asserts the claims in order: (id, CLM02, each line charge). Lines must follow claim by claim.
fn assert_claims(b: &X12Batch, expected: &[(&str, f64, &[f64])]) {
    let got: Vec<&str> = b.claims.iter().map(|c| c.claim_id.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|e| e.0).collect();
    assert_eq!(got, want, "claim ids\n{}", dump(b));
    let mut at = 0;
    for (c, (id, total, charges)) in b.claims.iter().zip(expected) {
        assert!(close(c.total_charge, *total), "{id}: CLM02 {} != {total}", c.total_charge);
        assert_eq!(c.line_count, charges.len(), "{id}: line count");
        let sum: f64 = charges.iter().sum();
        assert!(close(c.line_charge_sum, sum), "{id}: line sum {} != {sum}", c.line_charge_sum);
        let lines = b.lines.get(at..at + charges.len()).unwrap_or_else(|| panic!("{id}: too few lines"));
        for (l, want) in lines.iter().zip(*charges) {
            assert_eq!(l.claim_id, *id);
            assert!(close(l.charge_amount, *want), "{id} line {}: charge {} != {want}", l.line_number, l.charge_amount);
            assert!(close(l.claim_total_charge, *total));
        }
        at += charges.len();
    }
    assert_eq!(at, b.lines.len(), "lines beyond the expected claims");
}

/// A well-formed claim: CLM02 equals the sum of its line charges.
fn assert_balanced(b: &X12Batch) {
    for c in &b.claims {
        assert!(close(c.total_charge, c.line_charge_sum), "{}: CLM02 {} != lines {}", c.claim_id, c.total_charge, c.line_charge_sum);
    }
}

/// The exact rejected claims: (claim id, segment number, part of the message).
fn assert_errors(b: &X12Batch, expected: &[(&str, usize, &str)]) {
    let errors: Vec<_> = b.errors().collect();
    assert_eq!(errors.len(), expected.len(), "errors:\n{}", dump(b));
    for (p, (id, seg, needle)) in errors.iter().zip(expected) {
        assert_eq!(p.claim_id.as_deref(), Some(*id), "{p}");
        assert_eq!(p.segment_number, *seg, "{p}");
        assert!(p.message.contains(needle), "{p} should mention {needle:?}");
    }
}

fn assert_warning(b: &X12Batch, claim: Option<&str>, seg: usize, needle: &str) {
    assert!(
        b.warnings().any(|p| p.claim_id.as_deref() == claim && p.segment_number == seg && p.message.contains(needle)),
        "no warning at segment {seg} for {claim:?} mentioning {needle:?}; problems:\n{}",
        dump(b)
    );
}

fn lines_of<'a>(b: &'a X12Batch, id: &str) -> Vec<&'a ClaimLine> {
    b.lines.iter().filter(|l| l.claim_id == id).collect()
}

fn npi_luhn_ok(npi: &str) -> bool {
    if npi.len() != 10 || !npi.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: Vec<u32> = format!("80840{npi}").bytes().map(|b| u32::from(b - b'0')).collect();
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 {
                    d * 2 - 9
                } else {
                    d * 2
                }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Builds an interchange from segments written with `*`, `:` and `^`, translated to the given
/// delimiters; ST..SE counts and control numbers are filled in.
struct Env {
    element: char,
    component: char,
    repetition: char,
    terminator: &'static str,
}

const STD: Env = Env { element: '*', component: ':', repetition: '^', terminator: "~\n" };

impl Env {
    fn isa(&self, control: u32) -> String {
        let e = self.element;
        format!(
            "ISA{e}00{e}{:10}{e}00{e}{:10}{e}ZZ{e}{:15}{e}ZZ{e}{:15}{e}250310{e}1402{e}{}{e}00501{e}{control:09}{e}0{e}P{e}{}",
            "", "", "SENDERID", "RECEIVERID", self.repetition, self.component
        )
    }

    fn seg(&self, s: &str) -> String {
        let t: String = s
            .chars()
            .map(|c| match c {
                '*' => self.element,
                ':' => self.component,
                c => c,
            })
            .collect();
        format!("{t}{}", self.terminator)
    }

    /// One interchange holding one group per `(version, body)`; each body is one ST..SE.
    fn interchange(&self, control: u32, groups: &[(&str, Vec<String>)]) -> String {
        let mut out = format!("{}{}", self.isa(control), self.terminator);
        for (g, (version, body)) in groups.iter().enumerate() {
            out += &self.seg(&format!("GS*HC*SENDERID*RECEIVERID*20250310*1402*{}*X*{version}", g + 1));
            out += &self.seg(&format!("ST*837*{:04}*{version}", g + 1));
            for s in body {
                out += &self.seg(s);
            }
            out += &self.seg(&format!("SE*{}*{:04}", body.len() + 2, g + 1));
            out += &self.seg(&format!("GE*1*{}", g + 1));
        }
        out += &self.seg(&format!("IEA*{}*{control:09}", groups.len()));
        out
    }
}

const P5010: &str = "005010X222A2";
const I5010: &str = "005010X223A3";

/// One service line: (SV101, SV102, SV107).
type Service<'a> = (&'a str, &'a str, &'a str);
/// One claim: (CLM01, its lines).
type ClaimSpec<'a> = (&'a str, &'a [Service<'a>]);

/// Header, billing provider (HL 1) and one subscriber-patient per claim.
fn professional(claims: &[ClaimSpec]) -> Vec<String> {
    let mut s: Vec<String> = [
        "BHT*0019*00*B1*20250310*1402*CH",
        "NM1*41*2*TEST BILLING*****46*SUB1",
        "PER*IC*OFFICE*TE*6085550100",
        "NM1*40*2*TEST PAYER*****46*RCV1",
        "HL*1**20*1",
        "PRV*BI*PXC*207Q00000X",
        "NM1*85*2*TEST CLINIC*****XX*1647382914",
        "N3*1 MAIN ST",
        "N4*MILLBROOK*WI*53555",
        "REF*EI*391234567",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, (id, lines)) in claims.iter().enumerate() {
        let total: f64 = lines.iter().map(|l| l.1.parse::<f64>().unwrap_or(0.0)).sum();
        s.push(format!("HL*{}*1*22*0", i + 2));
        s.push("SBR*P*18*GRP1******CI".into());
        s.push(format!("NM1*IL*1*DOE{i}*ALEX****MI*MEM{i}"));
        s.push("DMG*D8*19700102*F".into());
        s.push("NM1*PR*2*TEST PAYER*****PI*PAYER1".into());
        s.push(format!("CLM*{id}*{total:.2}***11:B:1*Y*A*Y*Y"));
        s.push("HI*ABK:E119*ABF:I10".into());
        for (n, (code, charge, ptr)) in lines.iter().enumerate() {
            s.push(format!("LX*{}", n + 1));
            s.push(format!("SV1*HC:{code}*{charge}*UN*1***{ptr}"));
            s.push("DTP*472*D8*20250303".into());
        }
    }
    s
}

// ---------------------------------------------------------------- the sample file

fn sample_bytes() -> Vec<u8> {
    read(&crate::common::repo_root().join("samples/claims_837p.txt"))
}

#[test]
fn sample_837p_is_valid_and_maps_every_column() {
    let b = parse_ok(&sample_bytes(), "claims_837p.txt");
    assert_eq!(b.version, "005010X222A2");
    assert!(b.problems.is_empty(), "the sample must be clean:\n{}", dump(&b));
    assert_claims(
        &b,
        &[
            ("LFM24001", 260.00, &[165.00, 15.00, 48.00, 32.00]),
            ("LFM24002", 165.00, &[110.00, 55.00]),
            ("LFM24003", 1200.00, &[780.00, 420.00]),
            ("LFM24004", 257.00, &[165.00, 35.00, 25.00, 32.00]),
        ],
    );
    assert_balanced(&b);
    for l in &b.lines {
        assert_eq!(l.claim_type, "professional");
        assert_eq!(l.payer_id, "ACME01");
        assert_eq!(l.billing_npi, "1647382914");
        assert!(npi_luhn_ok(&l.billing_npi) && npi_luhn_ok(&l.rendering_npi), "{l:?}");
        assert_eq!(l.place_of_service, "11");
        assert_eq!(l.paid_amount, "");
        assert_eq!(l.type_of_bill, "");
    }
    let procs: Vec<&str> = b.lines.iter().map(|l| l.procedure_code.as_str()).collect();
    assert_eq!(procs, ["99214", "36415", "80053", "85025", "99213", "93000", "17311", "17312", "99214", "96372", "J1100", "85025"]);

    let c1 = lines_of(&b, "LFM24001");
    assert_eq!((c1[0].patient_id.as_str(), c1[0].patient_birth_date.as_str(), c1[0].patient_sex.as_str()), ("ACM100200301", "1958-03-14", "F"));
    assert_eq!((c1[0].dx_1.as_str(), c1[0].dx_2.as_str(), c1[0].dx_3.as_str()), ("E119", "I10", ""));
    assert_eq!(c1[0].dx_pointers, "12");
    assert_eq!(c1[0].rendering_npi, "1293847566", "2310B rendering provider");
    assert_eq!(c1[0].provider_specialty, "207Q00000X");
    assert_eq!((c1[3].line_number, c1[3].service_date_from.as_str(), c1[3].service_date_to.as_str()), (4, "2025-03-03", "2025-03-03"));

    // The dependent spouse (2000C) is the patient; her id is the subscriber's member id.
    let c2 = lines_of(&b, "LFM24002");
    assert_eq!((c2[0].patient_id.as_str(), c2[0].patient_birth_date.as_str(), c2[0].patient_sex.as_str()), ("ACM100455102", "1979-02-11", "F"));
    assert_eq!((c2[0].modifier_1.as_str(), c2[0].dx_1.as_str(), c2[0].dx_2.as_str()), ("25", "I10", "Z0000"));

    // Line-level 2420A overrides; REF*G1 gives the prior authorization.
    let c3 = lines_of(&b, "LFM24003");
    for l in &c3 {
        assert_eq!((l.rendering_npi.as_str(), l.provider_specialty.as_str()), ("1876543202", "207ND0101X"));
        assert_eq!(l.prior_auth_number, "PA7731920");
        assert_eq!(l.dx_1, "C44321");
        assert_eq!(l.patient_sex, "M");
    }

    let c4 = lines_of(&b, "LFM24004");
    assert_eq!(c4[0].dx_pointers, "123");
    assert_eq!(c4[2].procedure_code, "J1100");
    assert!(close(c4[2].units, 10.0));
    assert_eq!(c4[2].dx_pointers, "3");
    assert_eq!(c4[0].dx_3, "M5450");
}

#[test]
fn sample_without_newlines_with_crlf_or_newline_terminators_reads_the_same() {
    let original = sample_bytes();
    let text = String::from_utf8(original.clone()).expect("sample is ASCII");
    let base = parse_ok(&original, "sample");
    let variants = [
        ("no newlines", text.replace('\n', "")),
        ("CRLF", text.replace("~\n", "~\r\n")),
        ("blank lines and indentation", text.replace("~\n", "~\n\n  ")),
        // The byte after ISA16 is the terminator, so a newline can be the terminator itself.
        ("newline terminator", text.replace("~\n", "\n")),
    ];
    for (what, v) in variants {
        let b = parse_ok(v.as_bytes(), what);
        assert_eq!(b.lines, base.lines, "{what}");
        assert!(b.problems.is_empty(), "{what}:\n{}", dump(&b));
    }
}

// ---------------------------------------------------------------- inline interchanges

#[test]
fn custom_delimiters_are_taken_from_each_isa() {
    let body = professional(&[("C1", &[("99213:25", "100.00", "1:2"), ("36415", "15.00", "1")])]);
    let standard = parse_ok(STD.interchange(1, &[(P5010, body.clone())]).as_bytes(), "std");
    assert_claims(&standard, &[("C1", 115.00, &[100.00, 15.00])]);
    assert_eq!(standard.lines[0].modifier_1, "25");
    assert_eq!(standard.lines[0].dx_pointers, "12");

    let pipes = Env { element: '|', component: '>', repetition: '!', terminator: "'" };
    let controls = Env { element: '\u{1D}', component: '\u{1F}', repetition: '\u{1E}', terminator: "\u{1C}" };
    let tilde_element = Env { element: '~', component: '^', repetition: '{', terminator: "_\r\n" };
    for (what, env) in [("pipes", pipes), ("control characters", controls), ("tilde as element separator", tilde_element)] {
        let text = env.interchange(1, &[(P5010, body.clone())]);
        assert!(!text.contains('*'), "{what}: delimiters were not translated");
        let b = parse_ok(text.as_bytes(), what);
        assert_eq!(b.lines, standard.lines, "{what}");
        assert!(b.problems.is_empty(), "{what}:\n{}", dump(&b));
    }
}

#[test]
fn several_interchanges_groups_and_transaction_types_in_one_file() {
    let p1 = professional(&[("P1", &[("99213", "80.00", "1")])]);
    let p2 = professional(&[("P2", &[("99214", "120.00", "1"), ("85025", "30.00", "2")])]);
    let mut text = STD.interchange(1, &[(P5010, p1), (I5010, institutional_body())]);
    text += &Env { element: '|', component: '>', repetition: '!', terminator: "\n" }.interchange(2, &[(P5010, p2)]);
    let b = parse_ok(text.as_bytes(), "multi");
    assert_eq!(b.version, "005010X222A2,005010X223A3");
    assert_claims(&b, &[("P1", 80.0, &[80.0]), ("I1", 400.0, &[300.0, 100.0]), ("P2", 150.0, &[120.0, 30.0])]);
    let types: Vec<&str> = b.claims.iter().map(|c| c.claim_type.as_str()).collect();
    assert_eq!(types, ["professional", "institutional", "professional"]);
}

#[test]
fn a_broken_claim_is_reported_and_the_good_ones_are_kept() {
    let body = professional(&[
        ("GOOD1", &[("99213", "80.00", "1")]),
        ("BAD2", &[("99214", "120.00", "1"), ("85025", "3O.00", "1")]),
        ("GOOD3", &[("99215", "150.00", "1:2")]),
    ]);
    // The faulty SV1 is the n-th segment of the body; ISA, GS and ST come before the body.
    let bad_sv1 = 3 + 1 + body.iter().position(|s| s.starts_with("SV1*HC:85025")).expect("bad line");
    let b = parse_ok(STD.interchange(1, &[(P5010, body)]).as_bytes(), "broken");
    assert_claims(&b, &[("GOOD1", 80.0, &[80.0]), ("GOOD3", 150.0, &[150.0])]);
    assert_errors(&b, &[("BAD2", bad_sv1, "SV102 line charge '3O.00'")]);
    assert_eq!(b.warnings().count(), 0, "{}", dump(&b));
}

#[test]
fn claim_level_structure_faults_reject_only_that_claim() {
    let mut body = professional(&[("A", &[("99213", "80.00", "1")]), ("B", &[("99213", "80.00", "1")]), ("C", &[("99213", "80.00", "1")])]);
    // B: a second rendering provider loop (2310B may occur once) and a segment the claim loop cannot hold.
    let clm_b = body.iter().position(|s| s.starts_with("CLM*B*")).expect("claim B");
    body.insert(clm_b + 2, "NM1*82*1*ONE*DOC****XX*1293847566".into());
    body.insert(clm_b + 3, "NM1*82*1*TWO*DOC****XX*1876543202".into());
    // C: an institutional SV2 in a professional claim.
    let sv1_c = body.iter().rposition(|s| s.starts_with("SV1*")).expect("claim C line");
    body[sv1_c] = "SV2*0450*HC:99213*80.00*UN*1".into();
    let seg = |i: usize| 3 + 1 + i;
    let b = parse_ok(STD.interchange(1, &[(P5010, body)]).as_bytes(), "structure");
    assert_claims(&b, &[("A", 80.0, &[80.0])]);
    assert_errors(
        &b,
        &[
            ("B", seg(clm_b + 3), "loop 2310B occurs more than once"),
            ("C", seg(sv1_c - 1), "service line 1 has no SV1/SV2 segment"),
            ("C", seg(sv1_c), "SV2 is an institutional service line and this is an 837P"),
        ],
    );
}

fn institutional_body() -> Vec<String> {
    let others: Vec<String> = (1..=13).map(|i| format!("ABF:R{:02}", i + 9)).collect();
    [
        "BHT*0019*00*B2*20250310*1402*CH",
        "NM1*41*2*TEST HOSPITAL*****46*SUB2",
        "PER*IC*OFFICE*TE*6085550100",
        "NM1*40*2*TEST PAYER*****46*RCV1",
        "HL*1**20*1",
        "PRV*BI*PXC*282N00000X",
        "NM1*85*2*TEST HOSPITAL*****XX*1647382914",
        "N3*1 MAIN ST",
        "N4*MILLBROOK*WI*53555",
        "REF*EI*391234567",
        "HL*2*1*22*1",
        "SBR*P**GRP2******CI",
        "NM1*IL*1*ROE*SAM****MI*SUBSCRIBER9",
        "NM1*PR*2*TEST PAYER*****PI*PAYER2",
        "HL*3*2*23*0",
        "PAT*19****D8*20250320",
        "NM1*QC*1*ROE*KIM",
        "DMG*D8*20010704*F",
        "CLM*I1*400.00***13:A:1**A*Y*Y",
        "DTP*434*RD8*20250301-20250302",
        "DTP*050*D8*20250305",
        "CL1*1*1*01",
        "REF*G1*CLAIMAUTH",
        "HI*ABK:S72001A",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([
        // HI holds at most 12 elements: the other diagnoses take two HI segments.
        format!("HI*{}", others[..12].join("*")),
        format!("HI*{}", others[12..].join("*")),
        "HI*BBR:0SR9019:D8:20250301*BBQ:0QS604Z*BBQ:3E0234Z".into(),
        "NM1*71*1*ATTEND*ANN****XX*1293847566".into(),
        "PRV*AT*PXC*207X00000X".into(),
        "NM1*72*1*OPER*OTTO****XX*1876543202".into(),
        "LX*1".into(),
        "SV2*0450*HC:99284:25*300.00*UN*1".into(),
        "LX*2".into(),
        "SV2*0300*HC:80053*100.00*UN*2".into(),
        "DTP*472*D8*20250302".into(),
        "REF*G1*LINEAUTH".into(),
        "NM1*82*1*LINE*LEE****XX*1982736450".into(),
        "PRV*PE*PXC*207P00000X".into(),
    ])
    .collect()
}

#[test]
fn institutional_claims_map_type_of_bill_procedures_and_providers() {
    let b = parse_ok(STD.interchange(1, &[(I5010, institutional_body())]).as_bytes(), "837i");
    assert_eq!(b.version, I5010);
    assert_claims(&b, &[("I1", 400.0, &[300.0, 100.0])]);
    assert_errors(&b, &[]);
    // 1 principal + 13 others: the 13th and 14th codes do not fit dx_1..dx_12.
    let hi_others = 3 + 1 + 24;
    assert_warning(&b, Some("I1"), hi_others, "2 diagnosis code(s) beyond the 12th");
    assert_eq!(b.problems.len(), 1, "{}", dump(&b));

    let (l1, l2) = (&b.lines[0], &b.lines[1]);
    for l in [l1, l2] {
        assert_eq!(l.claim_type, "institutional");
        assert_eq!(l.type_of_bill, "131");
        assert_eq!(l.place_of_service, "", "institutional claims carry no place of service");
        assert_eq!((l.patient_id.as_str(), l.patient_birth_date.as_str(), l.patient_sex.as_str()), ("SUBSCRIBER9", "2001-07-04", "F"));
        assert_eq!(l.patient_death_date, "2025-03-20");
        assert_eq!(l.payer_id, "PAYER2");
        assert_eq!(l.received_date, "2025-03-05");
        assert_eq!(l.principal_procedure_code, "0SR9019");
        assert_eq!(l.other_procedure_codes, "0QS604Z|3E0234Z");
        assert_eq!(l.dx(), ["S72001A", "R10", "R11", "R12", "R13", "R14", "R15", "R16", "R17", "R18", "R19", "R20"]);
        assert_eq!(l.dx_pointers, "");
    }
    assert_eq!((l1.revenue_code.as_str(), l1.procedure_code.as_str(), l1.modifier_1.as_str()), ("0450", "99284", "25"));
    // No line date: the statement period (DTP*434) applies.
    assert_eq!((l1.service_date_from.as_str(), l1.service_date_to.as_str()), ("2025-03-01", "2025-03-02"));
    assert_eq!((l1.rendering_npi.as_str(), l1.provider_specialty.as_str()), ("1293847566", "207X00000X"), "attending");
    assert_eq!(l1.prior_auth_number, "CLAIMAUTH");
    assert_eq!((l2.service_date_from.as_str(), l2.service_date_to.as_str()), ("2025-03-02", "2025-03-02"));
    assert_eq!((l2.rendering_npi.as_str(), l2.provider_specialty.as_str()), ("1982736450", "207P00000X"), "line rendering");
    assert_eq!(l2.prior_auth_number, "LINEAUTH");
    assert!(close(l2.units, 2.0));
}

#[test]
fn pointers_above_nine_place_of_service_override_and_date_ranges() {
    let mut body = professional(&[("P", &[("17311", "700.00", "1:10:12"), ("17312", "300.00", "2")])]);
    let hi = body.iter().position(|s| s.starts_with("HI*")).expect("HI");
    body[hi] = format!("HI*ABK:C44321*{}", (2..=12).map(|i| format!("ABF:L{i:02}")).collect::<Vec<_>>().join("*"));
    let sv1 = body.iter().position(|s| s.starts_with("SV1*HC:17311")).expect("line 1");
    body[sv1] = "SV1*HC:17311:59:XS:RT:LT*700.00*UN*1*22**1:10:12".into();
    body[sv1 + 1] = "DTP*472*RD8*20250301-20250303".into();
    let b = parse_ok(STD.interchange(1, &[(P5010, body)]).as_bytes(), "pointers");
    assert!(b.problems.is_empty(), "{}", dump(&b));
    let (l1, l2) = (&b.lines[0], &b.lines[1]);
    assert_eq!(l1.dx_pointers, "1,10,12", "two-digit pointers are comma-separated");
    assert_eq!(l2.dx_pointers, "2");
    assert_eq!([&l1.modifier_1, &l1.modifier_2, &l1.modifier_3, &l1.modifier_4], ["59", "XS", "RT", "LT"]);
    assert_eq!((l1.place_of_service.as_str(), l2.place_of_service.as_str()), ("22", "11"));
    assert_eq!((l1.service_date_from.as_str(), l1.service_date_to.as_str()), ("2025-03-01", "2025-03-03"));
    assert_eq!((l1.dx_1.as_str(), l1.dx_12.as_str()), ("C44321", "L12"));
    // No rendering loop: the billing provider rendered, with its PRV*BI taxonomy.
    assert_eq!((l1.rendering_npi.as_str(), l1.provider_specialty.as_str()), ("1647382914", "207Q00000X"));
}

#[test]
fn a_999_acknowledgment_is_refused() {
    let text = STD.isa(7) + "~\n" + "GS*FA*RCV*SND*20250310*1402*7*X*005010X231A1~\nST*999*0001*005010X231A1~\nAK1*HC*1*005010X222A2~\nAK9*A*1*1*1~\nSE*4*0001~\nGE*1*7~\nIEA*1*000000007~\n";
    let e = parse_err(text.as_bytes(), "ack.999");
    assert_eq!((e.segment_number, e.segment_id.as_str()), (3, "ST"));
    assert_eq!(e.byte_offset, text.find("ST*999").expect("ST"));
    assert!(e.message.contains("999 (implementation acknowledgment)"), "{e}");
    assert!(e.expected.contains("837"), "{e}");
    let shown = e.to_string();
    assert!(shown.starts_with("ack.999: segment 3 (ST) at byte"), "{shown}");
    let _: &dyn std::error::Error = &e;
}

#[test]
fn a_4010_837_is_refused_with_a_clear_message() {
    let body: Vec<String> = professional(&[("OLD", &[("99213", "80.00", "1")])]);
    let text = STD.interchange(1, &[("004010X098A1", body)]).replace("ST*837*0001*004010X098A1", "ST*837*0001");
    let e = parse_err(text.as_bytes(), "old.837");
    assert_eq!(e.segment_number, 3);
    assert!(e.message.contains("004010X098A1") && e.message.contains("4010") && e.message.contains("5010"), "{e}");
    assert!(e.expected.contains("005010X222"), "{e}");
    // An 837D (dental) is an 837 too, but not one claimlint reads.
    let dental = STD.interchange(1, &[("005010X224A2", professional(&[("D", &[("D0120", "50.00", "1")])]))]);
    assert!(parse_err(dental.as_bytes(), "dental").message.contains("837D dental"));
}

/// Lines and claims read add up: read = audited + rejected.
fn assert_accounted(b: &X12Batch) {
    assert_eq!(b.lines_read, b.lines.len() + b.lines_rejected, "lines\n{}", dump(b));
    assert_eq!(b.claims_read, b.claims.len() + b.claims_rejected, "claims\n{}", dump(b));
    assert_eq!(b.line_segments.len(), b.lines.len());
}

#[test]
fn envelope_faults_are_warnings_and_the_claims_inside_are_read() {
    let good = STD.interchange(1, &[(P5010, professional(&[("A", &[("99213", "80.00", "1")])]))]);
    let segments: Vec<&str> = good.split_terminator("~\n").collect();
    let n = segments.len();

    // Truncated before SE: the claim the cut ends in may be incomplete, so it is rejected.
    let cut = good.rfind("SE*").expect("SE");
    let b = parse_ok(&good.as_bytes()[..cut], "cut");
    assert_errors(&b, &[("A", n - 2, "the file ends inside this claim")]);
    assert_warning(&b, None, n - 2, "the file ends inside the transaction set opened at segment 3");
    assert_eq!((b.claims_read, b.claims_rejected, b.lines_read, b.lines_rejected), (1, 1, 1, 1));
    assert_eq!(b.problems.iter().find(|p| p.kind == ProblemKind::Claim).map(|p| p.byte_offset), Some(cut));

    // A GS inside the transaction set closes it; the line after it has no claim.
    let nested = good.replace("LX*1~", "GS*HC*X*Y*20250310*1402*9*X*005010X222A2~\nLX*1~");
    let gs = 1 + segments.iter().position(|s| s.starts_with("LX*1")).expect("LX");
    let b = parse_ok(nested.as_bytes(), "nested");
    assert_warning(&b, None, gs, "the transaction set opened at segment 3 has no SE before a new GS");
    assert!(b.errors().any(|p| p.kind == ProblemKind::Transaction && p.message.contains("1 service line(s) are not audited")), "{}", dump(&b));
    assert!(b.claims.is_empty());
    assert_accounted(&b);
    assert_eq!((b.lines_read, b.lines_rejected), (1, 1));

    // Junk after IEA is skipped.
    let b = parse_ok(format!("{good}NOT X12 AT ALL").as_bytes(), "junk");
    assert_claims(&b, &[("A", 80.0, &[80.0])]);
    assert_warning(&b, None, n + 1, "only an ISA may follow IEA (found 'NOT'); the last 14 bytes of the file are skipped");
    assert_eq!(b.problems[0].byte_offset, good.len());

    // A bad segment identifier where the billing provider's REF stands: claimlint reads no REF
    // there, so the claim is audited.
    let bad = good.replace("REF*EI*", "ref*EI*");
    let b = parse_ok(bad.as_bytes(), "lower");
    assert_claims(&b, &[("A", 80.0, &[80.0])]);
    let p = b.problems.iter().find(|p| p.message.contains("'ref' is not a segment identifier")).expect("reported");
    assert_eq!((p.segment_id.as_str(), p.byte_offset, p.severity), ("ref", bad.find("ref*").expect("ref"), Severity::Warning));
    // The same damage to the billing provider's name loses what the claim needs.
    let b = parse_ok(good.replace("NM1*85*", "nm1*85*").as_bytes(), "lower name");
    assert!(b.claims.is_empty() && b.errors().any(|p| p.claim_id.as_deref() == Some("A")), "{}", dump(&b));

    // Delimiters that collide: the fixed-width positions still give them, and ISA16 is taken as ':'.
    let same = good.replacen("*P*:", "*P**", 1);
    let b = parse_ok(same.as_bytes(), "same");
    assert_claims(&b, &[("A", 80.0, &[80.0])]);
    assert_warning(&b, None, 1, "ISA16 is not a usable component separator; ':' is used");

    // A damaged ST01 or a missing ST: the version says what the transaction set is.
    let b = parse_ok(good.replace("ST*837*", "ST*8X7*").as_bytes(), "st01");
    assert_claims(&b, &[("A", 80.0, &[80.0])]);
    assert_warning(&b, None, 3, "ST01 '8X7' is not 837");
    let b = parse_ok(good.replace("ST*837*", "sT*837*").as_bytes(), "no st");
    assert_claims(&b, &[("A", 80.0, &[80.0])]);
    assert_warning(&b, None, 4, "BHT without an ST before it");

    assert_eq!(parse_err(b"", "empty").expected, "ISA (interchange control header)");
    assert_eq!(parse_err(b"  \r\n", "blank").expected, "ISA (interchange control header)");
}

#[test]
fn looks_like_x12_sniffs_content() {
    assert!(looks_like_x12(&sample_bytes()));
    assert!(looks_like_x12(b"\xEF\xBB\xBF \r\n\tISA*00*"));
    assert!(looks_like_x12(b"ISA|00|"));
    assert!(!looks_like_x12(b"GS*HC*"));
    assert!(!looks_like_x12(b"ISAAC,NEWTON\n"));
    assert!(!looks_like_x12(b"claim_id,procedure_code\n"));
    assert!(!looks_like_x12(b""));
    assert!(!looks_like_x12(b"ISA"));
}

#[test]
fn truncated_and_garbled_input_never_panics() {
    let sample = sample_bytes();
    let full = parse_ok(&sample, "full");
    // Every prefix: the claims it gives are the first claims of the file, complete, and the
    // claim the cut falls in is rejected, never emitted short.
    for end in 0..sample.len() {
        match parse_837(&sample[..end], "prefix") {
            Ok(b) => {
                assert_accounted(&b);
                assert_eq!(b.lines[..], full.lines[..b.lines.len()], "a prefix of {end} bytes");
                assert_eq!(b.claims[..], full.claims[..b.claims.len()], "a prefix of {end} bytes");
            }
            Err(e) => assert!(end < 110, "a prefix of {end} bytes was refused: {e}"),
        }
    }
    // Deterministic mutations: replace bytes with delimiters, digits, letters or controls.
    let alphabet = b"*:~^>|\n\r 0123456789ISAGSTEHLCMXV\x00\x1c\xff.-";
    let mut seed: u64 = 0x5eed_1234_abcd_0001;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut readable = 0;
    for _ in 0..3000 {
        let mut m = sample.clone();
        for _ in 0..(1 + next() % 4) {
            let i = (next() % m.len() as u64) as usize;
            let c = alphabet[(next() % alphabet.len() as u64) as usize];
            if let Some(b) = m.get_mut(i) {
                *b = c;
            }
        }
        if let Ok(b) = parse_837(&m, "mutant") {
            assert_accounted(&b);
            readable += 1;
        }
    }
    assert!(readable > 2000, "most mutants keep claims to read: {readable}");
    for odd in [&b"ISA*"[..], b"ISA*00*", &[b'*'; 300], b"ISA~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~", b"\xEF\xBB\xBF"] {
        assert!(parse_837(odd, "odd").is_err());
    }
}

#[test]
fn a_large_file_is_read_in_one_linear_pass() {
    let n = 20_000;
    let ids: Vec<String> = (0..n).map(|i| format!("C{i:05}")).collect();
    let lines: &[Service] = &[("99213", "80.00", "1"), ("36415", "15.00", "2")];
    let claims: Vec<ClaimSpec> = ids.iter().map(|id| (id.as_str(), lines)).collect();
    let text = STD.interchange(1, &[(P5010, professional(&claims))]).replace('\n', "");
    let start = std::time::Instant::now();
    let b = parse_ok(text.as_bytes(), "large");
    let took = start.elapsed();
    assert_eq!(b.claims.len(), n);
    assert_eq!(b.lines.len(), 2 * n);
    assert!(b.problems.is_empty(), "{}", dump(&b));
    assert_eq!(b.claims[n - 1].claim_id, "C19999");
    // About 5 MB; quadratic work would take minutes even in an optimised build.
    assert!(took.as_secs() < 60, "took {took:?}");
}

// ---------------------------------------------------------------- ../shared/data/x12

/// Every file of the shared X12 corpus, each asserted by one of the tests below.
const CORPUS: &[&str] = &[
    "imsweb/x12_999_accepted.txt",
    "imsweb/x12_999_rejected.txt",
    "imsweb/x12_ambiguous_loop.txt",
    "imsweb/x12_bad_first_line.txt",
    "imsweb/x12_bad_segment_identifier.txt",
    "imsweb/x12_bad_valid_code.txt",
    "imsweb/x12_loop_errors1_exceeds_max_1_parent.txt",
    "imsweb/x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt",
    "imsweb/x12_loop_errors3_missing_loops.txt",
    "imsweb/x12_many_claims.txt",
    "imsweb/x12_missing_elements.txt",
    "imsweb/x12_missing_required_loop_in_one_repeat.txt",
    "imsweb/x12_missing_required_loops_mult_repeats.txt",
    "imsweb/x12_multiple_isa.txt",
    "imsweb/x12_multiple_st.txt",
    "imsweb/x12_no_errors.txt",
    "imsweb/x12_no_isa_line.txt",
    "imsweb/x12_segment_errors.txt",
    "imsweb/x12_segments_out_of_order.txt",
    "imsweb/x12_valid.txt",
    "imsweb/x12_valid_different_separators.txt",
    "imsweb/x12_writer_test.txt",
    "imsweb/x223-test.txt",
    "linuxforhealth/837_004010X096A1/automobile-accident.837",
    "linuxforhealth/837_004010X096A1/homeowners.837",
    "linuxforhealth/837_004010X096A1/institutional-ppo-repriced.837",
    "linuxforhealth/837_004010X096A1/institutional.837",
    "linuxforhealth/837_004010X096A1/workers-compensation.837",
    "linuxforhealth/837_004010X098A1/coordination-of-benefits.837",
    "linuxforhealth/837_004010X098A1/dependent-commercial-insurance-01.837",
    "linuxforhealth/837_004010X098A1/dependent-commercial-insurance-02.837",
    "linuxforhealth/837_004010X098A1/dependent-commercial-insurance-03.837",
    "linuxforhealth/837_004010X098A1/patient-is-dependent.837",
    "linuxforhealth/837_004010X098A1/patient-is-subscriber.837",
    "linuxforhealth/837_005010X222A2/demo.ambulance.example5.837",
    "linuxforhealth/837_005010X222A2/demo.autoaccident.837",
    "linuxforhealth/837_005010X222A2/demo.cob.2ndary.example4.837",
    "linuxforhealth/837_005010X222A2/demo.cob.example3.A.837",
    "linuxforhealth/837_005010X222A2/demo.cob.example3.B.837",
    "linuxforhealth/837_005010X222A2/demo.cob.example3.C.837",
    "linuxforhealth/837_005010X222A2/demo.cob.example4.837",
    "linuxforhealth/837_005010X222A2/demo.drug.example10.1.837",
    "linuxforhealth/837_005010X222A2/demo.drug.example10.2.837",
    "linuxforhealth/837_005010X222A2/demo.drug.example10.3.837",
    "linuxforhealth/837_005010X222A2/demo.example1.837",
    "linuxforhealth/837_005010X222A2/demo.example11.837",
    "linuxforhealth/837_005010X222A2/demo.example12.837",
    "linuxforhealth/837_005010X222A2/demo.example2.837",
    "linuxforhealth/837_005010X222A2/demo.example6.837",
    "linuxforhealth/837_005010X222A2/demo.example7.837",
    "linuxforhealth/837_005010X222A2/demo.example8.837",
    "linuxforhealth/837_005010X222A2/demo.example9.837",
    "linuxforhealth/837_005010X223A3/institutional-claim.837i",
    "linuxforhealth/837_005010X223A3/out-of-network-repriced-claim.837i",
    "linuxforhealth/837_005010X223A3/ppo-repriced-claim.837i",
    "linuxforhealth/837_005010X223A3/two-claims-single-provider.837i",
    "linuxforhealth/demo.837",
    "linuxforhealth/demo.837i",
];

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn every_corpus_file_has_an_asserted_outcome() {
    fn walk(dir: &std::path::Path, root: &std::path::Path, out: &mut BTreeSet<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
            let path = entry.path();
            if path.is_dir() {
                // 835 remittances are read by claimlint::remit, not by the 837 reader.
                if path.file_name().is_some_and(|n| n != "835") {
                    walk(&path, root, out);
                }
            } else if path.file_name().is_some_and(|n| n != "LICENSE") {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                out.insert(rel);
            }
        }
    }
    let root = crate::common::shared_data("x12");
    let mut found = BTreeSet::new();
    walk(&root, &root, &mut found);
    let listed: BTreeSet<String> = CORPUS.iter().map(|s| s.to_string()).collect();
    assert_eq!(found, listed, "files added to or removed from ../shared/data/x12 need expectations here");
}

/// (file, version, claims as (id, CLM02, line charges), warnings as (segment, text)).
type Good = (&'static str, &'static str, &'static [(&'static str, f64, &'static [f64])], &'static [(usize, &'static str)]);

const REPAIRED: &str = "uses '>' as component separator but ISA16 declares ':'";

const LFH_5010: &[Good] = &[
    ("linuxforhealth/demo.837", P5010, &[("26463774", 100.0, &[40.0, 15.0, 35.0, 10.0])], &[]),
    ("linuxforhealth/demo.837i", I5010, &[("756048Q", 89.93, &[13.39, 76.54])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.ambulance.example5.837", P5010, &[("051068", 766.50, &[700.00, 8.20, 46.00, 12.30])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.autoaccident.837", P5010, &[("900000032", 185.0, &[150.0, 35.0])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.cob.2ndary.example4.837", P5010, &[("125WILL", 145.50, &[145.50])], &[(21, REPAIRED)]),
    ("linuxforhealth/837_005010X222A2/demo.cob.example3.A.837", P5010, &[("26407789", 79.04, &[43.00, 15.00, 21.04])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.cob.example3.B.837", P5010, &[("26407789", 79.04, &[43.00, 15.00, 21.04])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.cob.example3.C.837", P5010, &[("26407789", 79.04, &[43.00, 15.00, 21.04])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.cob.example4.837", P5010, &[("101KEN6055", 120.0, &[120.0])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.drug.example10.1.837", P5010, &[("CLMNO12345", 103.37, &[50.00, 53.37])], &[]),
    (
        "linuxforhealth/837_005010X222A2/demo.drug.example10.2.837",
        P5010,
        &[("CLMNO12345", 2232.93, &[1400.00, 682.50, 15.12, 67.69, 57.12, 10.50])],
        &[],
    ),
    (
        "linuxforhealth/837_005010X222A2/demo.drug.example10.3.837",
        P5010,
        &[("CLMNO12345", 2232.93, &[1400.00, 682.50, 15.12, 67.69, 57.12, 10.50])],
        &[],
    ),
    ("linuxforhealth/837_005010X222A2/demo.example1.837", P5010, &[("26463774", 100.0, &[40.0, 15.0, 35.0, 10.0])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.example11.837", P5010, &[("ABC123-RI", 28.75, &[25.00, 3.75])], &[(21, REPAIRED)]),
    ("linuxforhealth/837_005010X222A2/demo.example12.837", P5010, &[("TS234H3", 252.71, &[252.71])], &[(26, REPAIRED)]),
    ("linuxforhealth/837_005010X222A2/demo.example2.837", P5010, &[("26462967", 100.0, &[40.0, 15.0, 35.0, 10.0])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.example6.837", P5010, &[("125WILL", 145.50, &[145.50])], &[(21, REPAIRED)]),
    ("linuxforhealth/837_005010X222A2/demo.example7.837", P5010, &[("R03996273 #01", 520.24, &[461.10, 59.14])], &[]),
    ("linuxforhealth/837_005010X222A2/demo.example8.837", P5010, &[("SMI123", 75.0, &[75.0])], &[]),
    (
        "linuxforhealth/837_005010X222A2/demo.example9.837",
        P5010,
        &[("153829140", 827.0, &[827.0])],
        &[(20, REPAIRED), (29, "SV107 pointer '1.00' on line 1 is not a whole number; read as 1")],
    ),
    ("linuxforhealth/837_005010X223A3/institutional-claim.837i", I5010, &[("756048Q", 89.93, &[13.39, 76.54])], &[]),
    ("linuxforhealth/837_005010X223A3/out-of-network-repriced-claim.837i", I5010, &[("W392-49141", 14.84, &[14.84])], &[(20, REPAIRED)]),
    ("linuxforhealth/837_005010X223A3/ppo-repriced-claim.837i", I5010, &[("456DFH43", 237.50, &[178.00, 59.50])], &[(26, REPAIRED)]),
    (
        "linuxforhealth/837_005010X223A3/two-claims-single-provider.837i",
        I5010,
        &[("756048Q", 89.95, &[13.39, 76.56]), ("756049Q", 50.0, &[50.0])],
        &[],
    ),
];

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn linuxforhealth_5010_examples_balance_and_parse_cleanly() {
    for (file, version, claims, warnings) in LFH_5010 {
        let b = parse_ok(&shared(file), file);
        assert_eq!(b.version, *version, "{file}");
        assert_claims(&b, claims);
        assert_balanced(&b);
        assert_errors(&b, &[]);
        assert_eq!(b.problems.len(), warnings.len(), "{file}:\n{}", dump(&b));
        let id = claims.first().map(|c| c.0);
        for (seg, text) in *warnings {
            assert_warning(&b, id, *seg, text);
        }
        let kind = if *version == P5010 { "professional" } else { "institutional" };
        assert!(b.lines.iter().all(|l| l.claim_type == kind), "{file}");
    }
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn linuxforhealth_professional_field_mapping() {
    // Patient in 2000C (no id of its own), ICD-9 BK/BF, no rendering loop: billing renders.
    let b = parse_ok(&shared("linuxforhealth/demo.837"), "demo.837");
    let l = &b.lines[0];
    assert_eq!((l.patient_id.as_str(), l.patient_birth_date.as_str(), l.patient_sex.as_str()), ("JS00111223333", "1973-05-01", "M"));
    assert_eq!((l.billing_npi.as_str(), l.rendering_npi.as_str(), l.provider_specialty.as_str()), ("1912301953", "1912301953", "203BF0100Y"));
    assert_eq!((l.payer_id.as_str(), l.dx_1.as_str(), l.dx_2.as_str()), ("999996666", "0340", "V7389"));
    let pointers: Vec<&str> = b.lines.iter().map(|l| l.dx_pointers.as_str()).collect();
    assert_eq!(pointers, ["1", "1", "2", "2"]);
    let dates: Vec<&str> = b.lines.iter().map(|l| l.service_date_from.as_str()).collect();
    assert_eq!(dates, ["2006-10-03", "2006-10-03", "2006-10-10", "2006-10-10"]);
    assert!(b.lines.iter().all(|l| l.place_of_service == "11" && close(l.units, 1.0) && l.received_date.is_empty()));

    // CLM05 "41::1", four pointers, modifier RH, 21 units of mileage.
    let b = parse_ok(&shared("linuxforhealth/837_005010X222A2/demo.ambulance.example5.837"), "ambulance");
    assert!(b.lines.iter().all(|l| l.place_of_service == "41" && l.dx_pointers == "1234" && l.modifier_1 == "RH"));
    assert!(close(b.lines[1].units, 21.0));
    assert_eq!(b.lines[0].dx(), ["8628", "E8888", "9592", "8540", "", "", "", "", "", "", "", ""]);
    assert_eq!((b.lines[0].patient_birth_date.as_str(), b.lines[0].patient_sex.as_str()), ("1963-07-29", "F"));

    // 2310B rendering provider; the other payer's 2330D NM1*82 must not replace it; payer is 2010BB.
    for (file, payer) in [("A", "999996666"), ("B", "567890"), ("C", "567890")] {
        let b = parse_ok(&shared(&format!("linuxforhealth/837_005010X222A2/demo.cob.example3.{file}.837")), file);
        for l in &b.lines {
            assert_eq!((l.rendering_npi.as_str(), l.provider_specialty.as_str()), ("1999996666", "204C00000X"), "{file}");
            assert_eq!(l.payer_id, payer, "{file}");
            assert_eq!(l.dx(), ["4779", "2724", "2780", "53081", "", "", "", "", "", "", "", ""]);
        }
        assert_eq!(b.lines[0].dx_pointers, "1234");
        assert_eq!(b.lines[1].dx_pointers, "12");
    }

    // Composites written with '>' are read after the repair.
    let b = parse_ok(&shared("linuxforhealth/837_005010X222A2/demo.example11.837"), "example11");
    let l: Vec<(&str, &str, &str)> = b.lines.iter().map(|l| (l.procedure_code.as_str(), l.modifier_1.as_str(), l.dx_pointers.as_str())).collect();
    assert_eq!(l, [("E0570", "RR", "12"), ("A7003", "NU", "1")]);
    assert_eq!((b.lines[0].dx_1.as_str(), b.lines[0].dx_2.as_str(), b.lines[0].rendering_npi.as_str()), ("496", "25000", "1122334455"));

    let b = parse_ok(&shared("linuxforhealth/837_005010X222A2/demo.example9.837"), "example9");
    let l = &b.lines[0];
    assert_eq!([&l.procedure_code, &l.modifier_1, &l.modifier_2, &l.modifier_3], ["00142", "QK", "QS", "P1"]);
    assert!(close(l.units, 61.0));
    assert_eq!((l.place_of_service.as_str(), l.dx_pointers.as_str(), l.rendering_npi.as_str()), ("22", "1", "5678912345"));

    // SV105 POS, RD8 ranges, units; the ordering provider (2420E NM1*DK) is not the renderer.
    let b = parse_ok(&shared("linuxforhealth/837_005010X222A2/demo.drug.example10.3.837"), "drug3");
    let units: Vec<f64> = b.lines.iter().map(|l| l.units).collect();
    assert_eq!(units, [7.0, 56.0, 28.0, 7.0, 14.0, 7.0]);
    let codes: Vec<&str> = b.lines.iter().map(|l| l.procedure_code.as_str()).collect();
    assert_eq!(codes, ["S9500", "J0696", "J7051", "J3490", "J3490", "J3490"]);
    for l in &b.lines {
        assert_eq!((l.service_date_from.as_str(), l.service_date_to.as_str(), l.place_of_service.as_str()), ("2004-02-01", "2004-02-07", "12"));
        assert_eq!(l.rendering_npi, "1234567893");
    }

    let b = parse_ok(&shared("linuxforhealth/837_005010X222A2/demo.example8.837"), "example8");
    let l = &b.lines[0];
    assert_eq!([&l.procedure_code, &l.modifier_1, &l.modifier_2, &l.modifier_3], ["K0001", "RR", "KH", "BR"]);
    assert_eq!((l.place_of_service.as_str(), l.service_date_from.as_str()), ("12", "2005-03-21"));
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn linuxforhealth_institutional_field_mapping() {
    let b = parse_ok(&shared("linuxforhealth/demo.837i"), "demo.837i");
    let (l1, l2) = (&b.lines[0], &b.lines[1]);
    assert_eq!((l1.type_of_bill.as_str(), l1.place_of_service.as_str()), ("141", ""));
    assert_eq!((l1.revenue_code.as_str(), l1.procedure_code.as_str()), ("0305", "85025"));
    assert_eq!((l2.revenue_code.as_str(), l2.procedure_code.as_str()), ("0730", "93005"));
    assert!(close(l2.units, 3.0));
    // The attending NM1*71 has no NPI, so the billing provider stands in; 2010BB is the payer,
    // not the secondary payer of loop 2330B.
    assert_eq!((l1.rendering_npi.as_str(), l1.billing_npi.as_str(), l1.payer_id.as_str()), ("9876540809", "9876540809", "00435"));
    assert_eq!(l1.dx(), ["3669", "4019", "79431", "", "", "", "", "", "", "", "", ""]);
    assert_eq!((l1.patient_id.as_str(), l1.patient_birth_date.as_str(), l1.service_date_from.as_str()), ("030005074A", "1926-11-11", "1996-09-11"));

    let b = parse_ok(&shared("linuxforhealth/837_005010X223A3/two-claims-single-provider.837i"), "two-claims");
    let second = lines_of(&b, "756049Q");
    assert_eq!((second[0].rendering_npi.as_str(), second[0].provider_specialty.as_str()), ("9999999999", "363LP0200N"));
    assert_eq!((second[0].type_of_bill.as_str(), second[0].patient_birth_date.as_str()), ("131", "1962-12-10"));
    assert_eq!(lines_of(&b, "756048Q")[0].rendering_npi, "1122334455");

    // Dependent patient in 2000C; BH occurrence codes are not diagnoses.
    let b = parse_ok(&shared("linuxforhealth/837_005010X223A3/ppo-repriced-claim.837i"), "ppo");
    let l = &b.lines[0];
    assert_eq!((l.patient_id.as_str(), l.patient_birth_date.as_str(), l.patient_sex.as_str()), ("345U8423H", "1998-08-20", "F"));
    assert_eq!((l.dx_1.as_str(), l.dx_2.as_str(), l.dx_3.as_str()), ("38181", "38900", ""));
    assert_eq!((l.rendering_npi.as_str(), l.type_of_bill.as_str(), l.procedure_code.as_str()), ("5544332211", "131", "92557"));
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn linuxforhealth_4010_files_are_refused() {
    for file in CORPUS.iter().filter(|f| f.contains("_004010X")) {
        let e = parse_err(&shared(file), file);
        let version = if file.contains("X096A1") { "004010X096A1" } else { "004010X098A1" };
        assert_eq!((e.segment_number, e.byte_offset, e.segment_id.as_str()), (3, 161, "ST"), "{file}");
        assert!(e.message.contains(version) && e.message.contains("HIPAA 4010"), "{e}");
        assert!(e.to_string().starts_with(&format!("{file}: segment 3 (ST) at byte 161, line 3:")), "{e}");
    }
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn imsweb_acknowledgments_and_unreadable_files_are_refused() {
    for (file, offset) in [("imsweb/x12_999_accepted.txt", 163), ("imsweb/x12_999_rejected.txt", 164)] {
        let e = parse_err(&shared(file), file);
        assert_eq!((e.segment_number, e.byte_offset, e.segment_id.as_str()), (3, offset, "ST"), "{file}");
        assert!(e.message.contains("transaction set 999"), "{e}");
    }

    let bytes = shared("imsweb/x12_no_isa_line.txt");
    assert!(!looks_like_x12(&bytes));
    let e = parse_err(&bytes, "no_isa");
    assert_eq!((e.segment_number, e.byte_offset, e.segment_id.as_str()), (1, 0, "GS"));
    assert!(e.expected.starts_with("ISA"), "{e}");

    // ISA02 has 9 characters instead of 10.
    let e = parse_err(&shared("imsweb/x12_bad_first_line.txt"), "bad_first_line");
    assert_eq!((e.segment_number, e.byte_offset), (1, 0));
    assert!(e.message.contains("ISA02") && e.message.contains("9 characters"), "{e}");
    assert!(e.expected.contains("exactly 10"), "{e}");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn imsweb_bad_segment_identifiers_cost_only_what_they_may_hide() {
    // Line 6 is "*IC*DAVID ANGELASZEK..." in the header, line 11 "Nd4" in the billing
    // provider's address, line 20 "NM31" where the first subscriber's NM1*IL stands.
    let b = parse_ok(&shared("imsweb/x12_bad_segment_identifier.txt"), "bad_segment_identifier");
    assert_claims(&b, &[("A37YH667", IMS_TOTAL, IMS_LINE)]);
    let header = b.warnings().find(|p| p.segment_number == 6).expect("line 6");
    assert_eq!((header.byte_offset, header.line, header.segment_id.as_str()), (280, 6, ""));
    assert!(header.message.contains("no identifier") && header.message.contains("header"), "{header}");
    assert_warning(&b, None, 11, "it can only be a damaged N4");
    assert!(b.errors().all(|p| p.claim_id.as_deref() == Some("A37YH556")), "{}", dump(&b));
    assert!(b.errors().any(|p| p.segment_number == 20 && p.message.contains("an identifier of 4 bytes")), "{}", dump(&b));
    assert_accounted(&b);
    assert_eq!((b.claims_read, b.claims_rejected), (2, 1));
}

/// The imsweb base claims: CLM02 = 500 but a single 12.25 line, and HI written "HI*BK*8901*...".
const IMS_TOTAL: f64 = 500.0;
const IMS_LINE: &[f64] = &[12.25];

fn ims(file: &str) -> X12Batch {
    let b = parse_ok(&shared(&format!("imsweb/{file}")), file);
    assert_eq!(b.version, "005010X222A1");
    for c in &b.claims {
        assert_warning(&b, Some(&c.claim_id), c.segment_number, "CLM02 total charge 500.00 does not equal the sum of the line charges 12.25");
    }
    b
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn imsweb_valid_files() {
    for file in ["x12_valid.txt", "x12_valid_different_separators.txt", "x12_segments_out_of_order.txt"] {
        let b = ims(file);
        assert_claims(&b, &[("A37YH556", IMS_TOTAL, IMS_LINE), ("A37YH667", IMS_TOTAL, IMS_LINE)]);
        assert_errors(&b, &[]);
        let (l1, l2) = (&b.lines[0], &b.lines[1]);
        // Qualifier and code in separate elements are read as one diagnosis.
        assert_eq!((l1.dx_1.as_str(), l1.dx_2.as_str(), l1.dx_3.as_str()), ("8901", "87200", "5559"));
        assert_eq!((l2.dx_1.as_str(), l2.dx_2.as_str(), l2.dx_3.as_str()), ("1987", "4134", "5559"));
        assert_warning(&b, Some("A37YH556"), 23, "HI writes qualifier and code as separate elements");
        assert_eq!((l1.procedure_code.as_str(), l1.modifier_1.as_str(), l1.place_of_service.as_str()), ("99211", "25", "11"));
        assert_eq!((l2.procedure_code.as_str(), l2.dx_pointers.as_str(), l2.line_number), ("478331", "123", 2));
        assert_eq!((l1.service_date_from.as_str(), l1.service_date_to.as_str()), ("2005-03-14", "2005-03-25"));
        assert_eq!((l1.billing_npi.as_str(), l1.payer_id.as_str(), l1.patient_id.as_str()), ("1234567890", "11122333", "123456"));
        // No DMG anywhere: demographics are unknown and said so.
        assert_eq!((l1.patient_birth_date.as_str(), l1.patient_sex.as_str()), ("", ""));
        assert_warning(&b, Some("A37YH556"), 18, "demographics (DMG in 2010BA) are missing");
        assert_warning(&b, Some("A37YH667"), 33, "LX01 2 is out of sequence: expected 1");
        assert_warning(&b, None, 27, "HL02 parent id '3' is not an earlier HL");
        assert_warning(&b, None, 36, "SE01 says 25 segments but the transaction set has 34");
        assert_warning(&b, None, 1, "ISA11 'U' is not a usable repetition separator");
    }
    // The same interchange with '~' '^' '_' delimiters reads identically.
    assert_eq!(ims("x12_valid.txt").lines, ims("x12_valid_different_separators.txt").lines);
    let b = ims("x12_segments_out_of_order.txt");
    assert_warning(&b, None, 12, "N4 is out of order in loop 2010AA: it must come before REF");
    assert_warning(&b, None, 17, "N3 is out of order in loop 2010AB: it must come before N4");
    assert_eq!(b.warnings().filter(|p| p.message.contains("out of order")).count(), 2);

    let b = ims("x12_no_errors.txt");
    assert_claims(&b, &[("A37YH556", IMS_TOTAL, IMS_LINE), ("A37YH556", IMS_TOTAL, IMS_LINE)]);
    assert_eq!(b.claims[1].segment_number, 38);
    assert_errors(&b, &[]);
    assert_warning(&b, None, 27, "HL01 id 1 repeats an earlier HL");

    let b = ims("x12_writer_test.txt");
    assert_claims(&b, &[("A37YH556", IMS_TOTAL, IMS_LINE)]);
    assert_errors(&b, &[]);
    let l = &b.lines[0];
    assert_eq!((l.patient_birth_date.as_str(), l.patient_sex.as_str(), l.dx_1.as_str(), l.dx_2.as_str()), ("1961-11-24", "M", "1739", ""));
    assert_eq!((l.service_date_from.as_str(), l.service_date_to.as_str()), ("2020-05-24", "2020-05-28"));
    assert!(close(l.units, 5.0));
    assert_warning(&b, Some("A37YH556"), 29, "SV107 on line 1 points to diagnosis 2, but the claim has 1");

    // The NM1*82 after the line's dates is the line's rendering provider (2420A).
    let b = ims("x12_ambiguous_loop.txt");
    assert_claims(&b, &[("A37YH556", IMS_TOTAL, IMS_LINE)]);
    assert_errors(&b, &[]);
    let l = &b.lines[0];
    assert_eq!((l.rendering_npi.as_str(), l.provider_specialty.as_str(), l.dx_pointers.as_str()), ("058895", "2420A", "123"));
    assert_warning(&b, None, 35, "SE01 says 25 segments but the transaction set has 33");
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn imsweb_envelopes_with_several_interchanges_or_transactions() {
    let b = ims("x12_multiple_isa.txt");
    assert_claims(
        &b,
        &[
            ("A37YH556", IMS_TOTAL, IMS_LINE),
            ("A37YH667", IMS_TOTAL, IMS_LINE),
            ("A37YH5561", IMS_TOTAL, IMS_LINE),
            ("A37YH6672", IMS_TOTAL, IMS_LINE),
        ],
    );
    assert_eq!(b.claims[2].segment_number, 60);
    assert_eq!(lines_of(&b, "A37YH5561")[0].patient_id, "673431");
    assert_errors(&b, &[]);
    assert_warning(&b, None, 39, "ISA11 'U'");

    let b = ims("x12_multiple_st.txt");
    assert_claims(
        &b,
        &[("A37YH556", IMS_TOTAL, IMS_LINE), ("A37YH667", IMS_TOTAL, IMS_LINE), ("A37YH556", IMS_TOTAL, IMS_LINE), ("A37YH667", IMS_TOTAL, IMS_LINE)],
    );
    let segs: Vec<usize> = b.claims.iter().map(|c| c.segment_number).collect();
    assert_eq!(segs, [22, 31, 56, 65]);
    assert_errors(&b, &[]);
    assert_warning(&b, None, 71, "GE01 says 1 transaction sets but the envelope holds 2");

    let b = ims("x12_many_claims.txt");
    assert_eq!(b.claims.len(), 820);
    assert_eq!(b.lines.len(), 820);
    assert_errors(&b, &[]);
    for (i, c) in b.claims.iter().enumerate() {
        let id = if i % 2 == 0 { "A37YH556" } else { "A37YH667" };
        assert_eq!(c.claim_id, id);
        assert_eq!(c.line_count, 1);
        assert!(close(c.total_charge, 500.0) && close(c.line_charge_sum, 12.25));
    }
    assert!(close(b.lines.iter().map(|l| l.charge_amount).sum::<f64>(), 820.0 * 12.25));
    let unbalanced = b.warnings().filter(|p| p.message.starts_with("CLM02 total charge 500.00")).count();
    assert_eq!(unbalanced, 820);
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn imsweb_broken_claims_are_rejected_one_by_one() {
    // NM1*117 where the billing provider NM1*85 should be: both claims lack a billing provider.
    let b = ims("x12_bad_valid_code.txt");
    assert_claims(&b, &[]);
    assert_errors(&b, &[("A37YH556", 8, "2010AA NM1*85) is missing"), ("A37YH667", 8, "2010AA NM1*85) is missing")]);
    assert_warning(&b, None, 9, "NM1 entity code '117' is not expected in loop 2000A");

    // Loop 2010AA twice under one billing provider.
    let b = ims("x12_loop_errors1_exceeds_max_1_parent.txt");
    assert_claims(&b, &[]);
    assert_errors(&b, &[("A37YH556", 15, "loop 2010AA occurs more than once")]);

    // The first billing provider is fine, the second repeats 2010AA.
    let b = ims("x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt");
    assert_claims(&b, &[("A37YH556", IMS_TOTAL, IMS_LINE)]);
    assert_eq!(b.claims[0].segment_number, 22);
    assert_errors(&b, &[("A37YH556", 34, "loop 2010AA occurs more than once")]);

    // HL 1 has only the pay-to provider (NM1*87).
    let b = ims("x12_loop_errors3_missing_loops.txt");
    assert_claims(&b, &[]);
    assert_errors(&b, &[("A37YH556", 8, "billing provider name loop (2010AA NM1*85) is missing")]);

    // NM1*40 lacks NM102; the second claim lacks CLM05.
    let b = ims("x12_missing_elements.txt");
    assert_claims(&b, &[("A37YH556", IMS_TOTAL, IMS_LINE)]);
    assert_errors(&b, &[("A37YH667", 31, "CLM05-1 (place of service) is missing"), ("A37YH667", 31, "CLM05-3 (claim frequency code) is missing")]);
    assert_warning(&b, None, 7, "NM102 (entity type qualifier) is missing in NM1*40");

    // The first subscriber HL has no NM1*IL.
    let b = ims("x12_missing_required_loop_in_one_repeat.txt");
    assert_claims(&b, &[("A37YH556", IMS_TOTAL, IMS_LINE)]);
    assert_eq!(b.claims[0].segment_number, 37);
    assert_errors(&b, &[("A37YH667", 18, "subscriber name loop (2010BA NM1*IL) is missing")]);

    // Claims 2 and 5 have SV1 without LX.
    let b = ims("x12_missing_required_loops_mult_repeats.txt");
    assert_claims(&b, &[("A37YH556", IMS_TOTAL, IMS_LINE), ("A37YH556", IMS_TOTAL, IMS_LINE), ("A37YH556", IMS_TOTAL, IMS_LINE)]);
    let segs: Vec<usize> = b.claims.iter().map(|c| c.segment_number).collect();
    assert_eq!(segs, [22, 39, 48]);
    assert_errors(
        &b,
        &[
            ("A37YH667", 31, "no service line"),
            ("A37YH667", 33, "segment SV1 is not allowed in loop 2300 (expected LX"),
            ("A37YH556", 57, "no service line"),
            ("A37YH556", 59, "segment SV1 is not allowed in loop 2300 (expected LX"),
        ],
    );
    assert_warning(&b, Some("A37YH667"), 34, "DTP*472 date format 'RD9' is not D8 or RD8");

    // The only claim has no HI.
    let b = ims("x12_segment_errors.txt");
    assert_claims(&b, &[]);
    assert_errors(&b, &[("A37YH556", 21, "no HI segment")]);
}

#[test]
#[ignore = "needs ../shared (run: cargo test -- --ignored)"]
fn imsweb_institutional_test_file() {
    let b = parse_ok(&shared("imsweb/x223-test.txt"), "x223-test");
    assert_eq!(b.version, "005010X223A2");
    assert_claims(&b, &[("A37YH556", 500.0, &[73.42])]);
    assert_errors(&b, &[]);
    assert_warning(&b, Some("A37YH556"), 25, "does not equal the sum of the line charges 73.42");
    let l = &b.lines[0];
    assert_eq!(
        (l.claim_type.as_str(), l.type_of_bill.as_str(), l.revenue_code.as_str(), l.procedure_code.as_str()),
        ("institutional", "111", "0300", "81099")
    );
    // Only other-payer loops (2320/2330) follow the claim: nothing replaces 2010BB or the billing provider.
    assert_eq!((l.payer_id.as_str(), l.rendering_npi.as_str()), ("11122333", "1234567890"));
    assert_eq!((l.patient_birth_date.as_str(), l.dx_1.as_str()), ("1961-11-24", "1739"));
    assert_eq!((l.service_date_from.as_str(), l.service_date_to.as_str()), ("2005-03-14", "2005-03-25"));
}
