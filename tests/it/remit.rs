//! 835 remittances: the reader on inline interchanges and on every file under
//! ../shared/data/x12/835 (ignored by default), and the loop on hand-made 837/835 pairs built
//! from the sample batch (tests/fixtures/remit). Expected values were read off the files by hand:
//! claim and line amounts, CAS, segment numbers and byte offsets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use claimlint::audit::AuditOptions;
use claimlint::remit::{self, codes, parse_835, reconcile::DenialOutcome, reconcile::FindingOutcome, rule, RemitOptions, Remittance};
use claimlint::rules::Sandbox;
use claimlint::vocab::Severity;

// ---------------------------------------------------------------- helpers

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 0.005
}

fn read(rel: &str) -> (Vec<u8>, String) {
    let path = crate::common::shared_data(&format!("x12/835/{rel}"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    (bytes, rel.to_string())
}

fn parse_ok(bytes: &[u8], name: &str) -> Remittance {
    parse_835(bytes, name).unwrap_or_else(|e| panic!("{name} should be read: {e}"))
}

fn shared(rel: &str) -> Remittance {
    let (bytes, name) = read(rel);
    parse_ok(&bytes, &name)
}

fn dump(r: &Remittance) -> String {
    r.problems.iter().map(|p| format!("  {p}\n")).collect()
}

fn statuses(r: &Remittance) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for c in r.claims() {
        *m.entry(c.status.clone()).or_insert(0) += 1;
    }
    m
}

fn carcs(r: &Remittance) -> BTreeSet<String> {
    r.claims().flat_map(|c| c.all_adjustments()).map(|a| a.code()).collect()
}

fn problems<'a>(r: &'a Remittance, rule_id: &str) -> Vec<&'a claimlint::remit::RemitProblem> {
    r.problems.iter().filter(|p| p.rule_id == rule_id).collect()
}

/// An interchange around `body` (segments joined with `~`), with a correct SE count.
fn interchange(body: &[&str]) -> Vec<u8> {
    let mut s = String::from("ISA*00*          *00*          *ZZ*PAYER          *ZZ*PROVIDER       *250402*0900*^*00501*000000001*0*P*:~GS*HP*PAYER*PROVIDER*20250402*0900*1*X*005010X221A1~ST*835*0001~");
    for seg in body {
        s.push_str(seg);
        s.push('~');
    }
    s.push_str(&format!("SE*{}*0001~GE*1*1~IEA*1*000000001~", body.len() + 2));
    s.into_bytes()
}

fn fixture(rel: &str) -> PathBuf {
    crate::common::repo_root().join("tests/fixtures/remit").join(rel)
}

fn remit_run(remittance: &str, claims: &str) -> claimlint::remit::RemitRun {
    let root = crate::common::repo_root();
    let opts = RemitOptions {
        remittances: vec![fixture(remittance)],
        audit: AuditOptions {
            inputs: vec![root.join(claims)],
            rules_dir: fixture("rules"),
            refdata: None,
            aliases: None,
            sandbox: Sandbox::default(),
            strict: false,
            peer_table: None,
            ..Default::default()
        },
    };
    remit::run(&opts).unwrap_or_else(|e| panic!("remit run failed: {e:#}"))
}

// ---------------------------------------------------------------- codes

#[test]
fn related_carcs_are_the_same_code_or_one_family() {
    assert!(codes::related("97", "97"));
    assert!(codes::related("97", "B15") && codes::related("236", "97"));
    assert!(codes::related("151", "119"));
    assert!(!codes::related("97", "151"));
    assert!(!codes::related("16", "97"), "CO-16 is a catch-all, related to nothing else");
}

#[test]
fn pricing_and_cost_sharing_are_not_denials() {
    for routine in ["1", "2", "3", "23", "42", "45", "A2", "253"] {
        assert!(!codes::is_denial(routine, 10.0), "{routine}");
    }
    assert!(codes::is_denial("97", 10.0) && codes::is_denial("16", 0.01));
    assert!(!codes::is_denial("97", -10.0) && !codes::is_denial("97", 0.0));
}

#[test]
fn code_shapes() {
    assert!(codes::valid_carc("45") && codes::valid_carc("B15") && codes::valid_carc("A2") && codes::valid_carc("251"));
    assert!(!codes::valid_carc("reason_code") && !codes::valid_carc("") && !codes::valid_carc("1234") && !codes::valid_carc("XXX"));
    assert!(codes::valid_rarc("N130") && codes::valid_rarc("MA02") && codes::valid_rarc("M25"));
    assert!(!codes::valid_rarc("code1") && !codes::valid_rarc("X999") && !codes::valid_rarc("N") && !codes::valid_rarc("remark_code1"));
    assert_eq!(remit::parse_amount("-42.58"), Some(-42.58));
    assert_eq!(remit::parse_amount("0000000000"), Some(0.0));
    for bad in ["amount", "1,000", "1e3", "", "-", ".", "1.2.3", "$5"] {
        assert_eq!(remit::parse_amount(bad), None, "{bad}");
    }
}

// ---------------------------------------------------------------- reader on inline interchanges

