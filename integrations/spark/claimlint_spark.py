#!/usr/bin/env python3
"""claimlint's audit as a Spark job.

Claim lines are repartitioned by patient id; each partition is streamed with mapInArrow to
`claimlint map` on its executor; the findings are written by Spark to OUT/findings.parquet, and
`claimlint reduce` merges the partitions' provider partials on the driver, runs the provider
rules and writes report.html, fraud.html and providers.csv into OUT. See README.md here.

    spark-submit --files /opt/claimlint/claimlint claimlint_spark.py \\
        --claims 's3://lake/claims/2025/*.parquet' --rules /dbfs/claimlint/rules \\
        --out s3://lake/audits/2025 --partitions 400 --binary claimlint

    python3 claimlint_spark.py --master 'local[2]' --claims claims.parquet --rules rules \\
        --out audit --partitions 8 --binary target/release/claimlint
"""

import argparse
import glob
import itertools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

# The map output: the findings columns (from `claimlint map --findings-schema`) plus these two,
# null on finding rows; on the one summary row of each partition, SUMMARY holds its
# partition.json (everything but the findings) and TASK_TIMES where the task's time went.
SUMMARY = "_claimlint_partition"
TASK_TIMES = "_claimlint_task_times"

# Lines per Arrow batch sent to each map: larger than Spark's default (10,000) because a map
# reads its whole partition before it audits, so small batches only add per-batch overhead.
ARROW_BATCH = "spark.sql.execution.arrow.maxRecordsPerBatch"
ARROW_BATCH_LINES = "100000"

# Spark DDL types of the findings columns and their Arrow types.
ARROW_TYPES = {"STRING": "string", "BIGINT": "int64", "INT": "int32", "DOUBLE": "float64", "BOOLEAN": "bool"}

REPORT_FILES = ("report.html", "fraud.html", "providers.csv")


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="claimlint_spark.py",
        description="Audit Parquet claim lines with claimlint on Spark: the same rules, findings and reports as `claimlint audit`.",
    )
    p.add_argument("--claims", required=True, nargs="+", metavar="PATH_OR_GLOB", help="Parquet files, folders or globs of claim lines (any Spark path: local, s3://, abfss://, dbfs:/ ...)")
    p.add_argument("--rules", required=True, metavar="DIR", help="rules folder: a path on every node, or the name of an archive shipped with --archives (e.g. rules.tgz#claimlint-rules: --rules claimlint-rules)")
    p.add_argument("--refdata", metavar="DIR", help="reference tables, found the same way (default: RULES/data)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (any Spark path): findings.parquet, report.html, fraud.html, providers.csv")
    p.add_argument("--partitions", type=int, metavar="N", help="patient partitions, one `claimlint map` each (default: the cores Spark has, its default parallelism)")
    p.add_argument("--binary", default="claimlint", metavar="PATH", help="the claimlint binary: a path on every node, or the name of a file shipped with --files (default: claimlint)")
    p.add_argument("--master", help="Spark master when run with plain python3, e.g. local[2] (spark-submit sets it otherwise)")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting when run with plain python3 (repeatable)")
    p.add_argument("--aliases", metavar="FILE", help="YAML file mapping your column names onto claimlint's (found like --rules)")
    p.add_argument("--patient-column", default="patient_id", metavar="NAME", help="the column holding the patient id, as named in the claims (default: patient_id)")
    p.add_argument("--fail-on", default="error", choices=["error", "warning", "info"], help="exit 1 when any finding is at or above this severity (default: error)")
    p.add_argument("--strict", action="store_true", help="fail when any rule has an error instead of reporting it")
    p.add_argument("--show", type=int, default=20, metavar="N", help="findings the reduce prints (default: 20)")
    p.add_argument("--work-dir", metavar="DIR", help="keep the driver's map outputs and reduce files here instead of a temporary folder")
    p.add_argument("--timings", action="store_true", help="print where the time goes: the driver's phases and each map task's")
    p.add_argument("--repeat", type=int, default=1, metavar="N", help="run the audit N times in one Spark session and print each run's time (benchmarks: a session kept warm, as on a notebook cluster)")
    args = p.parse_args(argv)
    if args.partitions is not None and args.partitions < 1:
        p.error("--partitions must be at least 1")
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    return args


