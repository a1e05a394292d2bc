//! claimlint's audit as a Spark job (integrations/spark/claimlint_spark.py): the driver's findings
//! equal a single-process `claimlint audit` of the same file, row for row and column for column,
//! in local mode and on a real standalone cluster (a master and two workers on 127.0.0.1).
//!
//! Both need pyspark (with pyarrow and pandas) and Java 17, so they are ignored in a plain
//! `cargo test`; `.ci/run` installs them (integrations/spark/requirements.txt) and runs these with
//! `--ignored`. Run by hand without them, they fail naming what is missing.
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use claimlint::generate::{generate, GenerateOptions};
use polars::prelude::*;

use crate::common::repo_root;

const NEEDS: &str =
    "needs pyspark and Java 17: set CLAIMLINT_SPARK_PYTHON to a python with integrations/spark/requirements.txt installed (.ci/run does)";

struct Spark {
    python: PathBuf,
    /// The pyspark package folder: Spark's jars, bin/ and sbin/.
    home: PathBuf,
}

fn spark() -> Spark {
    let python = std::env::var_os("CLAIMLINT_SPARK_PYTHON").map(PathBuf::from).unwrap_or_else(|| {
        let venv = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".cache/claimlint-spark/venv/bin/python");
        if venv.exists() {
            venv
        } else {
            "python3".into()
        }
    });
    let probe = Command::new(&python).args(["-c", "import os, pyspark, pyarrow, pandas; print(os.path.dirname(pyspark.__file__))"]).output();
    let home = match probe {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        Ok(o) => panic!("{} cannot import pyspark, pyarrow and pandas ({}); {NEEDS}", python.display(), String::from_utf8_lossy(&o.stderr).trim()),
        Err(e) => panic!("cannot run {}: {e}; {NEEDS}", python.display()),
    };
    let java = Command::new("java").arg("-version").output();
    assert!(java.is_ok_and(|o| o.status.success()), "java is not on PATH; {NEEDS}");
    Spark { python, home }
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_claimlint")
}

/// A generated batch with planted claim errors and provider schemes, so line, claim and
/// provider findings all occur.
fn claims(dir: &Path, lines: u64) -> PathBuf {
    let path = dir.join("claims.parquet");
    let mut o = GenerateOptions::new(lines, 5, &path);
    o.refdata = repo_root().join("rules/data");
    o.scheme_share = Some(0.1);
    o.chunk_rows = 10_000;
    generate(&o).unwrap();
    path
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    if out.status.code().is_none_or(|c| c > 1) {
        panic!(
            "{cmd:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

/// The single-process audit: findings.parquet, the reports, and its summary lines.
fn single_process(claims: &Path, out: &Path) -> Output {
    run(Command::new(bin())
        .arg("audit")
        .arg(claims)
        .arg("--rules")
        .arg(repo_root().join("rules"))
        .arg("--out")
        .arg(out)
        .args(["--format", "parquet", "--show", "0"]))
}

fn read_findings(path: &Path) -> DataFrame {
    let files: Vec<PathBuf> = if path.is_dir() {
        let mut parts: Vec<PathBuf> =
            std::fs::read_dir(path).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "parquet")).collect();
        parts.sort();
        parts
    } else {
        vec![path.to_path_buf()]
    };
    assert!(!files.is_empty(), "no Parquet files in {}", path.display());
    let mut all: Option<DataFrame> = None;
    for f in files {
        let df = ParquetReader::new(std::fs::File::open(&f).unwrap()).finish().unwrap();
        match &mut all {
            None => all = Some(df),
            Some(a) => {
                a.vstack_mut(&df).unwrap_or_else(|e| panic!("{}: other columns than the first part: {e}", f.display()));
            }
        }
    }
    let df = all.unwrap();
    let by: Vec<PlSmallStr> = df.get_column_names().into_iter().cloned().collect();
    df.sort(by, SortMultipleOptions::default().with_nulls_last(true)).unwrap()
}

/// The summary lines both print: lines, claims, rules, findings by severity, dollars at risk.
fn totals(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| l.starts_with("claimlint: ") || l.starts_with("findings: ") || l.starts_with("provider-level: "))
        .map(str::to_string)
        .collect()
}