#[test]
fn a_claim_with_lines_adjustments_and_remarks_is_read() {
    let bytes = interchange(&[
        "BPR*I*90.00*C*ACH*CCP*01*1*DA*2*3**01*4*DA*5*20250402",
        "TRN*1*T1*3",
        "N1*PR*PAYER CO",
        "N1*PE*CLINIC*XX*1234567893",
        "LX*1",
        "CLP*C1*1*150.00*90.00*10.00*12*P1",
        "MOA***MA130",
        "DTM*050*20250310",
        "SVC*HC:99213:25:59*100.00*70.00**1",
        "DTM*472*20250301",
        "CAS*CO*45*20.00*1*97*0.00",
        "CAS*PR*2*10.00",
        "REF*6R*L1",
        "AMT*B6*80.00",
        "LQ*HE*N130",
        "SVC*HC:36415*50.00*20.00**2*HC:36416",
        "DTM*150*20250301",
        "DTM*151*20250302",
        "CAS*CO*97*30.00",
    ]);
    let r = parse_ok(&bytes, "inline");
    assert!(r.problems.is_empty(), "{}", dump(&r));
    let tx = &r.transactions[0];
    assert_eq!((tx.payment_amount, tx.payment_date.as_str(), tx.trace_number.as_str()), (Some(90.0), "2025-04-02", "T1"));
    assert_eq!((tx.payer.as_str(), tx.payee.as_str(), tx.version.as_str()), ("PAYER CO", "CLINIC", "005010X221A1"));
    let c = &tx.claims[0];
    assert_eq!((c.claim_id.as_str(), c.status.as_str(), c.billed, c.paid, c.patient_responsibility), ("C1", "1", 150.0, 90.0, Some(10.0)));
    assert_eq!(c.received_date, "2025-03-10");
    assert_eq!(c.remarks.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), ["MA130"]);
    let l = &c.lines[0];
    assert_eq!((l.procedure_code.as_str(), l.modifiers.clone()), ("99213", vec!["25".to_string(), "59".to_string()]));
    assert_eq!((l.billed, l.paid, l.units, l.allowed), (Some(100.0), Some(70.0), 1.0, Some(80.0)));
    assert_eq!(l.service_date, "2025-03-01");
    assert_eq!(l.control_number, "L1");
    let adj: Vec<(String, f64, Option<f64>)> = l.adjustments.iter().map(|a| (a.code(), a.amount, a.quantity)).collect();
    assert_eq!(adj, [("CO-45".into(), 20.0, Some(1.0)), ("CO-97".into(), 0.0, None), ("PR-2".into(), 10.0, None)]);
    assert_eq!(l.remarks[0].code, "N130");
    // SVC06 names the code the provider billed; the payer adjudicated another.
    let l2 = &c.lines[1];
    assert_eq!((l2.procedure_code.as_str(), l2.adjudicated_code.as_deref()), ("36416", Some("36415")));
    assert_eq!((l2.service_date.as_str(), l2.service_date_to.as_str(), l2.units), ("2025-03-01", "2025-03-02", 2.0));
    assert_eq!(l2.denials().map(|a| a.code()).collect::<Vec<_>>(), ["CO-97"]);
}

#[test]
fn an_unreadable_adjustment_costs_its_claim_only() {
    let bytes = interchange(&[
        "BPR*I*30.00*C*CHK************20250402",
        "CLP*BAD1*1*100.00*70.00**12",
        "CAS*CO*45*thirty",
        "CLP*GOOD*1*50.00*30.00**12",
        "CAS*CO*45*20.00",
    ]);
    let r = parse_ok(&bytes, "inline");
    assert_eq!(r.claims().map(|c| c.claim_id.as_str()).collect::<Vec<_>>(), ["GOOD"]);
    assert_eq!((r.clp_segments, r.claims_rejected()), (2, 1));
    let rejected = problems(&r, rule::CLAIM_REJECTED);
    assert_eq!(rejected.len(), 1, "{}", dump(&r));
    let p = rejected[0];
    // ISA 1, GS 2, ST 3, BPR 4, CLP 5, CAS 6.
    assert_eq!((p.claim_id.as_deref(), p.at.segment, p.segment_id.as_str()), (Some("BAD1"), 6, "CAS"));
    assert!(p.message.contains("CAS03 'thirty' is not an amount"), "{p}");
    assert_eq!(p.severity, Severity::Error);
    // BPR02 = 70 + 30 - 0 is 100, not 30: the rejected claim's CLP04 still counts.
    let unbalanced = problems(&r, rule::UNBALANCED);
    assert_eq!(unbalanced.len(), 1, "{}", dump(&r));
    assert!(unbalanced[0].message.contains("off by -70.00"), "{}", unbalanced[0]);
}

#[test]
fn claims_lines_and_payments_that_do_not_add_up_are_reported_where_they_are() {
    let bytes = interchange(&[
        "BPR*I*60.00*C*CHK************20250402",
        "CLP*C1*1*100.00*50.00**12",
        "SVC*HC:99213*100.00*50.00**1",
        "CAS*CO*45*40.00",
        "PLB*1234567893*20251231*WO:REF1*-5.00",
    ]);
    let r = parse_ok(&bytes, "inline");
    let u: Vec<(usize, &str, &str)> =
        problems(&r, rule::UNBALANCED).iter().map(|p| (p.at.segment, p.segment_id.as_str(), p.message.as_str())).collect();
    assert_eq!(u.len(), 3, "{}", dump(&r));
    assert_eq!((u[0].0, u[0].1), (4, "BPR"));
    assert!(u[0].2.contains("BPR02 60.00") && u[0].2.contains("give 55.00") && u[0].2.contains("off by 5.00"), "{}", u[0].2);
    assert_eq!((u[1].0, u[1].1), (5, "CLP"));
    assert!(u[1].2.contains("sum to 40.00 (off by 10.00)"), "{}", u[1].2);
    assert_eq!((u[2].0, u[2].1), (6, "SVC"));
    assert!(u[2].2.contains("service line 1"), "{}", u[2].2);
    let plb = &r.transactions[0].provider_adjustments[0];
    assert_eq!((plb.reason.as_str(), plb.reference.as_str(), plb.amount), ("WO", "REF1", -5.0));
}

#[test]
fn a_junk_segment_inside_a_claim_costs_the_claim_and_reading_goes_on() {
    let bytes = interchange(&[
        "BPR*I*80.00*C*CHK************20250402",
        "CLP*C1*1*100.00*50.00**12",
        "cas*CO*45*50.00",
        "CLP*C2*1*100.00*80.00**12",
        "CAS*CO*45*20.00",
    ]);
    let r = parse_ok(&bytes, "inline");
    assert_eq!(r.claims().map(|c| c.claim_id.as_str()).collect::<Vec<_>>(), ["C2"]);
    let p = &problems(&r, rule::CLAIM_REJECTED)[0];
    assert_eq!(p.claim_id.as_deref(), Some("C1"));
    assert!(p.message.contains("not a segment identifier"), "{p}");
}

