"""A Spark standalone cluster on loopback, started from the PySpark distribution.

A master and N workers, each a `spark-class` process of the PySpark installed (its
`bin/spark-class`, Java on the PATH), bound to 127.0.0.1 on ports the system gives. Used by
the cluster test (tests/integration/analysis/test_spark_cluster.py) and the Spark bench
(bench/spark.py), so both try Campus on a real cluster the way docs/deployment.md starts one:

    with standalone_cluster(folder) as cluster:
        run_job(spark_master=cluster.url)

The cluster is up when the master's web UI lists every worker ALIVE; it is stopped (SIGTERM,
then SIGKILL after 30 s) when the `with` ends, also on an error. Each process logs to
`folder/process<i>.log` (the master is 0); workers keep their executors' files under
`folder/work<i>`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
LOG_TAIL = 2000  # characters of each process's log in the error of a cluster that did not start


class ClusterDidNotStart(RuntimeError):
    """The master or a worker exited, or not every worker registered in time."""


@dataclass(frozen=True)
class Cluster:
    url: str  # spark://127.0.0.1:PORT, the master for drivers
    ui: str  # http://127.0.0.1:PORT, the master's web UI (its /json/ lists workers and apps)
    processes: tuple[subprocess.Popen, ...]  # the master first, then the workers

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.processes]

    def state(self) -> dict:
        """The master's view of the cluster: workers, active and completed applications."""
        return httpx.get(f"{self.ui}/json/", timeout=5).json()


def spark_home() -> Path | None:
    """The PySpark distribution's folder, if PySpark is installed and ships `spark-class`."""
    try:
        import pyspark
    except ImportError:
        return None
    home = Path(pyspark.__file__).parent
    return home if (home / "bin" / "spark-class").exists() else None


def spark_env(home: Path | None = None) -> dict[str, str]:
    """The environment of the cluster's processes and of drivers that use it: this PySpark's
    SPARK_HOME, loopback, and no SPARK_CONF_DIR (the host's own Spark settings stay out)."""
    env = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1"}
    found = home or spark_home()
    if found is not None:
        env["SPARK_HOME"] = str(found)
    env.pop("SPARK_CONF_DIR", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _commands(
    spark_class: str, folder: Path, port: int, ui_port: int, workers: int, cores: int, memory: str
) -> list[list[str]]:
    url = f"spark://127.0.0.1:{port}"
    master = ("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui_port))
    commands = [[spark_class, MASTER_CLASS, *master]]
    for i in range(workers):
        worker = ("--host", "127.0.0.1", "--cores", str(cores), "--memory", memory)
        where = ("--webui-port", str(free_port()), "--work-dir", str(folder / f"work{i}"))
        commands.append([spark_class, WORKER_CLASS, *worker, *where, url])
    return commands


def alive_workers(ui: str) -> int:
    """How many workers the master's web UI lists ALIVE (0 while it does not answer)."""
    try:
        listed = httpx.get(f"{ui}/json/", timeout=2).json()["workers"]
    except (httpx.HTTPError, ValueError, KeyError):
        return 0
    return sum(1 for worker in listed if worker["state"] == "ALIVE")


def _logs(folder: Path, count: int) -> str:
    return "\n".join(
        f"--- process{i}.log\n"
        + (folder / f"process{i}.log").read_text(errors="replace")[-LOG_TAIL:]
        for i in range(count)
        if (folder / f"process{i}.log").exists()
    )


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in reversed(processes):  # workers first, then the master
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def standalone_cluster(
    folder: Path,
    *,
    workers: int = 2,
    cores: int = 1,
    memory: str = "1g",
    timeout: float = 180,
) -> Iterator[Cluster]:
    """A master and `workers` workers (`cores` cores and `memory` each) on loopback, up until
    the `with` ends. Raises ClusterDidNotStart, with the end of each process's log, when a
    process exits or the workers have not all registered within `timeout` seconds."""
    home = spark_home()
    if home is None:
        raise ClusterDidNotStart("PySpark is not installed, or ships no bin/spark-class")
    folder.mkdir(parents=True, exist_ok=True)
    env = spark_env(home)
    port, ui_port = free_port(), free_port()
    commands = _commands(
        str(home / "bin" / "spark-class"), folder, port, ui_port, workers, cores, memory
    )
    ui = f"http://127.0.0.1:{ui_port}"
    processes: list[subprocess.Popen] = []
    try:
        for i, command in enumerate(commands):
            # The child keeps its own copy of the log's descriptor.
            with open(folder / f"process{i}.log", "wb") as log:
                processes.append(
                    subprocess.Popen(  # noqa: S603 - PySpark's spark-class, arguments we wrote
                        command, env=env, stdout=log, stderr=subprocess.STDOUT
                    )
                )
        deadline = time.monotonic() + timeout
        while alive_workers(ui) < workers:
            exited = [p.args[1].rsplit(".", 1)[1] for p in processes if p.poll() is not None]
            if exited or time.monotonic() > deadline:
                why = f"{', '.join(exited)} exited" if exited else f"not up after {timeout:.0f} s"
                raise ClusterDidNotStart(
                    f"the Spark standalone cluster did not start ({why}):\n"
                    + _logs(folder, len(commands))
                )
            time.sleep(1)
        yield Cluster(f"spark://127.0.0.1:{port}", ui, tuple(processes))
    finally:
        _stop(processes)
