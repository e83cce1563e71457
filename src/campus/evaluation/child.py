"""The runner's child process: score a feature table with an ONNX model, within limits.

Started by `campus.evaluation.sandbox` as `python -I -m campus.evaluation.child MODEL INPUT
OUTPUT OUTPUT_NAME MEMORY_MB SECONDS`. Before it reads the model it caps its own address
space (RLIMIT_AS), CPU time (RLIMIT_CPU), the size of files it writes (RLIMIT_FSIZE) and its
open files, leaves the network (a new, empty network namespace when the kernel allows an
unprivileged one), and arms an alarm whose default action kills it at the time limit even
inside a native loop. Errors go to stderr as one JSON line.
"""

from __future__ import annotations

import ctypes
import json
import resource
import signal
import sys

CLONE_NEWUSER = 0x10000000
CLONE_NEWNET = 0x40000000


def _fail(kind: str, message: str, code: int = 3) -> None:
    sys.stderr.write(json.dumps({"error": kind, "message": message[:500]}) + "\n")
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
        _fail("memory", "the memory limit is too low to start the runtime")
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
        _fail("memory", "the model needed more memory than the limit")
    except Exception as error:  # every runtime failure is reported, not raised
        text = str(error)
        if "alloc" in text.lower() or "bad_alloc" in text or "memory" in text.lower():
            _fail("memory", "the model needed more memory than the limit")
        _fail(
            "runtime",
            f"onnxruntime failed: {text.splitlines()[0] if text else type(error).__name__}",
        )
    signal.alarm(0)
    np.save(output_path, np.asarray(scores, dtype=np.float64), allow_pickle=False)
    sys.stdout.write(json.dumps({"network": network}) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
