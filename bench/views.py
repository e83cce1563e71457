"""Views benchmark: Campus on DuckDB against hand-written SQL, fhir4ds, fhir4ds-v2 and Spark.

`python -m bench views` replicates the Synthea sample (the example views' seven resource types)
with fresh ids to at least one million resources as NDJSON under `bench/out/views/`, then, in
the same run and on the same files, for every example view:

- Campus on DuckDB: load the NDJSON (timed once), then compile and run each view, with its
  fast path (root paths materialised into columns) and with the plain compiler alone;
- a hand-written DuckDB query over the same loaded table, giving the same rows (checked);
- fhir4ds 0.5.1 and fhir4ds-v2, each from its own virtualenv (they install the same package
  name, so they cannot share one); their load time is reported apart from their query time;
- Campus on Spark in local mode.

Every engine materialises all rows of every view (as Arrow or Python rows), so none can skip
columns. Ratios are against the hand-written SQL measured in this run.

Environment: BENCH_VIEWS_REPLICAS (default: enough for 1,000,000 resources),
BENCH_FHIR4DS_PYTHON and BENCH_FHIR4DS_V2_PYTHON (interpreters of the two virtualenvs; default
/tmp/bench-fhir4ds/bin/python and /tmp/bench-fhir4ds-v2/bin/python), BENCH_VIEWS_SPARK=0 to skip
Spark.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

OUT = Path(__file__).parent / "out" / "views"
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CAMPUS_SHARED", ROOT.parent / "shared"))
TYPES = (
    "Patient", "Encounter", "Condition", "Observation", "MedicationRequest", "Procedure",
    "Immunization",
)  # fmt: skip
TARGET = 1_000_000
UUID_HEAD = re.compile(r"\b[0-9a-f]{8}-(?=[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)")

KEY = "regexp_extract({ref}, '[^/:]+$')"


def _key(path: str) -> str:
    return f"nullif(regexp_extract(resource->>'{path}', '[^/:]+$'), '')"


# Hand-written DuckDB SQL giving the same rows as each example view on Synthea data.
HAND_WRITTEN = {
    "patient_demographics": """
        SELECT resource->>'$.id' AS patient_id, resource->>'$.gender' AS gender,
          resource->>'$.birthDate' AS birth_date,
          resource->>'$.deceasedDateTime' AS deceased_date_time,
          CAST(resource->>'$.deceasedBoolean' AS BOOLEAN) AS deceased,
          resource->>'$.maritalStatus.coding[0].code' AS marital_status,
          resource->>'$.address[0].city' AS city, resource->>'$.address[0].state' AS state,
          resource->>'$.address[0].postalCode' AS postal_code,
          resource->>'$.address[0].country' AS country
        FROM {table}""",
    "encounters": f"""
        SELECT resource->>'$.id' AS encounter_id, {_key("$.subject.reference")} AS patient_id,
          resource->>'$.status' AS status, resource->>'$.class.code' AS class_code,
          resource->>'$.type[0].coding[0].code' AS type_code,
          resource->>'$.type[0].coding[0].display' AS type_display,
          resource->>'$.period.start' AS start, resource->>'$.period.end' AS "end",
          resource->>'$.reasonCode[0].coding[0].code' AS reason_code,
          {_key("$.serviceProvider.reference")} AS provider_id
        FROM {{table}}""",
    "conditions": f"""
        SELECT resource->>'$.id' AS condition_id, {_key("$.subject.reference")} AS patient_id,
          {_key("$.encounter.reference")} AS encounter_id,
          resource->>'$.code.coding[0].system' AS code_system,
          resource->>'$.code.coding[0].code' AS code,
          resource->>'$.code.coding[0].display' AS display,
          resource->>'$.clinicalStatus.coding[0].code' AS clinical_status,
          resource->>'$.verificationStatus.coding[0].code' AS verification_status,
          resource->>'$.onsetDateTime' AS onset, resource->>'$.abatementDateTime' AS abatement,
          resource->>'$.recordedDate' AS recorded_date
        FROM {{table}}""",
    "observations": """
        SELECT o.resource->>'$.id' AS observation_id,
          nullif(regexp_extract(o.resource->>'$.subject.reference', '[^/:]+$'), '') AS patient_id,
          nullif(regexp_extract(o.resource->>'$.encounter.reference', '[^/:]+$'), '')
            AS encounter_id,
          o.resource->>'$.category[0].coding[0].code' AS category,
          o.resource->>'$.code.coding[0].code' AS code,
          o.resource->>'$.code.coding[0].display' AS display,
          o.resource->>'$.effectiveDateTime' AS effective,
          CAST(o.resource->'$.valueQuantity.value' AS DOUBLE) AS value_quantity,
          o.resource->>'$.valueQuantity.unit' AS value_unit,
          o.resource->>'$.valueCodeableConcept.coding[0].code' AS value_code,
          o.resource->>'$.valueString' AS value_string,
          c.component->>'$.code.coding[0].code' AS component_code,
          c.component->>'$.code.coding[0].display' AS component_display,
          CAST(c.component->'$.valueQuantity.value' AS DOUBLE) AS component_value,
          c.component->>'$.valueQuantity.unit' AS component_unit
        FROM {table} AS o
        LEFT JOIN LATERAL (
          SELECT unnest(CAST(o.resource->'$.component' AS JSON[])) AS component
        ) AS c ON TRUE""",
    "medication_requests": f"""
        SELECT resource->>'$.id' AS medication_request_id,
          {_key("$.subject.reference")} AS patient_id,
          {_key("$.encounter.reference")} AS encounter_id,
          resource->>'$.status' AS status, resource->>'$.intent' AS intent,
          resource->>'$.medicationCodeableConcept.coding[0].code' AS medication_code,
          resource->>'$.medicationCodeableConcept.coding[0].display' AS medication_display,
          resource->>'$.authoredOn' AS authored_on,
          {_key("$.requester.reference")} AS requester_id
        FROM {{table}}""",
    "procedures": f"""
        SELECT resource->>'$.id' AS procedure_id, {_key("$.subject.reference")} AS patient_id,
          {_key("$.encounter.reference")} AS encounter_id, resource->>'$.status' AS status,
          resource->>'$.code.coding[0].code' AS code,
          resource->>'$.code.coding[0].display' AS display,
          resource->>'$.performedPeriod.start' AS performed_start,
          resource->>'$.performedPeriod.end' AS performed_end,
          resource->>'$.performedDateTime' AS performed_date_time
        FROM {{table}}""",
    "immunizations": f"""
        SELECT resource->>'$.id' AS immunization_id, {_key("$.patient.reference")} AS patient_id,
          {_key("$.encounter.reference")} AS encounter_id, resource->>'$.status' AS status,
          resource->>'$.vaccineCode.coding[0].code' AS vaccine_code,
          resource->>'$.vaccineCode.coding[0].display' AS vaccine_display,
          resource->>'$.occurrenceDateTime' AS occurrence,
          CAST(resource->>'$.primarySource' AS BOOLEAN) AS primary_source
        FROM {{table}}""",
}


def generate(replicas: int | None = None) -> dict[str, Path]:
    """NDJSON files per type: the sample's resources copied with fresh ids, ≥ TARGET in all."""
    OUT.mkdir(parents=True, exist_ok=True)
    bundles = sorted((SHARED / "data" / "synthea-r4" / "bundles").glob("*.json"))
    lines: dict[str, list[str]] = {t: [] for t in TYPES}
    for path in bundles:
        for entry in json.loads(path.read_text(encoding="utf-8")).get("entry", []):
            resource = entry["resource"]
            if resource["resourceType"] in lines:
                lines[resource["resourceType"]].append(json.dumps(resource, separators=(",", ":")))
    per_copy = sum(len(v) for v in lines.values())
    copies = replicas or -(-TARGET // per_copy)
    files = {t: OUT / f"{t}.ndjson" for t in TYPES}
    stamp = OUT / "copies.txt"
    if (
        stamp.exists()
        and stamp.read_text() == str(copies)
        and all(f.exists() for f in files.values())
    ):
        return files
    for resource_type, items in lines.items():
        text = "\n".join(items) + "\n"
        partial = files[resource_type].with_suffix(".part")
        with partial.open("w", encoding="utf-8") as handle:
            for copy in range(1, copies + 1):
                handle.write(UUID_HEAD.sub(f"{copy:08x}-", text))
        partial.replace(files[resource_type])
    stamp.write_text(str(copies))
    print(f"generated {per_copy * copies:,} resources ({copies} copies) in {OUT}")
    return files


def library() -> dict[str, dict[str, Any]]:
    from campus.views import service

    return service.library()


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def cpu_timed(fn: Any) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds of this process over all its threads, value)."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, value


