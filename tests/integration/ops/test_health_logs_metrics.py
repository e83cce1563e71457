"""Operations through the app: /readyz, one JSON log line a request and a job step, /metrics."""

import datetime as dt
import json
import logging
import re

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from campus.analysis import jobs
from campus.ops import health, logs
from tests.integration.analysis import warehouse
from tests.integration.analysis.setup import approve

METRICS_TOKEN = "metrics-" + "m" * 40


def _request_lines(caplog) -> list[dict]:
    formatter = logs.JsonFormatter()
    return [
        json.loads(formatter.format(r))
        for r in caplog.records
        if r.name == "campus.requests" and isinstance(r.msg, dict)
    ]


def test_readyz_is_ready_on_a_migrated_database_and_names_no_detail(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "warehouse": "ok", "worker": "ok"},
    }


def test_readyz_is_503_when_a_migration_branch_is_not_at_its_head(client, db):
    def version(drop: str, add: str = "") -> None:
        with db.engine.begin() as connection:
            connection.execute(
                text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": drop}
            )
            if add:
                connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": add})

    with db.engine.connect() as connection:
        recorded = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        recorded = list(recorded)
    version("0110_oidc", "0100_auth_base_gone")
    try:  # the PostgreSQL database is shared by the tests of this worker: put it back
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["migrations"] == "failed"
        found = health.migrations(db.engine)
        assert "0100_auth_base_gone" in found.detail  # a revision this code does not know
        version("0100_auth_base_gone")  # 0110_oidc not applied
        assert "0110_oidc" in health.migrations(db.engine).detail
        assert health.migrations(db.engine).fix == "run `campus db upgrade`"
    finally:
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM alembic_version"))
            for head in recorded:
                connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": head})


def test_readyz_is_503_when_the_warehouse_folder_is_gone(client, settings):
    settings.warehouse_path.rmdir()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["warehouse"] == "failed"


def test_a_request_writes_one_json_line_with_its_id_route_template_status_and_duration(
    client, caplog
):
    secret_path = "/api/v1/events/tok_SECRET-in-path"
    with caplog.at_level(logging.INFO, logger="campus.requests"):
        response = client.get(secret_path + "?email=someone@example.org")
    request_id = response.headers["x-request-id"]
    (line,) = [one for one in _request_lines(caplog) if one["request_id"] == request_id]
    assert line["event"] == "request" and line["method"] == "GET"
    assert line["route"] == "/api/v1/events/{event_id}"
    assert line["status"] == response.status_code == 404
    assert isinstance(line["duration_ms"], float)
    written = json.dumps(line)
    assert "SECRET" not in written and "@" not in written


def test_a_proxy_request_id_is_kept_and_a_malformed_one_replaced(client, caplog):
    kept = client.get("/healthz", headers={"X-Request-Id": "nginx-0123456789abcdef"})
    assert kept.headers["x-request-id"] == "nginx-0123456789abcdef"
    injected = client.get("/healthz", headers={"X-Request-Id": 'x"}\n{"event":"forged"'})
    assert injected.headers["x-request-id"] != 'x"}\n{"event":"forged"'
    assert len(injected.headers["x-request-id"]) == 32


def test_metrics_are_not_served_without_the_token_setting(client):
    assert client.get("/metrics").status_code == 404


@pytest.fixture
def metrics_client(settings, db):
    from campus.site.app import create_app
    from tests.helpers import CampusClient

    settings.metrics_token = SecretStr(METRICS_TOKEN)
    with CampusClient(create_app(settings, db)) as client:
        yield client


def test_metrics_need_the_bearer_token_and_count_requests_by_route_template(metrics_client):
    metrics_client.get("/api/v1/events/some-id-1")
    metrics_client.get("/api/v1/events/some-id-2")
    assert metrics_client.get("/metrics").status_code == 401
    wrong = metrics_client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    scraped = metrics_client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert scraped.status_code == 200
    body = scraped.text
    assert (
        'campus_http_requests_total{method="GET",route="/api/v1/events/{event_id}",status="4xx"}'
        in body
    )
    assert "campus_http_request_duration_seconds_bucket" in body
    assert "some-id" not in body
    assert "campus_audit_chain_length" in body and "campus_jobs_oldest_queued_seconds" in body