class Clock:
    """Phase times since `start`, printed with --timings."""

    def __init__(self, enabled):
        self.enabled = enabled
        self.start = self.last = time.monotonic()

    def mark(self, what):
        now = time.monotonic()
        if self.enabled:
            print(f"claimlint-spark: {now - self.start:7.2f} s  (+{now - self.last:6.2f} s) {what}", file=sys.stderr, flush=True)
        self.last = now


def node_path(path):
    """`path` on this node: as given when it exists here (a path on every node, or a file YARN
    put in the working directory), else a file or archive shipped with --files or --archives."""
    if os.path.exists(path):
        return os.path.abspath(path)
    from pyspark import SparkFiles

    try:
        shipped = SparkFiles.get(path)
    except Exception:  # no SparkContext files root on this node
        shipped = None
    if shipped and os.path.exists(shipped):
        return shipped
    raise FileNotFoundError(f"{path}: not found on this node and not shipped with --files or --archives")


def executable(path):
    """Spark marks files it ships executable; a copy from a store that loses the bit is fixed."""
    if not os.access(path, os.X_OK):
        copy = os.path.join(tempfile.mkdtemp(prefix="claimlint-bin-"), os.path.basename(path))
        shutil.copy(path, copy)
        os.chmod(copy, 0o755)
        return copy
    return path


def local_names(claims):
    """How `claimlint audit` given the same arguments names each local file: {absolute path: name}.
    Files in other stores keep their URI."""
    names = {}

    def add(path):
        names[os.path.abspath(path)] = path

    for arg in claims:
        parsed = urllib.parse.urlparse(arg)
        if parsed.scheme not in ("", "file"):
            continue
        local = parsed.path if parsed.scheme == "file" else arg
        for p in glob.glob(local) if glob.has_magic(local) else [local]:
            if os.path.isfile(p):
                add(p)
            elif os.path.isdir(p):
                for root, dirs, files in os.walk(p):
                    dirs.sort()
                    for f in sorted(files):
                        add(os.path.join(root, f))
    return names


def source_name(uri, names):
    """A line's file name for findings' locations: see local_names."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme in ("", "file"):
        path = urllib.parse.unquote(parsed.path)
        return names.get(path, path)
    return uri


def arrow_schema(ddl):
    import pyarrow as pa

    fields = []
    for column in ddl.split(","):
        name, ty = column.strip().rsplit(" ", 1)
        fields.append(pa.field(name, getattr(pa, ARROW_TYPES[ty])()))
    return pa.schema(fields)


def map_partition(conf):
    """The mapInArrow function: one partition's lines to `claimlint map`, its findings and
    partition.json back as Arrow."""

    def run(batches):
        started = time.monotonic()
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
        from pyspark import TaskContext

        times = {}
        batches = iter(batches)
        first = next(batches, None)
        times["first_batch"] = time.monotonic() - started
        if first is None:
            return
        findings_schema = arrow_schema(conf["findings_ddl"])
        out_schema = findings_schema.append(pa.field(SUMMARY, pa.string())).append(pa.field(TASK_TIMES, pa.string()))
        task = TaskContext.get()
        threads = str(task.cpus() if task else 1)
        work = tempfile.mkdtemp(prefix="claimlint-map-")
        try:
            claims = os.path.join(work, "claims.parquet")
            rows = 0
            writer = None
            for batch in itertools.chain([first], batches):
                if batch.num_rows == 0:
                    continue
                # Name each file once per batch, not once per line.
                sources = pc.dictionary_encode(batch.column("_source"))
                named = pa.array([source_name(u, conf["names"]) for u in sources.dictionary.to_pylist()], pa.string())
                batch = batch.set_column(batch.schema.get_field_index("_source"), "_source", pc.take(named, sources.indices))
                if writer is None:
                    # Uncompressed: the file lives for one map on local disk.
                    writer = pq.ParquetWriter(claims, batch.schema, compression="none")
                writer.write_batch(batch)
                rows += batch.num_rows
            if writer is None:
                return
            writer.close()
            times["input"] = time.monotonic() - started
            out = os.path.join(work, "out")
            cmd = [executable(node_path(conf["binary"])), "map", claims, "--out", out, "--rules", node_path(conf["rules"])]
            if conf["refdata"]:
                cmd += ["--refdata", node_path(conf["refdata"])]
            if conf["aliases"]:
                cmd += ["--aliases", node_path(conf["aliases"])]
            if conf["strict"]:
                cmd.append("--strict")
            env = dict(os.environ, RAYON_NUM_THREADS=threads, POLARS_MAX_THREADS=threads)
            cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            times["claimlint_map_cpu"] = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
            partition = task.partitionId() if task else -1
            if done.returncode != 0:
                raise RuntimeError(f"claimlint map failed (exit {done.returncode}) on partition {partition} ({rows} lines):\n{done.stderr.strip()}")
            times["claimlint_map"] = time.monotonic() - started - times["input"]
            findings = pq.read_table(os.path.join(out, "findings.parquet")).select(findings_schema.names).cast(findings_schema)
            for b in findings.to_batches():
                yield pa.RecordBatch.from_arrays(b.columns + [pa.nulls(b.num_rows, pa.string())] * 2, schema=out_schema)
            with open(os.path.join(out, "partition.json"), encoding="utf-8") as f:
                summary = f.read()
            times["total"] = time.monotonic() - started
            task_times = json.dumps({"partition": partition, "lines": rows, "findings": findings.num_rows, "summary_bytes": len(summary), **times})
            yield pa.RecordBatch.from_arrays(
                [pa.nulls(1, f.type) for f in findings_schema] + [pa.array([summary], pa.string()), pa.array([task_times], pa.string())], schema=out_schema
            )
        finally:
            shutil.rmtree(work, ignore_errors=True)

    return run


def put(spark, local, dest):
    """Copies a local file into the output folder, which may be in any Hadoop file system."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(dest)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if fs.getUri().getScheme() == "file":
        target = fs.makeQualified(path).toUri().getPath()
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(local, target)
    else:
        fs.copyFromLocalFile(False, True, jvm.org.apache.hadoop.fs.Path("file://" + os.path.abspath(local)), path)