#[test]
fn envelope_faults_are_warnings_with_their_positions() {
    let mut s = String::from_utf8(interchange(&["BPR*I*0*C*NON************20250402", "CLP*C1*4*10.00*0**12", "CAS*CO*16*10.00"])).unwrap();
    s = s.replace("SE*5*0001", "SE*9*0002").replace("GE*1*1", "GE*2*1").replace("IEA*1*000000001", "IEA*1*000000009");
    let r = parse_ok(s.as_bytes(), "inline");
    let w: Vec<String> = problems(&r, rule::STRUCTURE).iter().map(|p| format!("{} {}", p.at.segment, p.message)).collect();
    assert!(w.iter().any(|m| m.starts_with("7 SE01 says 9 segments but the transaction set has 5")), "{w:?}");
    assert!(w.iter().any(|m| m.starts_with("7 SE02 0002 does not match ST02 0001")), "{w:?}");
    assert!(w.iter().any(|m| m.starts_with("8 GE01 says 2")), "{w:?}");
    assert!(w.iter().any(|m| m.starts_with("9 IEA02 000000009 does not match ISA13 000000001")), "{w:?}");
    assert_eq!(r.claims().count(), 1, "envelope faults cost nothing");
}

#[test]
fn an_envelope_less_unpadded_or_leading_terminator_file_is_repaired_and_positions_stay_true() {
    // No ISA/GS: starts at ST, '>' inside SVC01.
    let st = b"ST*835*1~BPR*I*5*C*CHK************20250402~CLP*A*1*10*5**12~SVC*HC>99213*10*5**1~CAS*CO*45*5~SE*6*1~";
    let r = parse_ok(st, "bare");
    let c = r.claims().next().expect("claim read");
    assert_eq!((c.claim_id.as_str(), c.lines[0].procedure_code.as_str()), ("A", "99213"));
    assert_eq!(c.at.segment, 3, "segments are numbered from the ST");
    assert_eq!(c.at.byte, st.windows(3).position(|w| w == b"CLP").unwrap());
    assert!(r.problems.iter().any(|p| p.message.contains("no ISA/GS envelope")), "{}", dump(&r));
    assert!(r.balances(), "{}", dump(&r));

    // ISA elements not padded to their widths.
    let unpadded = b"ISA*00* *00* *ZZ*P *ZZ*Q*250402*0900*^*00501*1*0*P*:~GS*HP*P*Q*20250402*0900*1*X*005010X221A1~ST*835*1~BPR*I*5*C*CHK************20250402~CLP*A*1*10*5**12~CAS*CO*45*5~SE*5*1~GE*1*1~IEA*1*1~";
    let r = parse_ok(unpadded, "unpadded");
    let c = r.claims().next().expect("claim read");
    assert_eq!((c.at.segment, c.at.byte), (5, unpadded.windows(3).position(|w| w == b"CLP").unwrap()));
    assert!(r.problems.iter().any(|p| p.message.contains("not padded")), "{}", dump(&r));

    // A line break after ISA16 and the terminator at the start of each later line.
    let leading = "ISA|00|          |00|          |ZZ|P              |ZZ|Q              |250402|0900|U|00401|000000001|0|P|^\n~GS|HP|P|Q|20250402|0900|1|X|004010X091A1\n~ST|835|1\n~BPR|I|5|C|CHK||||||||||||20250402\n~CLP|A|1|10|5||12\n~SVC|HC^99213|10|5||1\n~CAS|CO|45|5\n~SE|6|1\n~GE|1|1\n~IEA|1|000000001\n";
    let r = parse_ok(leading.as_bytes(), "leading");
    let c = r.claims().next().expect("claim read");
    assert_eq!((c.at.segment, c.at.line, c.at.byte), (5, 5, leading.find("CLP").unwrap()));
    assert_eq!(c.lines[0].procedure_code, "99213");
    assert_eq!(r.version, "004010X091A1");
    assert!(r.problems.iter().any(|p| p.severity == Severity::Info && p.message.contains("4010")), "{}", dump(&r));
    assert!(problems(&r, rule::STRUCTURE).iter().all(|p| !p.message.contains("SE01")), "{}", dump(&r));
}

#[test]
fn files_that_are_not_835s_are_refused_with_the_reason() {
    let bytes = std::fs::read(crate::common::repo_root().join("samples/claims_837p.txt")).unwrap();
    let e = parse_835(&bytes, "claims_837p.txt").expect_err("an 837 is not a remittance");
    assert!(e.to_string().contains("not an 835 remittance: its transaction set is 837"), "{e}");
    assert_eq!(e.segment_number, 3);
    let e = parse_835(b"NOT X12 AT ALL", "junk").expect_err("no ISA");
    assert!(e.to_string().contains("does not start with an ISA"), "{e}");
    let e = parse_835(b"ISA*00*short~", "short").expect_err("broken ISA");
    assert_eq!(e.segment_number, 1, "{e}");
}

// ---------------------------------------------------------------- the loop on a hand-made 837/835 pair