/// The Spark run's outputs against the single-process audit's.
fn assert_same_audit(single_dir: &Path, single: &Output, spark_dir: &Path, spark: &Output) {
    assert_eq!(spark.status.code(), single.status.code(), "exit codes differ");
    let expected = read_findings(&single_dir.join("findings.parquet"));
    let got = read_findings(&spark_dir.join("findings.parquet"));
    assert_eq!(got.schema(), expected.schema(), "findings columns differ");
    let rules =
        |df: &DataFrame| df.column("rule_id").unwrap().str().unwrap().iter().flatten().map(str::to_string).collect::<std::collections::BTreeSet<_>>();
    assert!(expected.height() > 200, "{} findings: the batch should give many", expected.height());
    assert!(rules(&expected).iter().any(|r| r.starts_with("FRAUD-")), "no provider findings: {:?}", rules(&expected));
    assert_eq!(got.height(), expected.height(), "finding counts differ; rules: spark {:?} vs {:?}", rules(&got), rules(&expected));
    for name in expected.get_column_names() {
        let (a, b) = (got.column(name).unwrap(), expected.column(name).unwrap());
        if !a.equals_missing(b) {
            let row = (0..a.len()).find(|&i| a.get(i).unwrap() != b.get(i).unwrap()).unwrap_or(0);
            panic!(
                "column {name} differs, first at sorted row {row}:\nspark:  {:?}\nsingle: {:?}",
                got.get_row(row).unwrap(),
                expected.get_row(row).unwrap()
            );
        }
    }
    let providers = |d: &Path| std::fs::read_to_string(d.join("providers.csv")).unwrap();
    assert_eq!(providers(spark_dir), providers(single_dir), "providers.csv differs");
    for report in ["report.html", "fraud.html"] {
        let html = std::fs::read_to_string(spark_dir.join(report)).unwrap();
        assert!(html.len() > 10_000 && html.contains("</html>"), "{report} is not a full report");
    }
    assert_eq!(totals(spark), totals(single), "summary totals differ");
    assert_eq!(totals(single).len(), 3, "expected lines, findings and provider-level totals: {:?}", totals(single));
}

fn driver() -> PathBuf {
    repo_root().join("integrations/spark/claimlint_spark.py")
}

#[test]
#[ignore = "needs pyspark and Java 17 (.ci/run installs them)"]
fn local_mode_gives_the_findings_of_a_single_process_audit() {
    let spark = spark();
    let dir = tempfile::tempdir().unwrap();
    let claims = claims(dir.path(), 50_000);
    let single_dir = dir.path().join("single");
    let single = single_process(&claims, &single_dir);

    let spark_dir = dir.path().join("spark");
    let out = run(Command::new(&spark.python)
        .arg(driver())
        .args(["--master", "local[2]", "--partitions", "8"])
        .arg("--claims")
        .arg(&claims)
        .arg("--rules")
        .arg(repo_root().join("rules"))
        .arg("--out")
        .arg(&spark_dir)
        .arg("--binary")
        .arg(bin())
        .args(["--show", "0", "--conf", "spark.ui.enabled=false"])
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .env("PYSPARK_PYTHON", &spark.python));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("claimlint-spark: 8 partitions mapped"), "{stdout}");
    assert_same_audit(&single_dir, &single, &spark_dir, &out);
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A standalone master and two workers started with Spark's own daemon script, stopped on drop
/// (also when the test fails).
struct Cluster {
    daemon: PathBuf,
    env: Vec<(String, String)>,
    url: String,
    workers: Vec<PathBuf>,
    logs: PathBuf,
}

