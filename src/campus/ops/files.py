"""Owner-only files under var/: the database, the warehouse's Parquet, secrets, uploads.

Everything Campus writes there is for the service account alone: `Settings.resolve()` sets the
process umask to 077 before anything is created, so files come out 0600 and folders 0700.
`loose_paths` finds what another process, a copy or an older version left readable by
others; `check_at_start` warns about it (or, in production, refuses to start) and says
which `chmod` fixes it.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from campus.settings import ConfigurationError, Settings

log = logging.getLogger("campus.ops")

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
OPEN_BITS = 0o077  # group and other: none may be set
SHOWN = 10  # loose paths named in a message; the count says how many more


@dataclass(frozen=True)
class Loose:
    path: Path
    mode: int

    def __str__(self) -> str:
        kind = "folder" if stat.S_ISDIR(self.mode) else "file"
        return f"{self.path} ({kind} {stat.S_IMODE(self.mode):04o})"


def private_roots(settings: Settings) -> list[Path]:
    """The folders whose whole content must be owner-only: var/ and the warehouse."""
    roots = [settings.var_dir.resolve()]
    warehouse = settings.warehouse_path
    if not any(warehouse == root or root in warehouse.parents for root in roots):
        roots.append(warehouse)
    database = _sqlite_file(settings.db_url)
    if database is not None and not any(root in database.parents for root in roots):
        roots.append(database)
    return roots


def _sqlite_file(url: str) -> Path | None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url.endswith(":memory:"):
        return None
    return Path(url[len(prefix) :].split("?", 1)[0]).resolve()


def _walk(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    try:
        info = root.lstat()
    except FileNotFoundError:
        return
    yield root, info
    if not stat.S_ISDIR(info.st_mode):
        return
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue  # removed while walking (a staging folder)
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            if stat.S_ISLNK(info.st_mode):
                continue  # a link's own mode means nothing; its target is checked where it is
            path = Path(entry.path)
            yield path, info
            if stat.S_ISDIR(info.st_mode):
                stack.append(path)


def loose_paths(roots: Iterable[Path]) -> list[Loose]:
    """Every file or folder under `roots` that its group or others may read, write or enter."""
    return [
        Loose(path, info.st_mode)
        for root in roots
        for path, info in _walk(root)
        if info.st_mode & OPEN_BITS
    ]


def problems(settings: Settings) -> list[str]:
    """What is readable by others under var/ and the warehouse, and the chmod that fixes it."""
    roots = private_roots(settings)
    found = loose_paths(roots)
    if not found:
        return []
    named = "; ".join(str(one) for one in found[:SHOWN])
    more = f" and {len(found) - SHOWN} more" if len(found) > SHOWN else ""
    fix = " && ".join(f"chmod -R go-rwx {root}" for root in roots)
    return [
        f"{len(found)} path(s) readable by other accounts: {named}{more}. "
        f"Fix: {fix} (and run Campus with umask 077)"
    ]


def check_at_start(settings: Settings) -> None:
    """Warn about loose file modes; refuse to start in production."""
    found = problems(settings)
    if not found:
        return
    if settings.is_production:
        raise ConfigurationError("Refusing to start in production:\n- " + "\n- ".join(found))
    for message in found:
        log.warning("%s", message)


def private_metrics_dir(settings: Settings) -> Path:
    """Point PROMETHEUS_MULTIPROC_DIR at an owner-only folder (var/metrics unless it is set)
    before any web worker starts, and remove the files of processes that are gone (a
    `campus worker` sharing the folder keeps its own); see campus.ops.metrics."""
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or settings.var_dir / "metrics")
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    for path in folder.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if not pid.isdigit() or not Path(f"/proc/{pid}").exists():
            path.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder.resolve())
    return folder