@pytest.mark.slow
def test_a_waiting_job_without_a_worker_degrades_readiness_and_steps_are_logged(
    client, db, settings, world, monkeypatch, caplog
):
    approve(db, settings, world)
    client.login("chercheuse@example.org")
    submitted = client.post(
        f"/api/v1/projects/{world.project_id}/jobs",
        json={"approval_id": world.approval_id, "definition": warehouse.MARKER_ANALYSIS},
    )
    assert submitted.status_code == 201, submitted.text
    assert client.get("/readyz").json()["checks"]["worker"] == "ok"  # it has just been queued
    monkeypatch.setattr(health, "WORKER_LATE", dt.timedelta(0))
    late = client.get("/readyz")
    assert late.status_code == 200  # pages still work without workers
    assert late.json()["status"] == "degraded" and late.json()["checks"]["worker"] == "failed"
    logs.observe_jobs()
    with caplog.at_level(logging.INFO, logger="campus.jobs"):
        assert jobs.work_once(db, settings) == submitted.json()["id"]
    formatter = logs.JsonFormatter()
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "campus.jobs"]
    steps = [line for line in lines if line["event"] == "job.step"]
    assert len(steps) >= 3 and all(s["job"] == submitted.json()["id"] for s in steps)
    (end,) = [line for line in lines if line["event"] == "job.end"]
    assert end["status"] == "succeeded" and end["duration_s"] >= 0
    assert warehouse.MARKER not in json.dumps(lines)
    assert client.get("/readyz").json()["status"] == "ready"


def test_an_unexpected_error_answers_with_the_request_id_of_its_log_lines(app, caplog):
    from tests.helpers import CampusClient

    @app.get("/api/v1/ops-test-boom")
    def boom():
        raise RuntimeError("MARKER-in-message")

    with (
        CampusClient(app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.INFO),
    ):
        response = client.get("/api/v1/ops-test-boom")
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    (line,) = [one for one in _request_lines(caplog) if one["request_id"] == request_id]
    assert line["status"] == 500 and line["route"] == "/api/v1/ops-test-boom"
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"(request {request_id})" in message for message in errors)
    assert "MARKER" not in caplog.text


def test_an_error_raised_in_a_middleware_layer_still_answers_with_its_request_id(
    app, caplog, monkeypatch
):
    """Outside any handler (a layer between the request log and the routes): the 500 is
    answered by the outermost error layer, which still echoes the id of the log lines."""
    from campus.web.middleware import RequestContext
    from tests.helpers import CampusClient

    through = RequestContext.__call__

    async def broken(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] == "/healthz":
            raise RuntimeError("MARKER-in-a-layer")
        await through(self, scope, receive, send)

    monkeypatch.setattr(RequestContext, "__call__", broken)
    with (
        CampusClient(app, raise_server_exceptions=False) as client,
        caplog.at_level(logging.INFO),
    ):
        response = client.get("/healthz", headers={"accept": "application/json"})
    assert response.status_code == 500
    request_id = response.headers["x-request-id"]
    (line,) = [one for one in _request_lines(caplog) if one["request_id"] == request_id]
    assert line["status"] == 500
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(f"(request {request_id})" in message for message in errors)
    assert "MARKER" not in caplog.text


def _sample(text_: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text_, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def test_an_ingest_is_counted_with_its_duration(metrics_client, settings, monkeypatch, tmp_path):
    from tests.helpers import run_cli
    from tests.unit.warehouse.samples import small_bundle, write_json

    auth = {"Authorization": f"Bearer {METRICS_TOKEN}"}
    name = 'campus_ingest_duration_seconds_count{outcome="published"}'
    before = _sample(metrics_client.get("/metrics", headers=auth).text, name)
    bundle = write_json(tmp_path / "b.json", small_bundle())
    ingested = run_cli(monkeypatch, settings, "ingest", "--dataset", "metrics-demo", str(bundle))
    assert ingested.exit_code == 0, ingested.output
    after = metrics_client.get("/metrics", headers=auth).text
    assert _sample(after, name) == before + 1
    assert _sample(after, 'campus_ingest_duration_seconds_sum{outcome="published"}') > 0