impl Cluster {
    fn start(spark: &Spark, dir: &Path) -> Cluster {
        let logs = dir.join("logs");
        let env = vec![
            ("SPARK_HOME".to_string(), spark.home.display().to_string()),
            ("SPARK_LOCAL_IP".into(), "127.0.0.1".into()),
            ("SPARK_LOG_DIR".into(), logs.display().to_string()),
            ("SPARK_PID_DIR".into(), dir.join("pids").display().to_string()),
            ("SPARK_IDENT_STRING".into(), format!("claimlint-test-{}", std::process::id())),
            ("PYSPARK_PYTHON".into(), spark.python.display().to_string()),
        ];
        let port = free_port();
        let mut cluster = Cluster {
            // The pip package ships sbin/spark-daemon.sh, which start-master.sh and start-worker.sh wrap.
            daemon: spark.home.join("sbin/spark-daemon.sh"),
            env,
            url: format!("spark://127.0.0.1:{port}"),
            workers: Vec::new(),
            logs,
        };
        cluster.daemon_cmd(&[
            "start",
            "org.apache.spark.deploy.master.Master",
            "1",
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--webui-port",
            &free_port().to_string(),
        ]);
        for i in 1..=2 {
            let work = dir.join(format!("worker{i}"));
            std::fs::create_dir_all(&work).unwrap();
            cluster.daemon_cmd(&[
                "start",
                "org.apache.spark.deploy.worker.Worker",
                &i.to_string(),
                &cluster.url.clone(),
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "1g",
                "--webui-port",
                &free_port().to_string(),
                "--work-dir",
                &work.display().to_string(),
            ]);
            cluster.workers.push(work);
        }
        cluster.wait_for_workers();
        cluster
    }

