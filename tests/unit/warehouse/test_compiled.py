"""The compiled build of the ingest's hot modules (setup.py): used when built, same as the .py.

A module with a .pxd next to it is compiled by Cython from its own .py file at install time.
These tests check that the installed package really imports the compiled modules (when Cython
is installed, as with the dev extra, the build must have produced them, and after the last
change of their source), and that compiled and plain-Python code give byte-identical results
on the shared Synthea sample and on broken variants of it.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import tracemalloc
from pathlib import Path
from types import ModuleType

import orjson
import pytest

import campus
from campus.warehouse import policy as policies
from campus.warehouse.worker import _BundleIndex

SRC = Path(campus.__file__).resolve().parent
COMPILED = sorted(
    ".".join(("campus", *p.relative_to(SRC).with_suffix("").parts)) for p in SRC.rglob("*.pxd")
)
KEY = b"k" * 32


def _built(name: str) -> Path | None:
    stem = SRC.joinpath(*name.split(".")[1:])
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if stem.with_name(stem.name + suffix).exists():
            return stem.with_name(stem.name + suffix)
    return None


def _compiled_expected() -> bool:
    if os.environ.get("CAMPUS_PURE_PYTHON", "") not in ("", "0"):
        return False
    return importlib.util.find_spec("Cython") is not None


def _pure(name: str) -> ModuleType:
    """The module loaded from its .py file, whatever is built next to it."""
    alias = "_pure_" + name.replace(".", "_")
    if alias in sys.modules:
        return sys.modules[alias]
    path = SRC.joinpath(*name.split(".")[1:]).with_suffix(".py")
    spec = importlib.util.spec_from_loader(
        alias, importlib.machinery.SourceFileLoader(alias, str(path))
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[alias] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_some_modules_are_marked_for_compilation():
    assert "campus.warehouse.pseudonymise" in COMPILED


@pytest.mark.parametrize("name", COMPILED)
def test_the_compiled_module_is_the_one_imported_and_is_up_to_date(name):
    built = _built(name)
    if built is None:
        if _compiled_expected():
            pytest.fail(f"{name} is not compiled although Cython is installed: run make")
        pytest.skip("not compiled (no Cython, or CAMPUS_PURE_PYTHON set)")
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve() == built.resolve()
    assert type(module.__loader__) is importlib.machinery.ExtensionFileLoader
    source = built.with_name(name.rsplit(".", 1)[1] + ".py")
    newest = max(source.stat().st_mtime, source.with_suffix(".pxd").stat().st_mtime)
    assert built.stat().st_mtime >= newest, f"{built.name} is older than its source: run make"


def _bundles(shared_dir: Path) -> list[dict]:
    folder = shared_dir / "data" / "synthea-r4" / "bundles"
    return [orjson.loads(p.read_bytes()) for p in sorted(folder.glob("*.json"))]


def _broken(resource: dict) -> list[dict]:
    """Variants of a resource that the checks must reject (or rewrite) the same way."""
    variants = []
    for key, value in resource.items():
        if key in ("resourceType", "id"):
            continue
        if type(value) is str and (key.endswith(("DateTime", "Date")) or key == "issued"):
            variants.append({**resource, key: value[:4] + "-13-40"})
        elif type(value) is dict and "reference" in value:
            variants.append({**resource, key: {"reference": 12}})
            variants.append({**resource, key: {"reference": "not a reference"}})
        elif type(value) is list and value:
            variants.append({**resource, key: [value]})
    deep: dict = {"extension": []}
    for _ in range(60):
        deep = {"valueCodeableConcept": deep}
    variants.append({**resource, "extension": [deep]})
    variants.append({**resource, "contained": [{"resourceType": "Nothing"}]})
    return variants


def _outcome(pseudonymiser, module: ModuleType, resource: dict, index) -> tuple:
    seen: list[tuple] = []
    try:
        pseudonymiser.apply(
            resource,
            "patient",
            index.resolve,
            lambda t, local, rewritten: seen.append((t.type, t.id, local, rewritten)),
        )
    except module.ResourceProblem as problem:
        return ("problem", problem.message, problem.where)
    return ("landed", orjson.dumps(resource), seen)


@pytest.mark.slow  # over 5 s: make test runs it, make test-unit does not
def test_compiled_and_pure_python_walks_give_identical_results(shared_dir):
    name = "campus.warehouse.pseudonymise"
    compiled = importlib.import_module(name)
    if _built(name) is None:
        pytest.skip("not compiled")
    pure = _pure(name)
    assert pure.__file__.endswith(".py") and compiled.__file__ != pure.__file__
    policy = policies.default()
    walks = [(m.Pseudonymiser(KEY, policy), m) for m in (compiled, pure)]
    compared = problems = 0
    for bundle in _bundles(shared_dir):
        index = _BundleIndex(bundle)
        for position, entry in enumerate(bundle["entry"]):
            resource = entry["resource"]
            cases = [resource, *_broken(resource)] if position % 5 == 0 else [resource]
            for case in cases:
                text = orjson.dumps(case)
                ours, theirs = (_outcome(p, m, orjson.loads(text), index) for p, m in walks)
                assert ours == theirs
                compared += 1
                problems += ours[0] == "problem"
    assert compared > 10_000 and problems > 1_000


@pytest.mark.slow  # over 5 s: make test runs it, make test-unit does not
def test_the_compiled_walk_keeps_no_memory_per_resource(shared_dir):
    """A reference leaked by compiled code shows as memory growing with the resources walked."""
    module = importlib.import_module("campus.warehouse.pseudonymise")
    texts = [
        (orjson.dumps(entry["resource"]), _BundleIndex(bundle))
        for bundle in _bundles(shared_dir)[:20]
        for entry in bundle["entry"]
    ]
    pseudonymiser = module.Pseudonymiser(KEY, policies.default())

    def walk() -> None:
        for text, index in texts:
            pseudonymiser.apply(
                orjson.loads(text), "patient", index.resolve, lambda t, local, rewritten: 0
            )
        for cache in ("_pseudonyms", "_relative", "_shifts"):
            getattr(pseudonymiser, cache).clear()

    walk()  # fills the bounded caches that live as long as the module
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        walk()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    growth = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert len(texts) > 5_000 and growth < 20 * len(texts)
