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
import shutil
import subprocess
import sys
import tempfile
import urllib.parse

# The map output: the findings columns (from `claimlint map --findings-schema`) plus this one,
# null on finding rows and holding partition.json on the one summary row of each partition.
SUMMARY = "_claimlint_partition"

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
    p.add_argument("--partitions", required=True, type=int, metavar="N", help="patient partitions, one `claimlint map` each")
    p.add_argument("--binary", default="claimlint", metavar="PATH", help="the claimlint binary: a path on every node, or the name of a file shipped with --files (default: claimlint)")
    p.add_argument("--master", help="Spark master when run with plain python3, e.g. local[2] (spark-submit sets it otherwise)")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting when run with plain python3 (repeatable)")
    p.add_argument("--aliases", metavar="FILE", help="YAML file mapping your column names onto claimlint's (found like --rules)")
    p.add_argument("--patient-column", default="patient_id", metavar="NAME", help="the column holding the patient id, as named in the claims (default: patient_id)")
    p.add_argument("--fail-on", default="error", choices=["error", "warning", "info"], help="exit 1 when any finding is at or above this severity (default: error)")
    p.add_argument("--strict", action="store_true", help="fail when any rule has an error instead of reporting it")
    p.add_argument("--show", type=int, default=20, metavar="N", help="findings the reduce prints (default: 20)")
    p.add_argument("--work-dir", metavar="DIR", help="keep the driver's map outputs and reduce files here instead of a temporary folder")
    args = p.parse_args(argv)
    if args.partitions < 1:
        p.error("--partitions must be at least 1")
    return args


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
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
        from pyspark import TaskContext

        batches = iter(batches)
        first = next(batches, None)
        if first is None:
            return
        findings_schema = arrow_schema(conf["findings_ddl"])
        out_schema = findings_schema.append(pa.field(SUMMARY, pa.string()))
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
                    writer = pq.ParquetWriter(claims, batch.schema)
                writer.write_batch(batch)
                rows += batch.num_rows
            if writer is None:
                return
            writer.close()
            out = os.path.join(work, "out")
            cmd = [executable(node_path(conf["binary"])), "map", claims, "--out", out, "--rules", node_path(conf["rules"])]
            if conf["refdata"]:
                cmd += ["--refdata", node_path(conf["refdata"])]
            if conf["aliases"]:
                cmd += ["--aliases", node_path(conf["aliases"])]
            if conf["strict"]:
                cmd.append("--strict")
            env = dict(os.environ, RAYON_NUM_THREADS=threads, POLARS_MAX_THREADS=threads)
            done = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if done.returncode != 0:
                partition = task.partitionId() if task else "?"
                raise RuntimeError(f"claimlint map failed (exit {done.returncode}) on partition {partition} ({rows} lines):\n{done.stderr.strip()}")
            findings = pq.read_table(os.path.join(out, "findings.parquet")).select(findings_schema.names).cast(findings_schema)
            for b in findings.to_batches():
                yield pa.RecordBatch.from_arrays(b.columns + [pa.nulls(b.num_rows, pa.string())], schema=out_schema)
            with open(os.path.join(out, "partition.json"), encoding="utf-8") as f:
                summary = f.read()
            yield pa.RecordBatch.from_arrays([pa.nulls(1, f.type) for f in findings_schema] + [pa.array([summary], pa.string())], schema=out_schema)
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


def audit(spark, args, work):
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    binary = executable(node_path(args.binary))
    findings_ddl = subprocess.run([binary, "map", "--findings-schema"], check=True, capture_output=True, text=True).stdout.strip()
    conf = {
        "binary": args.binary,
        "rules": args.rules,
        "refdata": args.refdata,
        "aliases": args.aliases,
        "strict": args.strict,
        "findings_ddl": findings_ddl,
        "names": local_names(args.claims),
    }
    # _metadata.row_index is the row within its Parquet file (Spark 3.5+), kept through the
    # shuffle so findings name the line as a single-process audit does.
    claims = spark.read.parquet(*args.claims).select(
        "*",
        F.col("_metadata.file_path").alias("_source"),
        (F.col("_metadata.row_index") + 1).alias("_row"),
    )
    # claimlint partitions by the trimmed patient id: all of a patient's lines in one partition.
    patient = F.regexp_replace(F.col(args.patient_column).cast("string"), r"^\s+|\s+$", "")
    mapped = claims.repartition(args.partitions, patient).mapInArrow(map_partition(conf), f"{findings_ddl}, {SUMMARY} STRING")
    mapped.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        # Runs every map in parallel; the summaries are then read back from the cache.
        partitions = mapped.where(F.col(SUMMARY).isNotNull()).count()
        parts = os.path.join(work, "parts")
        os.makedirs(parts, exist_ok=True)
        failed = set()
        for i, row in enumerate(mapped.where(F.col(SUMMARY).isNotNull()).select(SUMMARY).toLocalIterator()):
            with open(os.path.join(parts, f"p{i:05d}.json"), "w", encoding="utf-8") as f:
                f.write(row[0])
            failed.update(fail["rule_id"] for fail in json.loads(row[0])["audit"]["failures"])
        # A rule that failed on one partition is dropped everywhere, as in a single-process audit.
        findings = mapped.where(F.col(SUMMARY).isNull()).drop(SUMMARY)
        if failed:
            findings = findings.where(~F.col("rule_id").isin(sorted(failed)))
        findings_out = args.out.rstrip("/") + "/findings.parquet"
        findings.write.mode("overwrite").parquet(findings_out)
    finally:
        mapped.unpersist()
    print(f"claimlint-spark: {partitions} partitions mapped; findings: {findings_out}", flush=True)

    reduced = os.path.join(work, "reduce")
    provider_findings = os.path.join(work, "provider_findings.parquet")
    cmd = [binary, "reduce", parts, "--rules", node_path(args.rules), "--out", reduced, "--format", "parquet"]
    cmd += ["--provider-findings", provider_findings, "--fail-on", args.fail_on, "--show", str(args.show)]
    if args.refdata:
        cmd += ["--refdata", node_path(args.refdata)]
    if args.strict:
        cmd.append("--strict")
    done = subprocess.run(cmd)
    if done.returncode > 1:
        raise SystemExit(f"claimlint reduce failed (exit {done.returncode})")

    import pyarrow.parquet as pq

    rows = pq.read_table(provider_findings).to_pylist()
    if rows:
        spark.createDataFrame(rows, findings_ddl).write.mode("append").parquet(findings_out)
    for name in REPORT_FILES:
        put(spark, os.path.join(reduced, name), args.out.rstrip("/") + "/" + name)
    print(f"claimlint-spark: reports in {args.out}", flush=True)
    return done.returncode


def main(argv=None):
    args = parse_args(argv)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("claimlint audit")
    if args.master:
        builder = builder.master(args.master)
    for setting in args.conf:
        key, _, value = setting.partition("=")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    try:
        if args.work_dir:
            os.makedirs(args.work_dir, exist_ok=True)
            return audit(spark, args, args.work_dir)
        with tempfile.TemporaryDirectory(prefix="claimlint-spark-") as work:
            return audit(spark, args, work)
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
