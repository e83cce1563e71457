"""The demo's federated dataset: two hospital nodes registered at the centre, each serving a
copy of the demo hospital, with the public catalogue and dummy-twin sample a node posts.

The catalogues are built by the node's own code (`node.Node.catalogue`) on the demo
warehouse, in the demo's process: no node process is started. Federated jobs on this
dataset wait until a node runs (`campus node run`, docs/federation.md, "In the demo").
"""

from __future__ import annotations

import json

from campus.auth.actor import SYSTEM
from campus.db.engine import Database
from campus.errors import NotFound
from campus.federation import service
from campus.federation.node import Node
from campus.settings import Settings
from campus.warehouse.demo import DATASET

FEDERATED = "fed-hopitaux-demo"
NODES = (("chu-nord", "CHU Nord (démo)"), ("chu-sud", "CHU Sud (démo)"))


def load(settings: Settings, db: Database) -> None:
    """Register the nodes and the federated dataset, then post each node's catalogue."""
    with db.session() as session:
        if any(d.name == FEDERATED for d in service.list_datasets(session)):
            return  # already loaded
        for name, title in NODES:
            service.register_node(session, SYSTEM, name=name, title=title)
        members = [{"node": name, "dataset": DATASET} for name, _title in NODES]
        service.create_dataset(session, SYSTEM, name=FEDERATED, members=members)
    for name, _title in NODES:
        node = Node(settings, db, central="", token="", dataset=DATASET, centre_key="", name=name)
        try:
            posted = json.loads(json.dumps(node.catalogue(), default=str))
        except NotFound:
            return  # no demo hospital in the warehouse: the dataset's page says "not posted"
        with db.session() as session:
            service.receive_catalogue(session, service.get_node(session, name), posted)