def local_copy(spark, path, work):
    """`path` (any Hadoop path) as a local path on the driver: itself when it is local, else a
    copy in `work`."""
    jvm = spark.sparkContext._jvm
    hpath = jvm.org.apache.hadoop.fs.Path(path)
    fs = hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if fs.getUri().getScheme() == "file":
        return fs.makeQualified(hpath).toUri().getPath()
    local = os.path.join(work, os.path.basename(path.rstrip("/")))
    fs.copyToLocalFile(False, hpath, jvm.org.apache.hadoop.fs.Path("file://" + os.path.abspath(local)), True)
    return local


def columns_read(binary, columns, aliases):
    """The claims' columns `claimlint map` reads (mapped with --aliases): only they are shuffled."""
    cmd = [binary, "map", "--columns-read", *columns]
    if aliases:
        cmd += ["--aliases", aliases]
    read = set(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split("\n"))
    return [c for c in columns if c in read]


def audit(spark, args, work, clock):
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    binary = executable(node_path(args.binary))
    findings_ddl = subprocess.run([binary, "map", "--findings-schema"], check=True, capture_output=True, text=True).stdout.strip()
    partitions = args.partitions or spark.sparkContext.defaultParallelism
    conf = {
        "binary": args.binary,
        "rules": args.rules,
        "refdata": args.refdata,
        "aliases": args.aliases,
        "strict": args.strict,
        "findings_ddl": findings_ddl,
        "names": local_names(args.claims),
    }
    clock.mark("claimlint binary checked")
    claims = spark.read.parquet(*args.claims)
    # Only what the map reads crosses the shuffle. _metadata.row_index is the row within its
    # Parquet file (Spark 3.5+), kept so findings name the line as a single-process audit does.
    claims = claims.select(
        *[F.col(f"`{c}`") for c in columns_read(binary, claims.columns, args.aliases and node_path(args.aliases))],
        F.col("_metadata.file_path").alias("_source"),
        (F.col("_metadata.row_index") + 1).alias("_row"),
    )
    clock.mark("claims schema read")
    # claimlint partitions by the trimmed patient id: all of a patient's lines in one partition.
    patient = F.regexp_replace(F.col(args.patient_column).cast("string"), r"^\s+|\s+$", "")
    mapped = claims.repartition(partitions, patient).mapInArrow(map_partition(conf), f"{findings_ddl}, {SUMMARY} STRING, {TASK_TIMES} STRING")
    # The maps run once: the summaries are collected (which runs them), then the findings are
    # written from the cache, after the rules that failed anywhere are known.
    mapped.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        summaries = mapped.where(F.col(SUMMARY).isNotNull()).select(SUMMARY, TASK_TIMES).collect()
        clock.mark(f"{len(summaries)} maps run, their summaries collected")
        parts = os.path.join(work, "parts")
        shutil.rmtree(parts, ignore_errors=True)
        os.makedirs(parts)
        failed = set()
        tasks = []
        for i, row in enumerate(summaries):
            with open(os.path.join(parts, f"p{i:05d}.json"), "w", encoding="utf-8") as f:
                f.write(row[0])
            failed.update(fail["rule_id"] for fail in json.loads(row[0])["audit"]["failures"])
            tasks.append(json.loads(row[1]))
        del summaries
        if clock.enabled:
            print_task_times(tasks)
        # A rule that failed on one partition is dropped everywhere, as in a single-process audit.
        findings = mapped.where(F.col(SUMMARY).isNull()).drop(SUMMARY, TASK_TIMES)
        if failed:
            findings = findings.where(~F.col("rule_id").isin(sorted(failed)))
        findings_out = args.out.rstrip("/") + "/findings.parquet"
        findings.write.mode("overwrite").parquet(findings_out)
        clock.mark(f"findings written to {findings_out}")
    finally:
        mapped.unpersist()
    print(f"claimlint-spark: {len(tasks)} partitions mapped; findings: {findings_out}", flush=True)

    # The reduce reads the findings Spark wrote (they are not in the summaries).
    map_findings = local_copy(spark, findings_out, work)
    reduced = os.path.join(work, "reduce")
    provider_findings = os.path.join(work, "provider_findings.parquet")
    cmd = [binary, "reduce", parts, "--findings", map_findings, "--rules", node_path(args.rules), "--out", reduced, "--format", "parquet"]
    cmd += ["--provider-findings", provider_findings, "--fail-on", args.fail_on, "--show", str(args.show)]
    if args.refdata:
        cmd += ["--refdata", node_path(args.refdata)]
    if args.strict:
        cmd.append("--strict")
    sys.stdout.flush()
    done = subprocess.run(cmd)
    if done.returncode > 1:
        raise SystemExit(f"claimlint reduce failed (exit {done.returncode})")
    clock.mark("reduce run (provider rules, reports)")

    import pyarrow.parquet as pq

    # The provider findings join the dataset as one more Parquet file with the same columns.
    if pq.ParquetFile(provider_findings).metadata.num_rows:
        put(spark, provider_findings, findings_out + "/part-claimlint-providers.parquet")
    for name in REPORT_FILES:
        put(spark, os.path.join(reduced, name), args.out.rstrip("/") + "/" + name)
    clock.mark("reports copied")
    print(f"claimlint-spark: reports in {args.out}", flush=True)
    return done.returncode


