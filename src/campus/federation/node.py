"""The hospital side: `campus node run` polls the centre OUTBOUND for signed tasks, runs each
on the node's own warehouse with the same engine and its own disclosure control, and posts
back only the checked statistics (`pooling.from_result`).

Before any data is read the node checks, itself: the centre's signature (against the key
pinned at the node, never one fetched from the centre), the task's expiry, that it is
addressed to this node and its dataset, and that its scope names that dataset only. A task
failing any check is refused, audited in the node's own chain, and the reason sent back.
With `--hold`, answers wait in the node's var folder for its data steward (`campus node
release`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from campus.analysis import definition, jobs, runner
from campus.audit import service as audit
from campus.db.engine import Database
from campus.errors import CampusError
from campus.federation import kinds, pooling, regression, signing, statistics
from campus.federation.nodes import NODE_HEADER
from campus.optout import service as optout
from campus.settings import Settings

log = logging.getLogger(__name__)
API = "/api/v1/federation/node"
TWIN_ROWS = 5


class Refused(Exception):
    """A task the node will not run: the reason goes back to the centre and the audit."""


class Rejected(Exception):
    """The centre does not accept this node's credential (unknown or revoked)."""


def _reason(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


@dataclass
class Node:
    settings: Settings
    db: Database
    central: str
    token: str
    dataset: str
    centre_key: str  # PEM, pinned
    name: str
    hold: bool = False

    def _client(self) -> httpx.Client:
        csrf = secrets.token_urlsafe(16)  # signed-out double submit: the node is no browser
        return httpx.Client(
            base_url=self.central.rstrip("/"),
            headers={NODE_HEADER: self.token, "x-csrf-token": csrf},
            cookies={"campus_csrf": csrf},
            timeout=60,
        )

    def verify(self, task: dict[str, Any], now: dt.datetime | None = None) -> dict[str, Any]:
        """The task's payload if signed by the pinned key, unexpired and for this node."""
        payload, signature = task.get("payload"), task.get("signature")
        if not isinstance(payload, dict) or not isinstance(signature, str):
            raise Refused("malformed task")
        if not signing.verify(signing.load_public(self.centre_key), payload, signature):
            raise Refused("bad signature: the task was not signed by the pinned centre key")
        now = now or dt.datetime.now(dt.UTC)
        try:
            expires = dt.datetime.fromisoformat(payload["expires_at"])
        except (KeyError, TypeError, ValueError) as error:
            raise Refused("the task has no valid expiry") from error
        if expires <= now:
            raise Refused(f"the task expired at {payload['expires_at']}")
        if payload.get("node") != self.name:
            raise Refused(f"the task is addressed to node {payload.get('node')!r}")
        if payload.get("dataset") != self.dataset:
            raise Refused(f"the task asks for dataset {payload.get('dataset')!r}, not served here")
        scope = payload.get("scope") or {}
        if scope.get("datasets") != [self.dataset]:
            raise Refused("the task's scope must name this node's dataset only")
        if (payload.get("definition") or {}).get("dataset") != self.dataset:
            raise Refused("the task's definition reads another dataset")
        if payload.get("kind", kinds.ANALYSIS) not in kinds.names():
            raise Refused(f"this node does not run tasks of kind {payload.get('kind')!r}")
        return payload

    def run_task(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Run locally on the real data (the node's opt-outs applied); the statistics only.

        Under differential privacy the node noises its own cells with the task's epsilon
        (the centre charged the project's budget once, before issuing the tasks). A task of
        another kind is run by its kind (`campus.federation.kinds`)."""
        kind = payload.get("kind", kinds.ANALYSIS)
        if kind != kinds.ANALYSIS:
            return kinds.get(kind).run(self, payload)
        analysis, model = regression.parse(payload["definition"])
        scope = runner.Scope(
            tuple(payload["scope"]["datasets"]),
            tuple(payload["scope"].get("views", [])),
            tuple(payload["scope"].get("elements", [])),
        )
        if model is not None:
            return self.run_round(payload, analysis, model, scope)
        pooling.expected_tables(analysis)
        local = statistics.local_definition(analysis)
        with self.db.session() as session:
            keys = optout.all_keys(session)
            controls, _epsilon = jobs.controls_for(self.settings, local, session)
        result = runner.execute(
            local,
            warehouse=self.settings.warehouse_path,
            kind="real",
            controls=controls,
            scope=scope,
            optout_keys=keys,
        )
        sums = (
            statistics.summaries(
                local,
                warehouse=self.settings.warehouse_path,
                scope=scope,
                optout_keys=keys,
                controls=controls,
            )
            if result.get("cohort") is not None
            else {}
        )
        return pooling.from_result(analysis, result, sums)

    def run_round(
        self,
        payload: dict[str, Any],
        analysis: definition.Analysis,
        model: regression.LogisticRegression,
        scope: runner.Scope,
    ) -> dict[str, Any]:
        """One Newton-Raphson round of a federated logistic regression: this node's score and
        information at the task's coefficients, on the version read at the first round."""
        found = runner.prepare(analysis, self.settings.warehouse_path, scope)
        version = regression.pinned_version(
            self.settings.var_dir / "federation" / "versions",
            str(payload["job"]),
            self.dataset,
            found.version,
        )
        pinned = analysis.model_copy(update={"version": version})
        with self.db.session() as session:
            keys = optout.all_keys(session)
            controls, _epsilon = jobs.controls_for(self.settings, pinned, session)
        coefficients = payload.get("coefficients")
        if not isinstance(coefficients, list):
            raise ValueError("the task carries no coefficients")
        return regression.contribution(
            pinned,
            model,
            [float(b) for b in coefficients],
            warehouse=self.settings.warehouse_path,
            optout_keys=keys,
            threshold=controls.threshold,
        )

    def _audit(self, action: str, payload: dict[str, Any] | None, details: dict) -> None:
        with self.db.session() as session:
            audit.record(
                session,
                actor=f"centre:{self.central}",
                action=action,
                object_type="federated_task",
                object_id=str((payload or {}).get("task", "")),
                details=details,
            )

    def held_dir(self) -> Path:
        return self.settings.var_dir / "federation" / "held"

    def once(self) -> int:
        """One poll: every waiting task handled; returns how many."""
        with self._client() as client:
            response = client.get(f"{API}/tasks")
            if response.status_code in (401, 403):
                raise Rejected(f"the centre refused this node's credential: {_reason(response)}")
            response.raise_for_status()
            handled = 0
            for task in response.json():
                handled += 1
                task_id = str((task.get("payload") or {}).get("task", ""))
                if (self.held_dir() / f"{task_id}.json").exists():
                    continue  # waiting for the steward
                try:
                    payload = self.verify(task)
                except Refused as refusal:
                    self._audit(
                        "federated_task.refused", task.get("payload"), {"reason": str(refusal)}
                    )
                    log.warning("task %s refused: %s", task_id, refusal)
                    client.post(f"{API}/tasks/{task_id}/refusal", json={"reason": str(refusal)})
                    continue
                try:
                    answer: dict[str, Any] = self.run_task(payload)
                except (CampusError, ValueError) as error:
                    # The reason stays at the node: an error from the data must not travel.
                    log.warning("task %s failed on the data: %s", task_id, error)
                    answer = {"failed": True}
                self._audit("federated_task.ran", payload, {"job": payload.get("job")})
                if self.hold:
                    folder = self.held_dir()
                    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
                    (folder / f"{task_id}.json").write_text(json.dumps(answer))
                    continue
                self.post(client, task_id, answer)
            return handled

    def post(self, client: httpx.Client, task_id: str, answer: dict[str, Any]) -> None:
        response = client.post(f"{API}/tasks/{task_id}/answer", json=answer)
        if response.status_code >= 400:
            raise RuntimeError(f"the centre refused the answer to {task_id}: {response.text}")

    def release(self, task_id: str) -> None:
        """The steward sends a held answer (as it is in the held folder, to read first)."""
        path = self.held_dir() / f"{task_id}.json"
        if not path.is_file():
            raise FileNotFoundError(f"no held answer for task {task_id}")
        with self._client() as client:
            self.post(client, task_id, json.loads(path.read_text()))
        path.unlink()

    def catalogue(self, rows_per_type: int = TWIN_ROWS) -> dict[str, Any]:
        """The dataset's public catalogue and a few rows of each dummy-twin table (synthetic
        records, built to travel): what the centre shows on the federated dataset's page."""
        import pyarrow.parquet as pq

        from campus.warehouse import layout
        from campus.warehouse import service as warehouse

        public = warehouse.catalogue(self.settings, self.dataset)
        found = layout.resolve(self.settings.warehouse_path, self.dataset, public["version"])
        twin = {}
        for name, path in sorted(found.tables("dummy").items()):
            rows: list[dict[str, Any]] = []
            for part in layout.files(path):  # the first rows only, not the whole table
                batch = next(pq.ParquetFile(part).iter_batches(batch_size=rows_per_type), None)
                rows += batch.to_pylist()[: rows_per_type - len(rows)] if batch else []
                if len(rows) >= rows_per_type:
                    break
            twin[name] = rows
        return {"dataset": self.dataset, "catalogue": public, "twin": twin}

    def publish(self) -> None:
        """Post the catalogue and twin sample to the centre (at start, and on demand)."""
        with self._client() as client:
            response = client.post(
                f"{API}/catalogue",
                content=json.dumps(self.catalogue(), default=str),
                headers={"content-type": "application/json"},
            )
            if response.status_code in (401, 403):
                raise Rejected(f"the centre refused this node's credential: {_reason(response)}")
            if response.status_code >= 400:
                raise RuntimeError(f"the centre refused the catalogue: {_reason(response)}")

    def run(self, interval: float, stop_after: int | None = None) -> None:
        try:
            self.publish()
        except (httpx.HTTPError, RuntimeError) as error:
            log.warning("catalogue not posted: %s", error)
        polls = 0
        while stop_after is None or polls < stop_after:
            try:
                self.once()
            except httpx.HTTPError as error:  # down or slow: try again at the next poll
                log.warning("centre unreachable: %s", error)
            except RuntimeError as error:  # an answer refused: said, the task stays issued
                log.error("%s", error)
            polls += 1
            time.sleep(interval)