/// tests/fixtures/remit/lakeside.835 answers the four claims of samples/claims_837p.txt (plus
/// one claim the batch does not have); the fixture rules carry `denial:` blocks.
#[test]
fn the_loop_names_predicted_missed_and_unenforced_denials() {
    let run = remit_run("lakeside.835", "samples/claims_837p.txt");
    let r = &run.remittances[0];
    assert!(r.problems.is_empty(), "the fixture remittance is clean:\n{}", dump(r));
    assert_eq!((run.matching.claims.len(), run.matching.matched_claims()), (5, 4));
    assert!(run.matching.unremitted.is_empty());

    // 85025-91 pairs with the 85025 billed without modifier; 99000 is not on the claim.
    let lfm4 = run.matching.claims.iter().find(|m| m.audited_claim.as_deref() == Some("LFM24004")).unwrap();
    let kinds: Vec<&str> = lfm4.lines.iter().map(|l| l.kind.as_str()).collect();
    assert_eq!(kinds, ["exact", "exact", "exact", "modifiers differ", "unmatched"]);
    let line_numbers: Vec<Option<i64>> = lfm4.lines.iter().map(|l| l.audited.and_then(|i| run.claims.lines[i].line_number)).collect();
    assert_eq!(line_numbers, [Some(1), Some(2), Some(3), Some(4), None]);

    // (claim, remit line, code, amount, outcome, predicted by).
    type DenialRow<'a> = (&'a str, Option<usize>, &'a str, f64, DenialOutcome, String);
    let d: Vec<DenialRow> = run
        .outcome
        .denials
        .iter()
        .map(|d| (d.claim_id.as_str(), d.remit_line, d.code.as_str(), d.amount, d.outcome, d.predicted_by.join(",")))
        .collect();
    assert_eq!(
        d,
        [
            ("LFM24001", Some(2), "CO-97", 15.0, DenialOutcome::Predicted, "T-BUNDLED-VENIPUNCTURE".into()),
            ("LFM24001", Some(3), "CO-16", 48.0, DenialOutcome::Missed, String::new()),
            ("LFM24003", Some(2), "CO-197", 420.0, DenialOutcome::Predicted, "T-HIGH-CHARGE".into()),
            ("LFM24004", Some(3), "CO-119", 20.0, DenialOutcome::Predicted, "T-DRUG-UNITS".into()),
            ("LFM24004", Some(5), "CO-234", 10.0, DenialOutcome::Unmatched, String::new()),
            ("LFM29999", None, "CO-29", 75.0, DenialOutcome::Unmatched, String::new()),
        ]
    );
    assert_eq!(run.outcome.denials[2].other_rules, ["T-ADDON-REVIEW"], "the add-on rule flagged the line but declares no CARC");
    assert_eq!(run.outcome.denials[3].rarcs, ["N362"]);

    let mut f: Vec<(&str, &str, Option<i64>, FindingOutcome)> =
        run.outcome.findings.iter().map(|f| (f.rule_id.as_str(), f.claim_id.as_str(), f.line_number, f.outcome)).collect();
    f.sort_by(|a, b| (a.1, a.2, a.0).cmp(&(b.1, b.2, b.0)));
    assert_eq!(
        f,
        [
            ("T-BUNDLED-VENIPUNCTURE", "LFM24001", Some(2), FindingOutcome::Predicted),
            ("T-MODIFIER-25", "LFM24002", Some(1), FindingOutcome::PaidAnyway),
            ("T-HIGH-CHARGE", "LFM24003", None, FindingOutcome::Predicted),
            ("T-ADDON-REVIEW", "LFM24003", Some(2), FindingOutcome::DeniedOtherReason),
            ("T-MODIFIER-25", "LFM24004", Some(1), FindingOutcome::PaidAnyway),
            ("T-DRUG-UNITS", "LFM24004", Some(3), FindingOutcome::Predicted),
        ]
    );

    let t = &run.outcome.totals;
    assert_eq!((t.denials, t.predicted, t.missed, t.unmatched), (6, 3, 1, 2));
    assert!(close(t.denied_amount, 588.0) && close(t.predicted_amount, 455.0) && close(t.missed_amount, 48.0) && close(t.unmatched_amount, 85.0));
    assert_eq!((t.findings_predicted, t.paid_anyway, t.other_reason), (3, 2, 1));
    assert!(close(t.paid_anyway_amount, 180.0), "paid 80 on LFM24002 line 1 and 100 on LFM24004 line 1");

    let carc: Vec<(&str, usize, usize, usize)> = run.outcome.by_carc.iter().map(|c| (c.code.as_str(), c.denials, c.predicted, c.missed)).collect();
    assert_eq!(carc[0], ("CO-16", 1, 0, 1), "the largest missed amount comes first: {carc:?}");
    let co119 = run.outcome.by_carc.iter().find(|c| c.code == "CO-119").unwrap();
    assert_eq!(co119.declared_by, ["T-DRUG-UNITS"], "151 and 119 are one family");
    let rule = |id: &str| run.outcome.by_rule.iter().find(|r| r.rule_id == id).unwrap();
    assert_eq!((rule("T-MODIFIER-25").findings, rule("T-MODIFIER-25").paid_anyway), (2, 2));
    assert_eq!(rule("T-MODIFIER-25").declared, "CO-4");
    assert!(close(rule("T-HIGH-CHARGE").predicted_amount, 420.0));
    assert_eq!(rule("T-ADDON-REVIEW").declared, "");

    let p = &run.posting;
    assert!(close(p.billed, 260.0 + 165.0 + 1200.0 + 267.0 + 75.0) && close(p.paid, 1000.0), "{} {}", p.billed, p.paid);
    assert!(close(p.patient_responsibility, 40.0) && close(p.provider_adjustments, 10.0) && close(p.payments, 990.0));
    assert!(close(p.adjusted, 1967.0 - 1000.0 - 40.0), "everything but PR: {}", p.adjusted);
    // Only LFM24002 has a received date (its DTM*050); the 837 carries none.
    assert_eq!(p.days.rows.len(), 1);
    let days = &p.days.rows[0];
    assert_eq!((days.claim_id.as_str(), days.received_from, days.days), ("LFM24002", "835 DTM*050", 23));
}