def digest(con: Any, sql: str) -> tuple[int, int]:
    """(rows, order-independent hash of all rows) of a query, computed inside DuckDB."""
    row = con.execute(f"SELECT count(*), sum(hash(q::VARCHAR)) FROM ({sql}) AS q").fetchall()[0]
    return int(row[0]), int(row[1] or 0)


def run_campus_duckdb(files: dict[str, Path]) -> dict[str, Any]:
    from campus.views import service
    from campus.views.compiler import compile_view
    from campus.views.engines import DuckDBEngine
    from campus.views.sources import file_source

    engine = DuckDBEngine(file_source(list(files.values())))
    load, load_cpu, _ = cpu_timed(lambda: engine.table("Patient"))
    results: dict[str, Any] = {"load": load, "load_cpu": load_cpu, "views": {}}
    for name, view in library().items():
        definition = service.validate(view)
        table = engine.table(definition.resource)
        hand_sql = HAND_WRITTEN[name].format(table=table)

        def ours(d: Any = definition, t: str = table) -> Any:
            return engine.con.sql(compile_view(d, t).sql).to_arrow_table()

        def hand(sql: str = hand_sql) -> Any:
            return engine.con.sql(sql).to_arrow_table()

        def plain(d: Any = definition, t: str = table) -> Any:
            return engine.con.sql(compile_view(d, t, plain=True).sql).to_arrow_table()

        # Best of two runs each, alternating, so that a busy machine hurts all alike.
        runs = [cpu_timed(ours), cpu_timed(hand), cpu_timed(plain)]
        runs += [cpu_timed(ours), cpu_timed(hand), cpu_timed(plain)]
        arrow, hand_arrow = runs[0][2], runs[1][2]
        compiled = compile_view(definition, table)
        expected = digest(engine.con, hand_sql)
        same = digest(engine.con, compiled.sql) == expected
        plain_same = digest(engine.con, compile_view(definition, table, plain=True).sql) == expected
        results["views"][name] = {
            "rows": arrow.num_rows,
            "campus": min(runs[0][0], runs[3][0]),
            "campus_cpu": min(runs[0][1], runs[3][1]),
            "hand": min(runs[1][0], runs[4][0]),
            "hand_cpu": min(runs[1][1], runs[4][1]),
            "plain": min(runs[2][0], runs[5][0]),
            "plain_cpu": min(runs[2][1], runs[5][1]),
            "same_rows": same and plain_same and arrow.num_rows == hand_arrow.num_rows,
        }
    engine.close()
    return results


