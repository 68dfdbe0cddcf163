"""The layering that ARCHITECTURE.md describes, checked on the source.

Every import counts, the ones inside functions too, so a lazy import cannot
hide a cycle or a layer broken the wrong way.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The package of service/ that runs the library (its application layer); the
#: rest is web, store and executors.
SERVICE_USES_FEATIMP = "service/jobs/"
#: The CLI is a door, as the REST service is: `featimp serve` starts it.
FEATIMP_USES_SERVICE = {"featimp/cli.py", "featimp/_cli_explain.py"}


def _modules(package: str) -> dict[str, Path]:
    out = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def _graph(package: str) -> dict[str, set[str]]:
    modules = _modules(package)

    def resolve(name):
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    return {
        m: {resolve(n) for n in _imports(p)} - {None, m} for m, p in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph``, or None."""
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(v):
        state[v] = 1
        path.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return [*path[path.index(w) :], w]
            if w not in state and (found := visit(w)):
                return found
        state[v] = 2
        path.pop()
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_the_library_has_no_import_cycle():
    assert _cycle(_graph("featimp")) is None


def test_the_cycle_check_finds_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_library_does_not_import_the_service():
    for module, path in _modules("featimp").items():
        rel = str(path.relative_to(ROOT))
        uses = {n for n in _imports(path) if n.split(".")[0] == "service"}
        assert not uses or rel in FEATIMP_USES_SERVICE, (module, uses)


def test_only_the_job_modules_of_the_service_import_featimp():
    for path in _modules("service").values():
        rel = str(path.relative_to(ROOT))
        uses = {n for n in _imports(path) if n.split(".")[0] == "featimp"}
        if not uses:
            continue
        assert rel.startswith(SERVICE_USES_FEATIMP), (rel, sorted(uses))
        private = {n for n in uses if any(p.startswith("_") for p in n.split(".")[1:])}
        assert not private, f"{rel} imports private featimp names: {sorted(private)}"