def print_task_times(tasks):
    """Per map task: waiting for the first batch (the shuffle), all input written, claimlint map."""
    for t in sorted(tasks, key=lambda t: t["partition"]):
        print(
            f"claimlint-spark:   map {t['partition']:>3}: {t['lines']:>9} lines, {t['findings']:>7} findings, summary {t['summary_bytes'] / 1e6:5.1f} MB; "
            f"first batch {t['first_batch']:5.2f} s, input received {t['input']:5.2f} s, claimlint map {t['claimlint_map']:5.2f} s ({t['claimlint_map_cpu']:5.2f} s CPU), task {t['total']:5.2f} s",
            file=sys.stderr,
        )


def main(argv=None):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    clock = Clock(args.timings)
    builder = SparkSession.builder.appName("claimlint audit")
    if args.master:
        builder = builder.master(args.master)
    for setting in args.conf:
        key, _, value = setting.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    if not spark.sparkContext.getConf().contains(ARROW_BATCH):
        spark.conf.set(ARROW_BATCH, ARROW_BATCH_LINES)
    clock.mark("Spark session started")
    try:
        code = 0
        for run in range(1, args.repeat + 1):
            clock = Clock(args.timings)
            if args.work_dir:
                os.makedirs(args.work_dir, exist_ok=True)
                code = audit(spark, args, args.work_dir, clock)
            else:
                with tempfile.TemporaryDirectory(prefix="claimlint-spark-") as work:
                    code = audit(spark, args, work, clock)
            if args.repeat > 1:
                print(f"claimlint-spark: run {run} of {args.repeat}: {time.monotonic() - clock.start:.2f} s", flush=True)
        return code
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
