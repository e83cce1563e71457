"""The demo's federated dataset, loaded without any node process."""

from pathlib import Path

from campus.auth.actor import SYSTEM
from campus.federation import demo
from campus.warehouse import service as warehouse


def test_the_demo_names_two_nodes_and_shows_their_catalogues_and_dummy_twins(
    db, settings, hospital_bundles: list[Path], client
):
    with db.session() as session:
        warehouse.create_dataset(session, SYSTEM, demo.DATASET)
    bundles = [f for f in hospital_bundles if "Information" not in f.name][:20]
    warehouse.ingest(db, settings, SYSTEM, demo.DATASET, bundles, workers=1)
    demo.load(settings, db)
    demo.load(settings, db)  # loading twice changes nothing
    shown = client.get(f"/api/v1/federation/datasets/{demo.FEDERATED}").json()
    assert [m["node"] for m in shown["members"]] == ["chu-nord", "chu-sud"]
    for member in shown["members"]:
        assert member["catalogue"]["patients"] and member["twin"]["Patient"]
    page = client.get(f"/federation/datasets/{demo.FEDERATED}")
    assert page.status_code == 200 and "CHU Nord (démo)" in page.text
