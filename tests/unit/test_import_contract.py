"""The import contract: imports go one way, and capabilities form no circle.

Layers, lowest first: the core (settings, errors, i18n, text, db, the auth and audit services),
the web kit (`campus.web`), the capabilities (every other package, and the HTTP modules of auth
and audit), the site (`campus.site`, `campus.cli`, `campus.demo`). A module imports from its
own layer or lower ones only. Between capabilities the imports make no circle, and no
capability imports another one's HTTP surface (`api`, `pages`): what two of them share lives
in the capability that owns the data (a service, a data function, a schema).

Every import counts, those inside functions too: a late import is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import campus

SOURCE = Path(campus.__file__).parent
CORE_ROOT = {
    "campus",
    "settings",
    "errors",
    "i18n",
    "text",
    "exports",
    "demo_password",
    "commandline",
}
CORE_PACKAGES = {"db"}
SPLIT_PACKAGES = {"auth", "audit"}  # their services are core, their HTTP modules capabilities
HTTP_MODULES = {"api", "pages", "oidc_pages", "public_pages"}
SITE = {"site", "cli", "demo"}
LAYERS = ["core", "web kit", "capability", "site"]

# Known exceptions, each with its reason: the test fails when one no longer happens, so the
# list only shrinks. Circles are named by the pair of capabilities they join.
KNOWN_CIRCLE_EDGES: dict[tuple[str, str], str] = {}
KNOWN_HTTP_IMPORTS: dict[tuple[str, str], str] = {}


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in SOURCE.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        parts = list(path.relative_to(SOURCE.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """The campus modules that `name` imports (a `from x import y` counts as x.y when y is a
    module, else as x)."""
    path, is_package = MODULES[name]
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                full = f"{module}.{alias.name}"
                found.add(full if full in MODULES else module)
    return {m for m in found if m == "campus" or m.startswith("campus.")}


EDGES = {name: _imports(name) for name in MODULES}


def layer(module: str) -> str:
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else "campus"
    if top in CORE_ROOT or top in CORE_PACKAGES:
        return "core"
    if top in SPLIT_PACKAGES:
        return "capability" if len(parts) > 2 and parts[2] in HTTP_MODULES else "core"
    if top == "web":
        return "web kit"
    if top in SITE:
        return "site"
    return "capability"


def capability(module: str) -> str:
    """The capability a capability-layer module belongs to (its top package)."""
    return module.split(".")[1]


def unit(module: str) -> str:
    """The part of a capability that owns an HTTP surface: ecosystem's sub-packages
    (directory, events...) are units of their own."""
    parts = module.split(".")
    if parts[1] == "ecosystem" and len(parts) > 3:
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def upward_imports() -> list[str]:
    found = []
    for importer, imported in sorted((a, b) for a, bs in EDGES.items() for b in bs):
        if LAYERS.index(layer(imported)) > LAYERS.index(layer(importer)):
            found.append(f"{importer} ({layer(importer)}) imports {imported} ({layer(imported)})")
    return found


def capability_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for importer, imported in ((a, b) for a, bs in EDGES.items() for b in bs):
        same_layer = layer(importer) == layer(imported) == "capability"
        if same_layer and capability(importer) != capability(imported):
            graph[capability(importer)].add(capability(imported))
    return graph


def circle_edges(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """The direct imports a -> b that close a circle (b reaches a back)."""
    reach: dict[str, set[str]] = {}
    for start in graph:
        seen: set[str] = set()
        stack = [start]
        while stack:
            for nxt in graph.get(stack.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        reach[start] = seen
    return {(a, b) for a in graph for b in graph[a] if a in reach.get(b, ())}


def http_imports() -> dict[tuple[str, str], None]:
    found = {}
    for importer, imported in ((a, b) for a, bs in EDGES.items() for b in bs):
        if layer(importer) != "capability" or layer(imported) != "capability":
            continue
        if imported.rpartition(".")[2] in HTTP_MODULES and unit(importer) != unit(imported):
            found[(importer, imported)] = None
    return found


def test_the_import_graph_sees_the_whole_package():
    """Guards the tests below against reading nothing: known modules and edges are there."""
    assert len(MODULES) > 150
    assert "campus.site.routes" in MODULES and "campus.web.deps" in MODULES
    assert "campus.auth.actor" in EDGES["campus.web.deps"]
    assert "campus.web.deps" in EDGES["campus.ecosystem.events.api"]
    assert layer("campus.auth.service") == "core" and layer("campus.auth.pages") == "capability"


def test_no_module_imports_from_a_higher_layer():
    """The web kit imports no capability and no capability imports the site."""
    assert upward_imports() == [], (
        "move what the lower module needs down to its layer, or let the higher layer pass it"
    )


def test_capabilities_make_no_circle_of_imports():
    graph = capability_graph()
    without_known = {
        a: bs - {b for (x, b) in KNOWN_CIRCLE_EDGES if x == a} for a, bs in graph.items()
    }
    new = sorted(circle_edges(without_known))
    assert new == [], "capabilities that import each other (a, b): one of them must not"
    stale = sorted(set(KNOWN_CIRCLE_EDGES) - circle_edges(graph))
    assert stale == [], "these known imports close no circle now: remove them from the list"


def test_no_capability_imports_another_ones_api_or_pages():
    found = set(http_imports())
    new = sorted(found - set(KNOWN_HTTP_IMPORTS))
    assert new == [], (
        "share a data function, service or schema of the capability that owns the data "
        "instead of its api/pages module"
    )
    stale = sorted(set(KNOWN_HTTP_IMPORTS) - found)
    assert stale == [], "these known imports are gone: remove them from KNOWN_HTTP_IMPORTS"


def test_the_contract_catches_a_circle_and_an_upward_import():
    """The checks themselves, on a made-up graph: a circle of three and a lone edge."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circle_edges(graph) == {("a", "b"), ("b", "c"), ("c", "a")}
    assert layer("campus.web.deps") == "web kit"
    assert LAYERS.index(layer("campus.site.app")) > LAYERS.index(layer("campus.ecosystem.cli"))
