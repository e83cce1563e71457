"""Build hook: compile the ingest's hot modules with Cython when it is available.

A module is compiled when a .pxd file sits next to it: the compiled module is the same .py
file (Cython "pure Python" mode), the .pxd only adds static types. Without Cython or a C
compiler, or with CAMPUS_PURE_PYTHON=1, the package installs and runs as plain Python, with the
same behaviour.

The native fast path (`textwalk.pyx`, C++ over simdjson and OpenSSL's SHA-256) is built when
their headers are installed (Debian: libsimdjson-dev, libssl-dev); without them, or with
CAMPUS_PURE_PYTHON=1, it is left out and every resource takes the Python path.
"""

from __future__ import annotations

import os
from pathlib import Path

from setuptools import Extension, setup

HERE = Path(__file__).parent


def extensions() -> list[Extension]:
    if os.environ.get("CAMPUS_PURE_PYTHON", "") not in ("", "0"):
        return []
    try:
        from Cython.Build import cythonize
    except ImportError:
        return []
    modules = [
        Extension(
            ".".join(pxd.relative_to(HERE / "src").with_suffix("").parts),
            [str(pxd.with_suffix(".py").relative_to(HERE))],
            optional=True,  # a failed C build leaves the plain Python module
        )
        for pxd in sorted((HERE / "src").rglob("*.pxd"))
    ]
    native = HERE / "src" / "campus" / "warehouse" / "textwalk.pyx"
    if native.exists() and all(_header(name) for name in ("simdjson.h", "openssl/sha.h")):
        modules.append(
            Extension(
                "campus.warehouse.textwalk",
                [str(native.relative_to(HERE))],
                language="c++",
                include_dirs=[str(native.parent)],
                libraries=["simdjson", "crypto"],
                # SHA256_Init and friends: deprecated in OpenSSL 3, and the fastest way to copy
                # a keyed state.
                extra_compile_args=["-std=c++17", "-O2", "-Wno-deprecated-declarations"],
                optional=True,
            )
        )
    return cythonize(
        modules,
        build_dir="build/cython",
        quiet=True,
        compiler_directives={
            "language_level": 3,
            "annotation_typing": False,  # the .pxd files hold the static types
            "binding": True,  # introspectable functions, as in plain Python
        },
    )


def _header(name: str) -> bool:
    return any(Path(folder, name).exists() for folder in ("/usr/include", "/usr/local/include"))


setup(ext_modules=extensions())