def run_campus_spark(files: dict[str, Path]) -> dict[str, Any]:
    from campus.views import service
    from campus.views.compiler import compile_view
    from campus.views.engines import SparkEngine, spark_session
    from campus.views.sources import file_source

    spark = spark_session("local[2]")
    engine = SparkEngine(file_source(list(files.values())), session=spark)
    load, _count = timed(
        lambda: spark.sql(f"SELECT count(*) FROM {engine.table('Patient')}").collect()
    )
    results: dict[str, Any] = {"load": load, "views": {}}
    for name, view in library().items():
        definition = service.validate(view)
        compiled = compile_view(definition, engine.table(definition.resource), "spark")
        # The noop sink computes every column of every row without collecting them.
        seconds, _ = timed(
            lambda c=compiled: spark.sql(c.sql).write.format("noop").mode("overwrite").save()
        )
        results["views"][name] = {"seconds": seconds}
    engine.close()
    return results


# Runs inside a competitor's own virtualenv: argv = label, {type: ndjson path}, {name: view}.
# Prints one JSON line: {"load": seconds, "views": {name: {"rows", "seconds"} | {"error"}}}.
DRIVER = r"""
import json, sys, time
label, files, views = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = {"views": {}}
if label == "fhir4ds":
    import duckdb
    from fhir4ds.dialects import DuckDBDialect
    from fhir4ds.datastore import FHIRDataStore
    from fhir4ds.view_runner import ViewRunner

    class Connection:
        # fhir4ds 0.5.1 runs INSTALL json at start, which downloads; json is built in DuckDB.
        def __init__(self, con):
            self._con = con
        def execute(self, sql, *args):
            if sql.strip().upper().startswith("INSTALL JSON"):
                return self._con.execute("LOAD json")
            return self._con.execute(sql, *args)
        def __getattr__(self, name):
            return getattr(self._con, name)

    con = duckdb.connect()
    store = FHIRDataStore(dialect=DuckDBDialect(connection=Connection(con)))
    start, cpu = time.perf_counter(), time.process_time()
    for path in files.values():
        # Its fastest load path: DuckDB reads the NDJSON into its resource table.
        con.execute(
            f"INSERT INTO {store.table_name} ({store.json_col}) "
            f"SELECT json FROM read_ndjson_objects('{path}', maximum_object_size=268435456)"
        )
    out["load"], out["load_cpu"] = time.perf_counter() - start, time.process_time() - cpu
    runner = ViewRunner(datastore=store)
    for name, view in views.items():
        try:
            start, cpu = time.perf_counter(), time.process_time()
            rows = runner.execute_view_definition(view).fetchall()
            out["views"][name] = {"rows": len(rows), "seconds": time.perf_counter() - start,
                                  "cpu": time.process_time() - cpu}
        except Exception as error:
            out["views"][name] = {"error": f"{type(error).__name__}: {error}"}
else:
    import fhir4ds
    from fhir4ds.cql.loader.fhir_loader import FHIRDataLoader

    con = fhir4ds.create_connection()
    loader = FHIRDataLoader(con)
    start, cpu = time.perf_counter(), time.process_time()
    for path in files.values():
        loader.load_ndjson(path)
    out["load"], out["load_cpu"] = time.perf_counter() - start, time.process_time() - cpu
    for name, view in views.items():
        try:
            start, cpu = time.perf_counter(), time.process_time()
            # It refuses resourceType "ViewDefinition" (it wants the canonical URL or none).
            plain = {k: v for k, v in view.items() if k != "resourceType"}
            sql = fhir4ds.generate_view_sql(plain)
            rows = con.execute(sql).arrow()
            count = rows.num_rows if hasattr(rows, "num_rows") else len(rows.read_all())
            out["views"][name] = {"rows": count, "seconds": time.perf_counter() - start,
                                  "cpu": time.process_time() - cpu}
        except Exception as error:
            out["views"][name] = {"error": f"{type(error).__name__}: {error}"}
print("BENCH_RESULT " + json.dumps(out))
"""