#[test]
fn posting_uses_the_claims_received_dates_and_leaves_reversals_out() {
    let run = remit_run("sample_batch.835", "samples/claims.csv");
    let r = &run.remittances[0];
    assert!(r.problems.is_empty(), "{}", dump(r));
    assert_eq!(run.matching.matched_claims(), 5);
    assert_eq!(run.matching.unremitted.len(), 151 - 4);
    let days: Vec<(&str, &str, i64)> = run.posting.days.rows.iter().map(|d| (d.claim_id.as_str(), d.received_from, d.days)).collect();
    assert_eq!(days, [("CLM00124", "claims", 30), ("CLM00125", "claims", 23), ("CLM00001", "claims", 14), ("CLM00002", "claims", 44)]);
    assert_eq!(run.posting.days.median, Some(26.5));
    let buckets: Vec<usize> = run.posting.days.buckets.iter().map(|b| b.claims).collect();
    assert_eq!(buckets, [1, 2, 1, 0, 0]);
    let p = &run.posting;
    assert!(close(p.billed, 1297.0) && close(p.paid, 680.0) && close(p.patient_responsibility, 120.0) && close(p.adjusted, 497.0));
    let reversal = p.by_status.iter().find(|s| s.status == "22").unwrap();
    assert!(reversal.claims == 1 && close(reversal.paid, -150.0));
    // No fixture rule flags CLM00124 or CLM00125: both denials are missed, the larger first.
    let missed: Vec<(&str, f64)> = run.outcome.by_carc.iter().map(|c| (c.code.as_str(), c.missed_amount)).collect();
    assert_eq!(missed, [("CO-151", 225.0), ("CO-97", 30.0)]);
    // The reversal's negative adjustments are not denials.
    assert_eq!(run.outcome.totals.denials, 2);
}

#[test]
fn the_report_and_tables_name_the_loop() {
    let run = remit_run("lakeside.835", "samples/claims_837p.txt");
    let env = claimlint::report::environment(None).unwrap();
    let html = claimlint::report::render_remit(&run, &env).unwrap();
    for needle in [
        "Denials by reason code",
        "T-BUNDLED-VENIPUNCTURE",
        "CO-16",
        "missed",
        "predicted",
        "paid anyway",
        "LFM29999",
        "remittance claim not in the claims",
        "class=\"sortable\"",
        "class=\"filter\"",
    ] {
        assert!(html.contains(needle), "remit.html lacks {needle:?}");
    }
    assert!(!html.contains("http://") && !html.contains("https://") && !html.contains("<link"), "the page must be self-contained");

    let dir = tempfile::tempdir().unwrap();
    let written = remit::output::write_all(&run, dir.path()).unwrap();
    assert_eq!(written.len(), 7);
    let csv = std::fs::read_to_string(dir.path().join("remit.csv")).unwrap();
    let header = csv.lines().next().unwrap();
    assert!(header.starts_with("source,transaction,payment_date,claim_id,status,level,procedure_code"), "{header}");
    assert_eq!(csv.lines().count(), 1 + 5 + 4 + 2 + 2 + 5, "a row per claim and per service line");
    let venipuncture = csv.lines().find(|l| l.contains(",line,36415,")).unwrap();
    assert!(
        venipuncture.contains("CO-97 15.00") && venipuncture.contains("T-BUNDLED-VENIPUNCTURE") && venipuncture.contains("denied: predicted"),
        "{venipuncture}"
    );
    let carc = std::fs::read_to_string(dir.path().join("remit_carc.csv")).unwrap();
    assert!(carc.lines().nth(1).unwrap().starts_with("CO-16,"), "{carc}");
    let unmatched = std::fs::read_to_string(dir.path().join("remit_unmatched.csv")).unwrap();
    assert_eq!(unmatched.lines().count(), 3, "LFM29999 and the 99000 line:\n{unmatched}");
}

// ---------------------------------------------------------------- every real 835 in ../shared

/// The facts of the README table in ../shared/data: CLP segments, the statuses and CARCs of the
/// claims read, claims rejected, and whether everything balances.
struct Fact {
    file: &'static str,
    clp: usize,
    rejected: usize,
    statuses: &'static [(&'static str, usize)],
    carcs: &'static [&'static str],
    balances: bool,
}

