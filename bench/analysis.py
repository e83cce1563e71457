"""Analysis engine against hand-written DuckDB SQL, on Synthea replicated to >= 10M resources.

The 81 Synthea patients are ingested through the warehouse (pseudonymised), then every table
of the version is replicated K times with fresh ids (references rewritten so joins hold)
into a new published version. The same question is answered twice in the same run:

- by the analysis engine: library views compiled by campus.views, cohort and outputs
  compiled by campus.analysis, opt-out filtering, disclosure control;
- by hand-written DuckDB SQL over the same Parquet files, then the same disclosure control.

Question: patients with the most frequent condition code, indexed on its first onset; counts
by sex and a sex x 20-year age band cross-table. Reported: median of 5 runs each, the ratio.

    python -m bench analysis                      # >= 10M resources (factor computed)
    BENCH_ANALYSIS_FACTOR=20 python -m bench analysis   # smaller, for a quick look
"""

from __future__ import annotations

import math
import os
import statistics
import time
from pathlib import Path

import duckdb
from pydantic import SecretStr

from bench.common import replicate, resources_per_copy, sql_path
from campus.analysis import definition, disclosure, runner
from campus.analysis.results import Controls
from campus.auth.actor import SYSTEM
from campus.db.engine import Database
from campus.db.migrate import upgrade
from campus.settings import Settings
from campus.warehouse import layout
from campus.warehouse import service as warehouse

ROOT = Path(__file__).resolve().parents[1]
BUNDLES = Path(os.environ.get("CAMPUS_SHARED", ROOT.parent / "shared")) / "data/synthea-r4/bundles"
WORK = Path(os.environ.get("BENCH_ANALYSIS_DIR", ROOT / "var" / "bench-analysis"))
SOURCE, TARGET = "bench-synthea", "bench-synthea-big"
TARGET_RESOURCES = 10_000_000
RUNS = 5


def _settings() -> Settings:
    return Settings(
        env="development",
        var_dir=WORK,
        secret_key=SecretStr("bench-" + "s" * 40),
        pseudonym_key=SecretStr("bench-" + "p" * 40),
        optout_key=SecretStr("bench-" + "o" * 40),
    ).resolve()


def _ingest(settings: Settings) -> layout.DatasetVersion:
    if layout.versions(settings.warehouse_path, SOURCE):
        return layout.resolve(settings.warehouse_path, SOURCE)
    upgrade(settings.db_url)
    db = Database(settings.db_url)
    with db.session() as session:
        if warehouse.get_dataset(session, SOURCE) is None:
            warehouse.create_dataset(session, SYSTEM, SOURCE)
    files = sorted(BUNDLES.glob("*.json"))
    started = time.perf_counter()
    report = warehouse.ingest(db, settings, SYSTEM, SOURCE, files)
    seconds = time.perf_counter() - started
    print(f"ingest of {len(files)} bundles: {seconds:.1f} s, {report.read} resources")
    db.dispose()
    return layout.resolve(settings.warehouse_path, SOURCE)


_q = sql_path


def _top_code(folder: Path) -> str:
    con = duckdb.connect()
    table = _q(folder / "real" / "Condition.parquet")
    code = con.execute(
        f"SELECT split_part(code, '|', 2) FROM read_parquet({table}) "
        "GROUP BY 1 ORDER BY count(DISTINCT patient) DESC LIMIT 1"
    ).fetchone()[0]
    con.close()
    return code


def question(code: str, dataset: str = TARGET) -> dict:
    """The bench's analysis: patients with `code`, by sex and by sex x 20-year age band."""
    return {
        "title": "bench",
        "dataset": dataset,
        "views": {
            "patients": {"library": "patient_demographics"},
            "conditions": {"library": "conditions"},
        },
        "cohort": {
            "view": "patients",
            "index_date": {"view": "conditions", "column": "onset"},
            "birth_date": "birth_date",
            "include": [{"view": "conditions", "column": "code", "value": code}],
        },
        "outputs": [
            {"type": "counts", "name": "by_sex", "group_by": ["gender"]},
            {
                "type": "crosstab",
                "name": "sex_by_age",
                "rows": "gender",
                "columns": {"column": "age_at_index", "width": 20},
            },
        ],
    }