def run_competitor(label: str, python: str, files: dict[str, Path]) -> dict[str, Any] | None:
    if not Path(python).exists():
        print(
            f"{label}: skipped (no interpreter at {python}; create a virtualenv with "
            f"`python -m venv` and `pip install {label}`, then set the BENCH_ variable)"
        )
        return None
    paths = json.dumps({t: str(p) for t, p in files.items()})
    # fhir4ds-v2 refuses getResourceKey() in an `id` column and keys of `urn:uuid:`
    # references as ids: competitors get `id` and `string` columns (same work, same rows here).
    text = json.dumps(library()).replace('"getResourceKey()"', '"id"')
    views = json.loads(text.replace('"type": "id"', '"type": "string"'))
    command = [python, "-c", DRIVER, label, paths, json.dumps(views)]
    limit = int(os.environ.get("BENCH_VIEWS_COMPETITOR_TIMEOUT", "1200"))
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=limit, check=False)
    except subprocess.TimeoutExpired:
        print(f"{label}: did not finish load and all views within {limit} s")
        return None
    if done.returncode != 0:
        print(f"{label}: failed: {done.stderr.strip().splitlines()[-3:]}")
        return None
    marker = done.stdout.rfind("BENCH_RESULT ")
    if marker < 0:
        print(f"{label}: no result; its output ends with {done.stdout.strip()[-300:]!r}")
        return None
    return json.loads(done.stdout[marker + len("BENCH_RESULT ") :].splitlines()[0])


