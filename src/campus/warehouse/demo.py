"""Demo data of the warehouse: the shared Synthea sample ingested as a hospital's dataset."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from campus.auth.actor import Actor
from campus.db.engine import Database
from campus.settings import Settings

DATASET = "hopital-synthea"
TITLE = "Hôpital de démonstration (Synthea, 81 patients)"
DESCRIPTION = (
    "Dossiers synthétiques générés par Synthea (aucune personne réelle), intégrés comme les "
    "données d'un hôpital membre : pseudonymisés, avec leur jumeau fictif."
)
REPO = Path(__file__).resolve().parents[3]


def sample_folder() -> Path | None:
    """The Synthea bundles under $CAMPUS_SHARED, else under ../shared next to the repo."""
    candidates = []
    if os.environ.get("CAMPUS_SHARED"):
        candidates.append(Path(os.environ["CAMPUS_SHARED"]))
    candidates += [REPO.parent / "shared", REPO / "shared"]
    for base in candidates:
        folder = base / "data" / "synthea-r4" / "bundles"
        if folder.is_dir():
            return folder
    return None


def load(settings: Settings, db: Database) -> None:
    """Ingest the Synthea sample into dataset hopital-synthea (skipped when it is absent)."""
    from campus.warehouse import service

    folder = sample_folder()
    if folder is None:
        typer.echo("warehouse demo: the shared Synthea sample was not found (set CAMPUS_SHARED)")
        return
    actor = Actor(account_id="demo", name="demo", via="system")
    with db.session() as session:
        dataset = service.get_dataset(session, DATASET)
        if dataset is None:
            dataset = service.create_dataset(session, actor, DATASET, title=TITLE)
        dataset.description = DESCRIPTION
        service.sync(session, settings, dataset)  # versions kept on disk across demo resets
        has_version = bool(dataset.versions)
    if has_version:
        return
    report = service.ingest(db, settings, actor, DATASET, [folder])
    typer.echo(
        f"warehouse demo: {DATASET} {report.version} — {report.resources:,} resources "
        f"in {report.seconds:.0f} s"
    )