    fn daemon_cmd(&self, args: &[&str]) {
        let out = Command::new("bash").arg(&self.daemon).args(args).envs(self.env.iter().map(|(k, v)| (k, v))).output().unwrap();
        assert!(out.status.success(), "spark-daemon.sh {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    }

    fn logs(&self, class: &str) -> String {
        let mut text = String::new();
        for e in std::fs::read_dir(&self.logs).into_iter().flatten().flatten() {
            if e.file_name().to_string_lossy().contains(class) {
                text += &std::fs::read_to_string(e.path()).unwrap_or_default();
            }
        }
        text
    }

    fn wait_for_workers(&self) {
        let started = Instant::now();
        loop {
            let registered = self.logs("deploy.worker.Worker").matches("Successfully registered with master").count();
            if registered >= 2 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "workers did not register within 120 s:\n{}\n{}",
                self.logs("Master"),
                self.logs("Worker")
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for i in 1..=self.workers.len() {
            let _ = Command::new("bash")
                .arg(&self.daemon)
                .args(["stop", "org.apache.spark.deploy.worker.Worker", &i.to_string()])
                .envs(self.env.iter().map(|(k, v)| (k, v)))
                .output();
        }
        let _ = Command::new("bash")
            .arg(&self.daemon)
            .args(["stop", "org.apache.spark.deploy.master.Master", "1"])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output();
    }
}

/// Files named `name` under a worker's application folders (work/app-*/EXECUTOR/).
fn shipped_to(worker: &Path, name: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for app in std::fs::read_dir(worker).into_iter().flatten().flatten() {
        for executor in std::fs::read_dir(app.path()).into_iter().flatten().flatten() {
            let f = executor.path().join(name);
            if f.exists() {
                found.push(f);
            }
        }
    }
    found
}

#[test]
#[ignore = "needs pyspark and Java 17 (.ci/run installs them); starts a standalone Spark cluster on 127.0.0.1"]
fn standalone_cluster_with_the_binary_shipped_by_files_gives_the_same_findings() {
    let spark = spark();
    let dir = tempfile::tempdir().unwrap();
    let claims = claims(dir.path(), 20_000);
    let single_dir = dir.path().join("single");
    let single = single_process(&claims, &single_dir);

    // What executors get only through Spark: the binary (--files) and the rules with their
    // reference tables (--archives). The driver names them, not paths.
    let ship = dir.path().join("ship");
    std::fs::create_dir_all(&ship).unwrap();
    std::fs::copy(bin(), ship.join("claimlint")).unwrap();
    let tar = Command::new("tar").arg("czf").arg(ship.join("rules.tgz")).arg("-C").arg(repo_root()).arg("rules").status().unwrap();
    assert!(tar.success());
    let cwd = dir.path().join("driver");
    std::fs::create_dir_all(&cwd).unwrap();

    let cluster = Cluster::start(&spark, dir.path());
    let spark_dir = dir.path().join("spark");
    let out = run(Command::new(spark.home.join("bin/spark-submit"))
        .current_dir(&cwd)
        .args(["--master", &cluster.url, "--deploy-mode", "client"])
        .args(["--conf", "spark.ui.enabled=false", "--conf", "spark.executor.memory=512m", "--conf", "spark.executor.cores=1"])
        .arg("--conf")
        .arg(format!("spark.pyspark.python={}", spark.python.display()))
        .arg("--files")
        .arg(ship.join("claimlint"))
        .arg("--archives")
        .arg(format!("{}#claimlint-rules", ship.join("rules.tgz").display()))
        .arg(driver())
        .arg("--claims")
        .arg(&claims)
        // No --partitions: one per core Spark has (two workers of one core each).
        .args(["--rules", "claimlint-rules/rules", "--binary", "claimlint", "--show", "0"])
        .arg("--out")
        .arg(&spark_dir)
        .envs(cluster.env.iter().map(|(k, v)| (k, v)))
        .env("PYSPARK_DRIVER_PYTHON", &spark.python));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("claimlint-spark: 2 partitions mapped"), "{stdout}");
    assert_same_audit(&single_dir, &single, &spark_dir, &out);
    // Both workers ran executors, each with the binary Spark shipped to it.
    for w in &cluster.workers {
        assert!(!shipped_to(w, "claimlint").is_empty(), "no shipped claimlint under {}", w.display());
    }
    drop(cluster);
}

/// Splits `claims` into `n` patient partitions the way a cluster would hand them over: each line
/// carries its file name (`_source`, as the single-process audit names it) and 1-based row
/// (`_row`), and lines arrive out of order (reversed), as after a shuffle.
fn partition_files(claims: &Path, n: usize, dir: &Path) -> Vec<PathBuf> {
    use claimlint::audit::partition::partition_of;
    let mut df = ParquetReader::new(std::fs::File::open(claims).unwrap()).finish().unwrap();
    let height = df.height();
    df.with_column(Column::new("_row".into(), (1..=height as i64).collect::<Vec<i64>>())).unwrap();
    df.with_column(Column::new("_source".into(), vec![claims.display().to_string(); height])).unwrap();
    let patients = df.column("patient_id").unwrap().cast(&DataType::String).unwrap();
    let patients = patients.str().unwrap();
    let part: Vec<usize> = patients.iter().map(|p| partition_of(p, n)).collect();
    (0..n)
        .map(|p| {
            let mask: BooleanChunked = part.iter().map(|&q| q == p).collect();
            let mut piece = df.filter(&mask).unwrap().reverse();
            assert!(piece.height() > 0, "partition {p} is empty");
            let path = dir.join(format!("part-{p}.parquet"));
            ParquetWriter::new(std::fs::File::create(&path).unwrap()).finish(&mut piece).unwrap();
            path
        })
        .collect()
}

#[test]
fn map_and_reduce_commands_give_the_findings_of_a_single_process_audit() {
    let dir = tempfile::tempdir().unwrap();
    let claims = claims(dir.path(), 12_000);
    let single_dir = dir.path().join("single");
    let single = single_process(&claims, &single_dir);

    let parts = dir.path().join("parts");
    std::fs::create_dir_all(&parts).unwrap();
    let maps = dir.path().join("maps");
    let mut map_findings = Vec::new();
    for (p, file) in partition_files(&claims, 5, &parts).iter().enumerate() {
        let out = maps.join(format!("p{p}"));
        let done = run(Command::new(bin()).arg("map").arg(file).arg("--rules").arg(repo_root().join("rules")).arg("--out").arg(&out));
        assert_eq!(done.status.code(), Some(0), "map exits 0 whatever it finds");
        assert!(String::from_utf8_lossy(&done.stdout).starts_with("claimlint map: "), "{}", String::from_utf8_lossy(&done.stdout));
        map_findings.push(out.join("findings.parquet"));
        std::fs::rename(out.join("partition.json"), maps.join(format!("p{p}.json"))).unwrap();
    }

    // The findings travel once: in the maps' findings files, not again in partition.json.
    let summary = std::fs::read_to_string(maps.join("p0.json")).unwrap();
    assert!(!summary.contains("\"findings\":["), "partition.json holds the findings again");

    let reduce = |format: &str, out: &Path, findings: &[PathBuf]| {
        let mut cmd = Command::new(bin());
        cmd.arg("reduce").arg(&maps).arg("--rules").arg(repo_root().join("rules")).arg("--out").arg(out);
        cmd.arg("--findings").args(findings).args(["--format", format, "--show", "0"]);
        cmd
    };
    let reduced = dir.path().join("reduced");
    let provider = dir.path().join("provider.parquet");
    let out = run(reduce("parquet", &reduced, &map_findings).arg("--provider-findings").arg(&provider));
    assert_same_audit(&single_dir, &single, &reduced, &out);

    // Read back from Parquet, the findings are whole: the JSON findings file (every field,
    // denial sources and fix values included) equals the single-process one.
    let single_json = dir.path().join("single-json");
    run(Command::new(bin())
        .arg("audit")
        .arg(&claims)
        .arg("--rules")
        .arg(repo_root().join("rules"))
        .arg("--out")
        .arg(&single_json)
        .args(["--format", "json", "--show", "0"]));
    let reduced_json = dir.path().join("reduced-json");
    run(&mut reduce("json", &reduced_json, &map_findings));
    let json = |d: &Path| serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(d.join("findings.json")).unwrap()).unwrap();
    assert_eq!(json(&reduced_json), json(&single_json), "findings.json differs from the single-process audit's");

    // What a driver stores: the maps' findings plus the reduce's provider findings, which
    // together are the whole findings file.
    let stored = dir.path().join("stored");
    std::fs::create_dir_all(&stored).unwrap();
    for (i, f) in map_findings.iter().chain([&provider]).enumerate() {
        std::fs::copy(f, stored.join(format!("part-{i:03}.parquet"))).unwrap();
    }
    let provider_rows = read_findings(&provider);
    assert!(provider_rows.height() > 0, "no provider findings from the reduce");
    let from_maps = read_findings(&stored);
    let whole = read_findings(&single_dir.join("findings.parquet"));
    assert!(from_maps.equals_missing(&whole), "map findings plus provider findings differ from the single-process findings");
}

#[test]
fn reduce_refuses_map_outputs_of_other_rules() {
    let dir = tempfile::tempdir().unwrap();
    let claims = claims(dir.path(), 2_000);
    let out = dir.path().join("map");
    run(Command::new(bin()).arg("map").arg(&claims).arg("--rules").arg(repo_root().join("rules/federal")).arg("--out").arg(&out));
    let done = Command::new(bin()).arg("reduce").arg(out.join("partition.json")).arg("--rules").arg(repo_root().join("rules")).output().unwrap();
    assert_eq!(done.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.contains("ran other rules than") && stderr.contains("same --rules"), "{stderr}");

    std::fs::write(dir.path().join("bad.json"), "{\"rules\": []}").unwrap();
    let done = Command::new(bin()).arg("reduce").arg(dir.path().join("bad.json")).arg("--rules").arg(repo_root().join("rules")).output().unwrap();
    assert_eq!(done.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.contains("bad.json") && stderr.contains("not a claimlint map output"), "{stderr}");

    std::fs::write(dir.path().join("old.json"), "{\"format\": 1, \"claimlint_version\": \"0.0.9\"}").unwrap();
    let done = Command::new(bin()).arg("reduce").arg(dir.path().join("old.json")).arg("--rules").arg(repo_root().join("rules")).output().unwrap();
    assert_eq!(done.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert!(stderr.contains("map output format 1 (claimlint 0.0.9)"), "{stderr}");
}

#[test]
fn reduce_refuses_findings_files_missing_or_given_twice() {
    let dir = tempfile::tempdir().unwrap();
    let claims = claims(dir.path(), 2_000);
    let out = dir.path().join("map");
    run(Command::new(bin()).arg("map").arg(&claims).arg("--rules").arg(repo_root().join("rules")).arg("--out").arg(&out));
    let reduce = |findings: &[PathBuf]| {
        let mut cmd = Command::new(bin());
        cmd.arg("reduce").arg(out.join("partition.json")).arg("--rules").arg(repo_root().join("rules")).args(["--show", "0"]);
        if !findings.is_empty() {
            cmd.arg("--findings").args(findings);
        }
        cmd.output().unwrap()
    };
    let findings = out.join("findings.parquet");
    for (given, what) in [(vec![], "none given"), (vec![findings.clone(), findings.clone()], "findings.parquet, ")] {
        let done = reduce(&given);
        assert_eq!(done.status.code(), Some(2), "{given:?}");
        let stderr = String::from_utf8_lossy(&done.stderr);
        assert!(stderr.contains(what) && stderr.contains("given,") && stderr.contains("pass every map's findings.parquet once"), "{stderr}");
    }
    let done = reduce(&[findings]);
    assert!(done.status.code().is_some_and(|c| c <= 1), "{}", String::from_utf8_lossy(&done.stderr));
}