def main() -> None:
    replicas = os.environ.get("BENCH_VIEWS_REPLICAS")
    files = generate(int(replicas) if replicas else None)
    total = 0
    for path in files.values():
        with path.open("rb") as handle:
            total += sum(1 for _ in handle)
    print(f"resources: {total:,} in {len(files)} NDJSON files")
    campus = run_campus_duckdb(files)
    print(json.dumps(campus), flush=True)
    competitors = {
        "fhir4ds": run_competitor(
            "fhir4ds",
            os.environ.get("BENCH_FHIR4DS_PYTHON", "/tmp/bench-fhir4ds/bin/python"),
            files,
        ),
        "fhir4ds-v2": run_competitor(
            "fhir4ds-v2",
            os.environ.get("BENCH_FHIR4DS_V2_PYTHON", "/tmp/bench-fhir4ds-v2/bin/python"),
            files,
        ),
    }
    spark = run_campus_spark(files) if os.environ.get("BENCH_VIEWS_SPARK", "1") != "0" else None
    print("\nload (wall / CPU seconds):")
    print(f"  campus/duckdb {campus['load']:.1f} / {campus['load_cpu']:.1f}")
    for label, result in competitors.items():
        if result:
            print(f"  {label} {result['load']:.1f} / {result.get('load_cpu', 0):.1f}")
    if spark:
        print(f"  campus/spark {spark['load']:.1f} (lazy read and a count)")
    print(
        "\nqueries after load, wall / CPU seconds; ratio = campus / hand-written SQL; "
        "plain = campus without its fast path, and its ratio to hand-written SQL"
    )
    header = f"{'view':<21}{'rows':>9}{'hand SQL':>13}{'campus':>13}{'ratio':>11}"
    header += f"{'plain':>13}{'ratio':>11}{'same':>5}"
    for label in competitors:
        header += f"{label:>15}"
    print(header + f"{'spark':>8}")
    for name, row in campus["views"].items():
        line = (
            f"{name:<21}{row['rows']:>9,}{row['hand']:>6.2f}/{row['hand_cpu']:<6.2f}"
            f"{row['campus']:>6.2f}/{row['campus_cpu']:<6.2f}"
            f"{row['campus'] / row['hand']:>5.2f}/{row['campus_cpu'] / row['hand_cpu']:<5.2f}"
            f"{row['plain']:>6.2f}/{row['plain_cpu']:<6.2f}"
            f"{row['plain'] / row['hand']:>5.2f}/{row['plain_cpu'] / row['hand_cpu']:<5.2f}"
            f"{'yes' if row['same_rows'] else 'NO':>5}"
        )
        for result in competitors.values():
            view = (result or {}).get("views", {}).get(name)
            if view is None:
                line += f"{'-':>15}"
            elif "error" in view:
                line += f"{'error':>15}"
            else:
                line += f"{view['seconds']:>8.2f}/{view['cpu']:<6.2f}"
        if spark:
            line += f"{spark['views'][name]['seconds']:>8.2f}"
        print(line)
    errors = {
        label: {n: v["error"][:200] for n, v in (r or {}).get("views", {}).items() if "error" in v}
        for label, r in competitors.items()
    }
    print(f"\ncompetitor errors: {json.dumps(errors)}")
    (OUT / "results.json").write_text(
        json.dumps(
            {"resources": total, "campus": campus, "competitors": competitors, "spark": spark},
            indent=2,
        )
    )


if __name__ == "__main__":
    sys.exit(main())
