//! CLI behaviour as data files: tests/cmd/*.toml (args, exit code, stdout, stderr).
//! Regenerate expected output after an intended change with TRYCMD=overwrite, then review the diff.
#[test]
fn cli_cases() {
    trycmd::TestCases::new().register_bin("claimlint", std::path::Path::new(env!("CARGO_BIN_EXE_claimlint"))).case("tests/cmd/*.toml");
}

#[test]
fn a_closed_stdout_ends_the_run_quietly() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_claimlint"))
        .args(["audit", "samples/claims.csv", "--show", "200"])
        .current_dir(crate::common::repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the first line is written
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(status.code(), Some(141));
}

#[test]
fn every_command_that_prints_stops_with_141_on_a_closed_pipe() {
    use std::process::{Command, Stdio};
    for args in [&["rules", "list"][..], &["schema"], &["rules", "explain", "FED-MUE"], &["rules", "test"]] {
        // A pipe whose reader is already gone: the first write fails with EPIPE.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = Command::new(env!("CARGO_BIN_EXE_claimlint"))
            .args(args)
            .current_dir(crate::common::repo_root())
            .stdout(Stdio::from(writer))
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(141), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{args:?}: nothing on stderr");
    }
}
