"""Build hook: compile the ingest's hot modules with Cython when it is available.

A module is compiled when a .pxd file sits next to it: the compiled module is the same .py
file (Cython "pure Python" mode), the .pxd only adds static types. Without Cython or a C
compiler, or with CAMPUS_PURE_PYTHON=1, the package installs and runs as plain Python, with the
same behaviour.
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


setup(ext_modules=extensions())
