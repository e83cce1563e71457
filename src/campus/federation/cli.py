"""`campus federation ...` (the centre's staff) and `campus node ...` (a hospital node)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import httpx
import typer

from campus.auth.actor import Actor, Grant
from campus.commandline import database, fail
from campus.errors import CampusError
from campus.settings import get_settings

federation_app = typer.Typer(
    help="At the centre: hospital nodes, their credentials, federated datasets.",
    no_args_is_help=True,
)
node_app = typer.Typer(
    help="At a hospital: run federated tasks on the local warehouse, outbound only.",
    no_args_is_help=True,
)

CLI_ACTOR = Actor(account_id="cli", name="cli", via="cli", grants=frozenset({Grant("staff")}))


@federation_app.command("key")
def key() -> None:
    """Print the centre's public key (PEM) and its fingerprint, to pin at each node."""
    from campus.federation import signing

    pem = signing.public_pem(get_settings().var_dir)
    typer.echo(pem.strip())
    typer.echo(f"fingerprint sha256 {signing.fingerprint(pem)}")


@federation_app.command("add-node")
def add_node(
    name: str,
    title: Annotated[str, typer.Option(help="The hospital's name, as shown.")],
) -> None:
    """Register a hospital node."""
    from campus.federation import service

    try:
        with database().session() as session:
            node = service.register_node(session, CLI_ACTOR, name=name, title=title)
            typer.echo(f"node {node.name} registered")
    except CampusError as error:
        raise fail(error.message) from error


@federation_app.command("credential")
def credential(
    name: str,
    out: Annotated[Path, typer.Option(help="Write the token to this file (mode 0600).")],
) -> None:
    """Issue a node credential; the token goes to a file to hand over, never to the screen."""
    from campus.federation import service

    try:
        with database().session() as session:
            row, token = service.issue_credential(
                session, CLI_ACTOR, service.get_node(session, name)
            )
            out.touch(mode=0o600)
            out.write_text(token + "\n")
            typer.echo(f"credential {row.id} for {name} written to {out}")
    except CampusError as error:
        raise fail(error.message) from error


@federation_app.command("revoke")
def revoke(credential_id: str) -> None:
    """Revoke a node credential at once."""
    from campus.federation import service

    try:
        with database().session() as session:
            service.revoke_credential(session, CLI_ACTOR, credential_id)
            typer.echo(f"credential {credential_id} revoked")
    except CampusError as error:
        raise fail(error.message) from error


@federation_app.command("dataset")
def dataset(
    name: str,
    member: Annotated[
        list[str], typer.Option(help="node:dataset, once per node (e.g. chu-a:hopital-a).")
    ],
) -> None:
    """Name a federated dataset from datasets held at nodes."""
    from campus.federation import service

    members = []
    for item in member:
        node, _, local = item.partition(":")
        if not local:
            raise fail(f"--member {item!r}: write node:dataset")
        members.append({"node": node, "dataset": local})
    try:
        with database().session() as session:
            row = service.create_dataset(session, CLI_ACTOR, name=name, members=members)
            typer.echo(f"federated dataset {row.name}: {json.dumps(row.members)}")
    except CampusError as error:
        raise fail(error.message) from error


def _node(central: str, token_file: Path, dataset: str, centre_key: Path, name: str, hold: bool):
    from campus.federation.node import Node

    for path in (token_file, centre_key):
        if not path.is_file():
            raise fail(f"no file {path}")
    settings = get_settings()
    from campus.db.engine import Database

    return Node(
        settings=settings,
        db=Database(settings.db_url),
        central=central,
        token=token_file.read_text().strip(),
        dataset=dataset,
        centre_key=centre_key.read_text(),
        name=name,
        hold=hold,
    )


Central = Annotated[str, typer.Option("--central", help="The centre's base URL (https://...).")]
TokenFile = Annotated[Path, typer.Option(help="File holding this node's credential.")]
CentreKey = Annotated[Path, typer.Option(help="The centre's public key (PEM), pinned.")]
NodeName = Annotated[str, typer.Option("--name", help="This node's name at the centre.")]


@node_app.command("run")
def run(
    central: Central,
    token_file: TokenFile,
    dataset: Annotated[str, typer.Option(help="The local dataset this node serves.")],
    centre_key: CentreKey,
    name: NodeName,
    hold: Annotated[bool, typer.Option(help="Hold answers for the data steward.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 10.0,
    once: Annotated[bool, typer.Option(help="Poll once and exit.")] = False,
) -> None:
    """Poll the centre (outbound only) for signed tasks, run them here, send statistics."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    from campus.federation.node import Rejected

    node = _node(central, token_file, dataset, centre_key, name, hold)
    try:
        if once:
            typer.echo(f"{node.once()} task(s) handled")
            return
        node.run(interval)
    except (Rejected, RuntimeError) as error:
        raise fail(str(error)) from error
    except httpx.HTTPError as error:
        raise fail(f"the centre at {central} is unreachable: {error}") from error


@node_app.command("publish")
def publish(
    central: Central,
    token_file: TokenFile,
    dataset: Annotated[str, typer.Option(help="The local dataset this node serves.")],
    centre_key: CentreKey,
    name: NodeName,
) -> None:
    """Post the dataset's public catalogue and a dummy-twin sample to the centre."""
    from campus.federation.node import Rejected

    node = _node(central, token_file, dataset, centre_key, name, False)
    try:
        node.publish()
    except (Rejected, RuntimeError, CampusError) as error:
        raise fail(str(error)) from error
    except httpx.HTTPError as error:
        raise fail(f"the centre at {central} is unreachable: {error}") from error
    typer.echo(f"catalogue of {dataset} posted")


@node_app.command("held")
def held() -> None:
    """List the answers waiting for the data steward (with --hold)."""
    folder = get_settings().var_dir / "federation" / "held"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        typer.echo(f"{path.stem}\t{path}")


@node_app.command("release")
def release(
    task_id: str,
    central: Central,
    token_file: TokenFile,
    centre_key: CentreKey,
    name: NodeName,
    dataset: Annotated[str, typer.Option(help="The local dataset this node serves.")],
) -> None:
    """Send a held answer to the centre, once the data steward has read it."""
    node = _node(central, token_file, dataset, centre_key, name, False)
    try:
        node.release(task_id)
    except (FileNotFoundError, RuntimeError) as error:
        raise fail(str(error)) from error
    typer.echo(f"answer to {task_id} sent")