const FACTS: &[Fact] = &[
    Fact { file: "linuxforhealth/medicare-part-a.835", clp: 2, rejected: 0, statuses: &[("1", 2)], carcs: &["CO-45"], balances: true },
    Fact { file: "linuxforhealth/managed-care.835", clp: 2, rejected: 0, statuses: &[("1", 2)], carcs: &["CO-45", "CO-A2", "PR-1"], balances: true },
    Fact {
        file: "linuxforhealth/secondary-payment.835",
        clp: 2,
        rejected: 0,
        statuses: &[("2", 2)],
        carcs: &["CO-42", "OA-23", "PR-1", "PR-2"],
        balances: true,
    },
    Fact { file: "linuxforhealth/tertiary-payment.835", clp: 1, rejected: 0, statuses: &[("3", 1)], carcs: &["OA-23"], balances: false },
    Fact {
        file: "linuxforhealth/cob-contractural-adjustment.835",
        clp: 1,
        rejected: 0,
        statuses: &[("2", 1)],
        carcs: &["OA-23", "OA-94"],
        balances: true,
    },
    Fact { file: "mjkubba/edi835-demo-005010X221.edi", clp: 1, rejected: 0, statuses: &[("1", 1)], carcs: &["CO-45", "OA-23"], balances: false },
    Fact { file: "azoner/835_mult_loops.txt", clp: 1, rejected: 0, statuses: &[("4", 1)], carcs: &["CO-16", "OA-A7"], balances: true },
    Fact {
        file: "keironstoddart/blue_cross_nc_sample.txt",
        clp: 1,
        rejected: 0,
        statuses: &[("1", 1)],
        carcs: &["CO-42", "PR-2", "PR-3"],
        balances: false,
    },
    Fact {
        file: "keironstoddart/emedny_sample.txt",
        clp: 3,
        rejected: 0,
        statuses: &[("1", 1), ("2", 2)],
        carcs: &["CO-251", "CO-29"],
        balances: true,
    },
    Fact {
        file: "keironstoddart/united_healthcare_legacy_sample.txt",
        clp: 2,
        rejected: 0,
        statuses: &[("1", 2)],
        carcs: &["CO-45", "PR-1", "PR-2"],
        balances: true,
    },
    Fact {
        file: "affect-therapeutics/nevada_medicaid.txt",
        clp: 3,
        rejected: 0,
        statuses: &[("2", 1), ("4", 2)],
        carcs: &["CO-26", "OA-147", "OA-176"],
        balances: true,
    },
    // Every value is masked: the CAS reason "XXX" is no CARC, so the one claim is rejected.
    Fact { file: "affect-therapeutics/exhaustive_sample.txt", clp: 1, rejected: 1, statuses: &[], carcs: &[], balances: true },
    // The first two claims carry the template `CAS*grp_code*reason_code*amount*quantity`; PR-2
    // and PR-23 occur only in them.
    Fact {
        file: "affect-therapeutics/sample_835.txt",
        clp: 6,
        rejected: 2,
        statuses: &[("1", 1), ("2", 3)],
        carcs: &["CO-45", "OA-23", "PR-3"],
        balances: false,
    },
    Fact {
        file: "affect-therapeutics/sample_835_with_interests.txt",
        clp: 6,
        rejected: 2,
        statuses: &[("1", 1), ("2", 3)],
        carcs: &["CO-45", "OA-23", "PR-3"],
        balances: false,
    },
    Fact {
        file: "tastypackets/multi-line-not-delimited.edi",
        clp: 3,
        rejected: 0,
        statuses: &[("1", 1), ("2", 2)],
        carcs: &["CO-251", "CO-29"],
        balances: true,
    },
    Fact {
        file: "tastypackets/profee-multiple.edi",
        clp: 468,
        rejected: 0,
        statuses: &[("1", 156), ("2", 312)],
        carcs: &["CO-251", "CO-29"],
        balances: true,
    },
    // The last claim is truncated to `CLP*090909*22`.
    Fact {
        file: "inteligenz/Example1.txt",
        clp: 10,
        rejected: 1,
        statuses: &[("1", 2), ("2", 1), ("22", 2), ("25", 1), ("4", 3)],
        carcs: &["CO-29", "CO-42", "CR-141", "CR-18", "CR-22", "CR-42", "OA-141", "OA-22", "OA-23", "PI-104", "PR-2"],
        balances: false,
    },
    Fact {
        file: "inteligenz/835_WithMultipleInterchanges.txt",
        clp: 56,
        rejected: 0,
        statuses: &[("1", 39), ("2", 1), ("4", 16)],
        carcs: &["CO-16", "CO-165", "CO-204", "CO-23", "CO-24", "CO-29", "CO-45", "CO-59"],
        balances: false,
    },
    Fact {
        file: "inteligenz/835_DeIdent_01.dat",
        clp: 96,
        rejected: 0,
        statuses: &[("1", 51), ("2", 26), ("22", 19)],
        carcs: &["CO-45", "CO-59", "CO-97", "CR-31", "OA-18", "OA-23", "PR-1", "PR-16", "PR-2", "PR-3"],
        balances: false,
    },
    Fact {
        file: "inteligenz/835_DeIdent_02.dat",
        clp: 375,
        rejected: 0,
        statuses: &[("1", 73), ("19", 292), ("2", 1), ("22", 8), ("4", 1)],
        carcs: &[
            "CO-107", "CO-151", "CO-16", "CO-4", "CO-45", "CO-50", "CO-59", "CO-96", "CO-97", "CR-1", "CR-18", "CR-2", "CR-45", "CR-50", "OA-23",
            "PR-1", "PR-2", "PR-23",
        ],
        balances: false,
    },
    Fact { file: "slott56/835-example.txt", clp: 2, rejected: 0, statuses: &[("1", 2)], carcs: &["CO-45", "PR-1"], balances: false },
    Fact { file: "slott56/835-example-2.txt", clp: 2, rejected: 0, statuses: &[("1", 2)], carcs: &["CO-45", "PR-1"], balances: false },
    Fact { file: "chs-cds-aiml/test.835", clp: 1, rejected: 0, statuses: &[("1", 1)], carcs: &["CO-45", "PR-2"], balances: false },
];

#[test]
#[ignore = "needs ../shared/data (x12/835)"]
fn every_shared_835_is_read_with_the_facts_of_the_readme() {
    let dir = crate::common::shared_data("x12/835");
    let found = remit::discover(&[dir]).unwrap();
    assert_eq!(found.len(), FACTS.len(), "one fact per 835 file (LICENSE files are not X12): {found:?}");
    for f in FACTS {
        let r = shared(f.file);
        let what = format!("{}\n{}", f.file, dump(&r));
        assert_eq!(r.clp_segments, f.clp, "CLP segments in {what}");
        assert_eq!(r.claims_rejected(), f.rejected, "claims rejected in {what}");
        let want: BTreeMap<String, usize> = f.statuses.iter().map(|(s, n)| (s.to_string(), *n)).collect();
        assert_eq!(statuses(&r), want, "statuses in {what}");
        let want: BTreeSet<String> = f.carcs.iter().map(|c| c.to_string()).collect();
        assert_eq!(carcs(&r), want, "CARCs in {what}");
        assert_eq!(r.balances(), f.balances, "balances in {what}");
    }
}

