//! CLI behaviour as data files: tests/cmd/*.toml (args, exit code, stdout, stderr).
//! Regenerate expected output after an intended change with TRYCMD=overwrite, then review the diff.
#[test]
fn cli_cases() {
    trycmd::TestCases::new().register_bin("claimlint", std::path::Path::new(env!("CARGO_BIN_EXE_claimlint"))).case("tests/cmd/*.toml");
}
