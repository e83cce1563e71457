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


def main(argv: list[str], network: str | None = None) -> None:
    """Score the table: `network` says how the runner's spare process already left the
    network (it left before its run was asked of it); a fresh process leaves it here."""
    model_path, input_path, output_path, output_name, memory_mb, seconds = argv
    limit = float(seconds)
    memory = int(memory_mb) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    cpu = int(limit) + 30  # the alarm below is the time limit; this is a backstop
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    network = network or leave_network()
    try:
        import numpy as np
        import onnxruntime as ort
    except MemoryError:
        _fail("memory")  # the limit is too low even to start the runtime
    # Mapped read-only, not copied: the pages are the run folder's (shared memory).
    features = np.load(input_path, mmap_mode="r", allow_pickle=False)
    resource.setrlimit(resource.RLIMIT_FSIZE, (features.shape[0] * 16 + 65536,) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))
    signal.alarm(max(1, int(limit + 0.999)))  # default action: the process is killed
    try:
        session = _session(ort, model_path)
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
    np.save(output_path, np.asarray(scores), allow_pickle=False)  # in the model's own type
    used = resource.getrusage(resource.RUSAGE_SELF)
    sys.stdout.write(json.dumps({"network": network, "cpu": used.ru_utime + used.ru_stime}) + "\n")


def _session(ort, model):  # onnxruntime, imported late
    """An onnxruntime session of one thread (intra- and inter-op), CPU only, quiet."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 4
    return ort.InferenceSession(model, sess_options=options, providers=["CPUExecutionProvider"])


def serve() -> None:
    """The long-lived runner: numpy and onnxruntime imported and warmed once (`_warm`),
    then for each request (one JSON line on stdin: `folder`, `args` as for `main`, `grace`)
    a forked child that sets the limits and scores as a fresh process would (its own
    session, limits, network namespace and alarm; stdout and stderr in the run's folder),
    killed with its group past the time limit and the grace. The child of the next run is
    forked, and leaves the network, as soon as the last run is answered (`_spare`): it waits
    for its request, so the fork is not part of a run's time. The runner never opens a
    submitted model itself (only its own, in `_warm`), so what one model does dies with its
    child. Says `{"ready": true}` once started; answers each request with one JSON line,
    `returncode` as subprocess gives it.
    Stops at the end of stdin (its worker gone); the waiting child then ends too."""
    import select

    _warm()
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    pid, inbox, ready = _spare()
    for line in sys.stdin:
        request = json.loads(line)
        os.write(inbox, line.encode())  # one short line: the pipe takes it whole
        os.close(inbox)
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
        pid, inbox, ready = _spare()


# A one-node model of our own (y = sigmoid(x), float32 [N, 1], opset 17), made with onnx.helper.
WARM_MODEL = (
    b'\x08\x08\x12\x00:C\n\x0f\n\x01x\x12\x01y"\x07Sigmoid\x12\x04warmZ\x14\n\x01x\x12\x0f\n\r\x08\x01'
    b"\x12\t\n\x03\x12\x01N\n\x02\x08\x01b\x14\n\x01y\x12\x0f\n\r\x08\x01\x12\t\n\x03\x12\x01N\n\x02\x08\x01"
    b"B\x04\n\x00\x10\x11"
)


def _warm() -> None:
    """Import numpy and onnxruntime, and do once what every run would otherwise do first in
    its new process: onnxruntime's environment and kernel registry (its first session),
    numpy's loading by mapping and saving. On our own model (`WARM_MODEL`) and a table of
    our own, never a submitted one."""
    import io
    import tempfile

    import numpy as np
    import onnxruntime as ort

    session = _session(ort, WARM_MODEL)
    with tempfile.TemporaryDirectory(prefix="campus-warm-") as folder:
        path = os.path.join(folder, "warm.npy")
        np.save(path, np.linspace(-1, 1, 64, dtype=np.float32).reshape(64, 1))
        table = np.load(path, mmap_mode="r", allow_pickle=False)
        (scores,) = session.run(["y"], {"x": table})
        np.save(io.BytesIO(), np.asarray(scores), allow_pickle=False)
        del table


def _spare() -> tuple[int, int, int]:
    """Fork the next run's process: (its pid, the pipe its request is written to, the pipe
    that closes when it ends). It takes its own group, leaves the network, then waits for
    its request; the end of the pipe without one (the runner gone) ends it, and with it
    its hold on the runner's stdin and stdout, so that the worker sees the runner's end."""
    inbox_out, inbox = os.pipe()
    ready, done = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(inbox)
        os.close(ready)
        code = 1
        try:
            os.setsid()  # its own group: killed past its time without the runner
            network = leave_network()
            request = b""
            while chunk := os.read(inbox_out, 65536):
                request += chunk
            if request:
                asked = json.loads(request)
                _run_forked(asked["folder"], asked["args"], network)
            code = 0
        finally:
            os._exit(code)
    os.close(inbox_out)
    os.close(done)
    return pid, inbox, ready


def _run_forked(folder: str, args: list[str], network: str) -> None:
    code = 1
    try:
        os.chdir(folder)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        for fd, name in ((1, "child.out"), (2, "child.err")):
            os.dup2(os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), fd)
        main(args, network)
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
