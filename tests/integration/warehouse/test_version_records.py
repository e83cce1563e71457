"""A published version is recorded once, whoever records it first: the ingest itself, or a
catalogue visit that finds the folder in the moment before the ingest's own record."""

from sqlalchemy import func, select

from campus.auth.actor import SYSTEM
from campus.warehouse import ingest as engine
from campus.warehouse import service
from campus.warehouse.models import DatasetVersionRow
from tests.unit.warehouse.samples import small_bundle, write_json


def test_a_catalogue_visit_between_publication_and_record_does_not_break_the_ingest(
    db, settings, tmp_path, monkeypatch
):
    real_run = engine.run

    def run_then_visit(*args, **kwargs):
        report = real_run(*args, **kwargs)  # the folder is published, not yet recorded
        with db.session() as session:
            service.list_datasets(session, settings)  # what /catalogue does
        return report

    monkeypatch.setattr(engine, "run", run_then_visit)
    bundle = write_json(tmp_path / "b.json", small_bundle())
    report = service.ingest(db, settings, SYSTEM, "hopital", [bundle])
    assert report.version == "v0001"
    with db.session() as session:
        rows = session.scalar(select(func.count()).select_from(DatasetVersionRow))
        assert rows == 1
        [dataset] = service.list_datasets(session, settings)
        assert [v.version for v in dataset.versions] == ["v0001"]
