"""The runner's child process: score a feature table with an ONNX model, within limits.

Started by `campus.evaluation.sandbox` as `python -I -m campus.evaluation.child MODEL INPUT
OUTPUT OUTPUT_NAME MEMORY_MB SECONDS` (one process a run), or forked for each run by the
long-lived runner (`python -I -m campus.evaluation.child --serve`, see `serve`), which
has imported numpy and onnxruntime once. Before it reads the model it caps its own address
space (RLIMIT_AS), CPU time (RLIMIT_CPU), the size of files it writes (RLIMIT_FSIZE) and its
open files, leaves the network (a new, empty network namespace when the kernel allows an
unprivileged one), and arms an alarm whose default action kills it at the time limit even
inside a native loop. Errors go to stderr as one JSON line.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _fail(kind: str, detail: str = "", code: int = 3) -> None:
    """Report a failure: its kind, and onnxruntime's own words (the parent words the rest)."""
    sys.stderr.write(json.dumps({"error": kind, "detail": detail[:500]}) + "\n")
    sys.exit(code)


def leave_network() -> str:
    """A new network namespace with no interface but a down loopback: no network at all."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0:
            return "namespace"
    except (OSError, AttributeError):
        pass
    return "none"


def main(argv: list[str]) -> None:
    model_path, input_path, output_path, output_name, memory_mb, seconds = argv
    limit = float(seconds)
    memory = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limit) + 30  # the alarm below is the time limit; this is a backstop
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    network = leave_network()
    try:
        import numpy as np
        import onnxruntime as ort
    except MemoryError:
        _fail("memory")  # the limit is too low even to start the runtime
    features = np.load(input_path, allow_pickle=False)
    resource.setrlimit(resource.RLIMIT_FSIZE, (features.shape[0] * 16 + 65536,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    signal.alarm(max(1, int(limit + 0.999)))  # default action: the process is killed
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(
            model_path, sess_options=options, providers=["CPUExecutionProvider"]
        )
        name = session.get_inputs()[0].name
        (scores,) = session.run([output_name], {name: features})
    except MemoryError:
        _fail("memory")
    except Exception as error:  # every runtime failure is reported, not raised
        text = str(error)
        if "alloc" in text.lower() or "bad_alloc" in text or "memory" in text.lower():
            _fail("memory")
        _fail("runtime", text.splitlines()[0] if text else type(error).__name__)
    signal.alarm(0)
    np.save(output_path, np.asarray(scores, dtype=np.float64), allow_pickle=False)
    sys.stdout.write(json.dumps({"network": network}) + "\n")


def serve() -> None:
    """The long-lived runner: numpy and onnxruntime imported once, then for each request
    (one JSON line on stdin: `folder`, `args` as for `main`, `grace`) a forked child that
    sets the limits and scores as a fresh process would (its own session, limits, network
    namespace and alarm; stdout and stderr in the run's folder), killed with its group past
    the time limit and the grace. The runner never opens a model itself, so what one model
    does dies with its child. Says `{"ready": true}` once started; answers each request
    with one JSON line, `returncode` as subprocess gives it.
    Stops at the end of stdin (its worker gone)."""
    import select

    import numpy  # noqa: F401 - imported once, for every forked run
    import onnxruntime  # noqa: F401

    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    for line in sys.stdin:
        request = json.loads(line)
        ready, done = os.pipe()
        pid = os.fork()
        if pid == 0:  # the run's process
            os.close(ready)
            _run_forked(request["folder"], request["args"])
        os.close(done)
        timeout = float(request["args"][5]) + float(request["grace"])
        finished, _, _ = select.select([ready], [], [], timeout)
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        os.close(ready)
        _, status = os.waitpid(pid, 0)
        answer = {"returncode": os.waitstatus_to_exitcode(status), "killed": not finished}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()


def _run_forked(folder: str, args: list[str]) -> None:
    code = 1
    try:
        os.setsid()  # its own group: killed past its time without the runner
        os.chdir(folder)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        for fd, name in ((1, "child.out"), (2, "child.err")):
            os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        main(args)
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    except BaseException:
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed stream has nothing to say
                stream.flush()
        os._exit(code)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main(sys.argv[1:])