#[test]
#[ignore = "needs ../shared/data (x12/835)"]
fn amounts_and_adjustments_match_the_files() {
    // managed-care: two claims with claim-level CO-A2 and line-level PR-1 / CO-45.
    let r = shared("linuxforhealth/managed-care.835");
    let c: Vec<_> = r.claims().collect();
    assert_eq!((c[0].claim_id.as_str(), c[0].billed, c[0].paid, c[0].patient_responsibility), ("5554555444", 800.0, 450.0, Some(300.0)));
    assert_eq!(c[0].adjustments.iter().map(|a| (a.code(), a.amount)).collect::<Vec<_>>(), [("CO-A2".to_string(), 50.0)]);
    assert_eq!((c[0].lines[0].procedure_code.as_str(), c[0].lines[0].billed, c[0].lines[0].paid), ("99211", Some(800.0), Some(500.0)));
    assert_eq!(
        c[1].lines[0].adjustments.iter().map(|a| (a.code(), a.amount)).collect::<Vec<_>>(),
        [("PR-1".to_string(), 600.0), ("CO-45".to_string(), 50.0)]
    );
    assert_eq!((r.transactions[0].payment_amount, r.transactions[0].payment_date.as_str()), (Some(945.0), "2002-03-14"));

    // secondary-payment: a claim with no service lines, and one CAS with two reasons.
    let r = shared("linuxforhealth/secondary-payment.835");
    let c: Vec<_> = r.claims().collect();
    assert!(c[0].lines.is_empty());
    assert_eq!((c[0].billed, c[0].paid), (10323.64, 912.0));
    let pr: Vec<(String, f64)> = c[1].lines[1].adjustments.iter().map(|a| (a.code(), a.amount)).collect();
    assert_eq!(pr, [("PR-1".into(), 150.0), ("PR-2".into(), 70.0), ("CO-42".into(), 85.0)]);
    assert_eq!(c[1].lines[1].modifiers, ["26"], "SVC01 written with '>' although ISA16 is ':'");

    // medicare-part-a: MIA and MOA remarks, and the PLB.
    let r = shared("linuxforhealth/medicare-part-a.835");
    let tx = &r.transactions[0];
    assert_eq!(tx.claims[1].remarks.iter().map(|x| (x.code.as_str(), x.segment.as_str())).collect::<Vec<_>>(), [("MA02", "MOA")]);
    let plb = &tx.provider_adjustments[0];
    assert_eq!((plb.reason.as_str(), plb.reference.as_str(), plb.amount, plb.fiscal_period.as_str()), ("CV", "CP", -1.27, "2002-12-31"));
    assert!(close(tx.clp_paid_total, 138018.40 + 11980.33));

    // nevada: three sets, the third holds only a PLB with six adjustments netting -1812.27.
    let r = shared("affect-therapeutics/nevada_medicaid.txt");
    assert_eq!(r.transactions.len(), 3);
    let plb = &r.transactions[2].provider_adjustments;
    assert_eq!(plb.iter().map(|p| p.reason.as_str()).collect::<Vec<_>>(), ["CT", "CT", "CS", "CS", "CS", "CS"]);
    assert!(close(plb.iter().map(|p| p.amount).sum::<f64>(), -1812.27));
    assert!(r.problems.iter().any(|p| p.message.contains("not padded")), "{}", dump(&r));
    assert!(r.problems.iter().any(|p| p.message.contains("IEA02 100000301 does not match ISA13 100000300")), "{}", dump(&r));

    // Example1 (4010): reversals carry negative amounts; the truncated CLP is rejected.
    let r = shared("inteligenz/Example1.txt");
    assert_eq!(r.version, "004010X091A1");
    let rev: Vec<(&str, f64, f64)> = r.claims().filter(|c| c.status == "22").map(|c| (c.claim_id.as_str(), c.billed, c.paid)).collect();
    assert_eq!(rev, [("123456", -42.58, -42.58), ("090909", -86.76, -86.76)]);
    let rejected = problems(&r, rule::CLAIM_REJECTED);
    assert_eq!((rejected[0].at.segment, rejected[0].at.byte, rejected[0].at.line), (98, 3834, 98));
    assert!(rejected[0].message.contains("CLP03 (total charge) is missing"), "{}", rejected[0]);
    assert!(r.problems.iter().any(|p| p.message.contains("GS08 '5010'")), "{}", dump(&r));

    // United Healthcare: '>' is ISA16 here, one CAS with two reasons.
    let r = shared("keironstoddart/united_healthcare_legacy_sample.txt");
    let l = &r.claims().nth(1).unwrap().lines[2];
    assert_eq!((l.procedure_code.as_str(), l.units), ("B4154", 178.0));
    assert_eq!(
        l.adjustments.iter().map(|a| (a.code(), a.amount, a.quantity)).collect::<Vec<_>>(),
        [("PR-2".into(), 5.13, None), ("PR-1".into(), 110.0, None), ("CO-45".into(), 184.32, None)]
    );

    // blue_cross: no envelope; SVC06 gives the billed code; the third line's amounts are not
    // in SVC02/SVC03.
    let r = shared("keironstoddart/blue_cross_nc_sample.txt");
    let c = r.claims().next().unwrap();
    assert_eq!((c.lines[0].procedure_code.as_str(), c.lines[0].adjudicated_code.as_deref()), ("59410", Some("59430")));
    assert_eq!((c.lines[2].billed, c.lines[2].paid), (None, None));
    assert_eq!(c.received_date, "2011-01-03");

    // slott56: pipes, '^' components, and the terminator at the start of each line.
    let r = shared("slott56/835-example.txt");
    let c: Vec<_> = r.claims().collect();
    assert_eq!((c[1].claim_id.as_str(), c[1].billed, c[1].paid), ("001-SSSSSSSSSS", 23276.56, 12000.65));
    assert_eq!(c[1].lines[0].procedure_code, "88888");
    assert_eq!(c[1].lines[0].remarks.iter().map(|x| x.code.as_str()).collect::<Vec<_>>(), ["N220", "M68"]);
    assert_eq!(r.transactions[0].provider_adjustments[0].reason, "WO");

    // profee-multiple: 156 interchanges of three claims each.
    let r = shared("tastypackets/profee-multiple.edi");
    assert_eq!(r.transactions.len(), 156);
    assert!(close(r.claims().map(|c| c.paid).sum::<f64>(), 156.0 * (34.25 + 0.0 + 11.5)));
}