def _analysis(code: str) -> definition.Analysis:
    return definition.parse(question(code))


def _hand(folder: Path, code: str, keys: set[str], controls: Controls) -> dict:
    """The same question in hand-written DuckDB SQL, then the same disclosure control."""
    con = duckdb.connect(config={"threads": 2})
    patient, condition = folder / "real" / "Patient.parquet", folder / "real" / "Condition.parquet"
    in_keys = ", ".join("'" + k + "'" for k in sorted(keys)) or "NULL"
    optouts = _q(folder / "optout_keys.parquet")
    onset = "TRY_CAST(left(json_extract_string(resource, '$.onsetDateTime'), 10) AS DATE)"
    born = "coalesce(TRY_CAST(born AS DATE), TRY_CAST(born || '-01' AS DATE))"
    con.execute(
        f"""CREATE TEMP TABLE cohort AS
        WITH excluded AS (SELECT DISTINCT patient FROM read_parquet({optouts})
                          WHERE optout_key IN ({in_keys})),
        p AS (SELECT id AS pid, json_extract_string(resource, '$.gender') AS gender,
                     json_extract_string(resource, '$.birthDate') AS born
              FROM read_parquet({_q(patient)}) WHERE id NOT IN (SELECT patient FROM excluded)),
        c AS (SELECT patient AS pid,
                     min({onset}) AS idx
              FROM read_parquet({_q(condition)})
              WHERE json_extract_string(resource, '$.code.coding[0].code') = '{code}'
                AND patient NOT IN (SELECT patient FROM excluded)
              GROUP BY 1)
        SELECT gender, date_diff('month', {born}, idx) // 12 AS age
        FROM p JOIN c USING (pid) WHERE idx IS NOT NULL"""
    )
    by_sex = dict(
        ((g,), n)
        for g, n in con.execute("SELECT gender, count(*) FROM cohort GROUP BY 1").fetchall()
    )
    cross = {
        (g, f"{int(b)}–{int(b) + 20}" if b is not None else None): n
        for g, b, n in con.execute(
            "SELECT gender, floor(age / 20) * 20, count(*) FROM cohort GROUP BY 1, 2"
        ).fetchall()
    }
    con.close()
    tables = []
    for cells in (by_sex, cross):
        published, _report = disclosure.protect(
            cells, threshold=controls.threshold, base=controls.base
        )
        tables.append(published)
    return {"tables": tables}


def main() -> None:
    settings = _settings()
    source = _ingest(settings)
    per_copy = resources_per_copy(source)
    factor = int(os.environ.get("BENCH_ANALYSIS_FACTOR", math.ceil(TARGET_RESOURCES / per_copy)))
    started = time.perf_counter()
    folder, total = replicate(source, settings.warehouse_path, TARGET, 0, factor)
    print(f"replicated x{factor}: {total:,} resources ({time.perf_counter() - started:.1f} s)")
    code = _top_code(folder)
    analysis = _analysis(code)
    keys = {f"bench-key-{i}" for i in range(10)}  # a registry with objections (none match)
    controls = Controls(threshold=10, base=5)
    scope = runner.Scope((TARGET,), ("patient_demographics", "conditions"))
    engine_times, hand_times = [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        out = runner.execute(
            analysis,
            warehouse=settings.warehouse_path,
            kind="real",
            controls=controls,
            scope=scope,
            optout_keys=keys,
        )
        engine_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        hand = _hand(folder, code, keys, controls)
        hand_times.append(time.perf_counter() - t)
    engine_total = next(r[-1] for r in out["tables"][0]["rows"] if r[0] == "*")
    hand_total = hand["tables"][0][("*",)]
    engine, manual = statistics.median(engine_times), statistics.median(hand_times)
    print(f"cohort (code {code}): engine total {engine_total}, hand-written total {hand_total}")
    print(
        f"analysis engine   : {engine:.2f} s (runs: {', '.join(f'{x:.2f}' for x in engine_times)})"
    )
    print(f"hand-written SQL  : {manual:.2f} s (runs: {', '.join(f'{x:.2f}' for x in hand_times)})")
    print(f"ratio engine/hand : {engine / manual:.2f} (goal <= 1.5)")


if __name__ == "__main__":
    main()
