//! The shipped sample batch: every planted problem is caught, and nothing else is flagged.
use crate::common::repo_root;
use crate::support::audit;

#[test]
fn the_sample_audit_catches_every_planted_problem_and_nothing_else() {
    let r = audit(&[repo_root().join("samples/claims.csv")], &repo_root().join("rules"));
    let planted = std::fs::read_to_string(repo_root().join("samples/planted.csv")).unwrap();
    let mut planted_claims = std::collections::HashSet::new();
    for row in planted.lines().skip(1) {
        let cells: Vec<&str> = row.splitn(4, ',').collect();
        let (claim, line, rule) = (cells[0], cells[1], cells[2]);
        if let Some(npi) = claim.strip_prefix("provider:") {
            // A provider-level finding names the provider and no claim.
            assert!(
                r.findings.iter().any(|f| f.is_provider_level() && f.provider_npi == npi && f.rule_id == rule),
                "planted provider problem not caught: {row}"
            );
            continue;
        }
        planted_claims.insert(claim.to_string());
        let line: Option<i64> = line.parse().ok();
        assert!(
            r.findings.iter().any(|f| f.claim_id == claim && f.rule_id == rule && (line.is_none() || f.line_number == line)),
            "planted problem not caught: {row}"
        );
    }
    let stray: Vec<_> = r.findings.iter().filter(|f| !f.is_provider_level() && !planted_claims.contains(&f.claim_id)).collect();
    assert!(r.findings.iter().filter(|f| f.is_provider_level()).all(|f| planted.contains(&format!("provider:{},", f.provider_npi))));
    assert_eq!(r.totals.provider_findings, 1);
    assert!(stray.is_empty(), "findings on claims with nothing planted: {stray:#?}");
    assert_eq!(r.totals.claims, 151);
    // Info findings do not make a claim unclean: the FED-ADDON-CONTRACTOR claim has only an info.
    let info_only = planted.lines().skip(1).filter(|row| row.contains(",FED-ADDON-CONTRACTOR,")).count();
    assert_eq!(r.totals.claims_with_findings, planted_claims.len() - info_only);
}