#[test]
#[ignore = "needs ../shared/data (x12/835)"]
fn files_that_do_not_balance_are_reported_at_the_segment() {
    // chs test.835: the claim-level PR-2 repeats the line-level adjustments.
    let r = shared("chs-cds-aiml/test.835");
    let u = problems(&r, rule::UNBALANCED);
    assert_eq!(u.len(), 1, "{}", dump(&r));
    assert_eq!((u[0].at.segment, u[0].at.byte, u[0].at.line, u[0].segment_id.as_str()), (8, 373, 8, "CLP"));
    assert!(u[0].message.contains("off by -499.50"), "{}", u[0]);
    assert!(
        r.problems.iter().any(|p| p.at.segment == 18 && p.message.contains("SE01 says 17 segments but the transaction set has 16")),
        "{}",
        dump(&r)
    );

    // tertiary: SVC01 is mangled, so the line does not balance; the claim does.
    let r = shared("linuxforhealth/tertiary-payment.835");
    let u = problems(&r, rule::UNBALANCED);
    assert_eq!(u.len(), 1, "{}", dump(&r));
    assert_eq!((u[0].at.segment, u[0].at.byte, u[0].segment_id.as_str()), (20, 614, "SVC"));
    assert!(u[0].message.contains("SVC02 24599.00 − SVC03 1766.50"), "{}", u[0]);

    // mjkubba: claim (OA-23 400 on top of CO-45) and BPR02 both off; SE01 says 31 of 32.
    let r = shared("mjkubba/edi835-demo-005010X221.edi");
    let u: Vec<(usize, &str)> = problems(&r, rule::UNBALANCED).iter().map(|p| (p.at.segment, p.segment_id.as_str())).collect();
    assert_eq!(u, [(4, "BPR"), (20, "CLP")], "{}", dump(&r));
    assert!(problems(&r, rule::UNBALANCED)[0].message.contains("give 138019.67 (off by 11980.33)"), "{}", dump(&r));
    assert!(
        r.problems.iter().any(|p| p.at.segment == 34 && p.message.contains("SE01 says 31 segments but the transaction set has 32")),
        "{}",
        dump(&r)
    );

    // blue_cross: the third line cannot be balanced; SE01 says 33 of 32 (no envelope: ST is 1).
    let r = shared("keironstoddart/blue_cross_nc_sample.txt");
    let u = problems(&r, rule::UNBALANCED);
    assert_eq!(u.len(), 1, "{}", dump(&r));
    assert_eq!((u[0].at.segment, u[0].at.byte), (28, 623));
    assert!(u[0].message.contains("SVC02 (charge) is empty"), "{}", u[0]);
    assert!(
        r.problems.iter().any(|p| p.at.segment == 32 && p.message.contains("SE01 says 33 segments but the transaction set has 32")),
        "{}",
        dump(&r)
    );

    // Example1: BPR02 leaves out the PLB of -1.27.
    let r = shared("inteligenz/Example1.txt");
    let u = problems(&r, rule::UNBALANCED);
    assert_eq!(u.len(), 1, "{}", dump(&r));
    assert_eq!((u[0].at.segment, u[0].segment_id.as_str()), (4, "BPR"));
    assert!(
        u[0].message.contains("BPR02 5.75")
            && u[0].message.contains("off by -1.27")
            && u[0].message.contains("1 CLP04 or PLB amount(s) could not be read"),
        "{}",
        u[0]
    );

    // sample_835: the templated claims are rejected at their CAS; the first BPR is off by the
    // PLB of 5.00 and the second set's PLB has no amount.
    let r = shared("affect-therapeutics/sample_835.txt");
    let rejected: Vec<(usize, Option<&str>)> = problems(&r, rule::CLAIM_REJECTED).iter().map(|p| (p.at.segment, p.claim_id.as_deref())).collect();
    assert_eq!(rejected, [(23, Some("patient_control_number0")), (38, Some("patient_control_number1"))]);
    let u = problems(&r, rule::UNBALANCED);
    assert_eq!(u.len(), 1, "{}", dump(&r));
    assert_eq!((u[0].at.segment, u[0].at.byte), (4, 171));
    let plb = problems(&r, rule::ADJUSTMENT_REJECTED);
    assert_eq!(plb.iter().map(|p| p.at.segment).collect::<Vec<_>>(), [162], "{}", dump(&r));

    // slott56 example 2: GE01 says 1 of 2 sets; only the first BPR is off.
    let r = shared("slott56/835-example-2.txt");
    assert!(r.problems.iter().any(|p| p.message.contains("GE01 says 1 transaction sets but the group")), "{}", dump(&r));
    assert_eq!(problems(&r, rule::UNBALANCED).len(), 1, "{}", dump(&r));
}

#[test]
#[ignore = "needs ../shared/data (x12/835 and codes/rarc_codes.csv)"]
fn remark_codes_read_from_the_files_are_real_rarcs() {
    let list = std::fs::read_to_string(crate::common::shared_data("codes/rarc_codes.csv")).unwrap();
    let known: BTreeSet<&str> = list.lines().skip(1).map(str::trim).collect();
    let mut checked = 0;
    for f in FACTS {
        let r = shared(f.file);
        for c in r.claims() {
            for x in c.remarks.iter().chain(c.lines.iter().flat_map(|l| l.remarks.iter())).filter(|x| x.valid && x.segment != "LQ-RX") {
                assert!(known.contains(x.code.as_str()), "{}: {} ({}) is shaped like a RARC but not on the list", f.file, x.code, x.segment);
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} remark codes checked");
}

/// Every prefix and many single-byte damages of a remittance are read or refused, never a panic.
fn assert_never_panics(bytes: &[u8], name: &str, cuts: usize) {
    let step = (bytes.len() / cuts).max(1);
    for cut in (0..bytes.len()).step_by(step) {
        let _ = parse_835(&bytes[..cut], name);
        for damage in [b'~', b'*', b':', b'X', b'\n', b'-', b'.'] {
            let mut b = bytes.to_vec();
            b[cut] = damage;
            let _ = parse_835(&b, name);
        }
    }
}

#[test]
fn truncated_or_damaged_remittances_never_panic() {
    let bytes = std::fs::read(fixture("lakeside.835")).unwrap();
    assert_never_panics(&bytes, "lakeside.835", 400);
}

#[test]
#[ignore = "needs ../shared/data (x12/835)"]
fn truncated_or_damaged_shared_remittances_never_panic() {
    for f in FACTS.iter().filter(|f| !f.file.contains("profee") && !f.file.contains("DeIdent_02")) {
        let (bytes, name) = read(f.file);
        assert_never_panics(&bytes, &name, 40);
    }
}
