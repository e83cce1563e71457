"""Demo data of the warehouse: the synthetic hospital Campus generates, ingested as a
hospital's dataset through the normal ingest (pseudonymised, with its dummy twin)."""

from __future__ import annotations

import typer

from campus.auth.actor import Actor
from campus.db.engine import Database
from campus.settings import Settings
from campus.warehouse import synthetic

DATASET = "hopital-synthea"
PATIENTS = synthetic.DEFAULT_PATIENTS
TITLE = f"Hôpital de démonstration (synthétique, {PATIENTS} patients)"
DESCRIPTION = (
    "Dossiers synthétiques générés par Campus à la manière de Synthea (aucune personne "
    "réelle), intégrés comme les données d'un hôpital membre : pseudonymisés, avec leur "
    "jumeau fictif."
)


def load(settings: Settings, db: Database) -> None:
    """Generate the synthetic hospital under var/ and ingest it into dataset hopital-synthea
    (once: versions are kept on disk across demo resets)."""
    from campus.warehouse import service

    actor = Actor(account_id="demo", name="demo", via="system")
    with db.session() as session:
        dataset = service.get_dataset(session, DATASET)
        if dataset is None:
            dataset = service.create_dataset(session, actor, DATASET, title=TITLE)
        dataset.title = TITLE
        dataset.description = DESCRIPTION
        service.sync(session, settings, dataset)  # versions kept on disk across demo resets
        has_version = bool(dataset.versions)
    if has_version:
        return
    folder = settings.var_dir / "demo-hospital"
    files = synthetic.write(folder, PATIENTS)
    report = service.ingest(db, settings, actor, DATASET, files)
    typer.echo(
        f"warehouse demo: {DATASET} {report.version} — {report.resources:,} resources of "
        f"{PATIENTS} synthetic patients in {report.seconds:.1f} s"
    )
