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


# The tests mirror the code: featimp/_x.py (or featimp/x.py) is tested in
# tests/test_x.py, featimp/<package>/_x.py in tests/test_<package>_x.py.

#: Test modules that check across modules, named for what they check.
CROSS_MODULE_TESTS = {
    "test_action_set_init.py": "`featimp action-set init` and the service's parser",
    "test_architecture.py": "the layering and this layout",
    "test_bench_tables.py": "the benchmarks' tables",
    "test_benchmarks.py": "the benchmark scripts",
    "test_cli_errors.py": "the CLI's refusals, exit codes and signals",
    "test_common.py": "scikit-learn's and featimp's checks of every method",
    "test_ground_truth.py": "every method on make_ground_truth",
    "test_ground_truth_mixed.py": "every method on mixed make_ground_truth tables",
    "test_notebooks.py": "the notebooks run",
    "test_packaging.py": "the built package",
    "test_parameters.py": "every method's parameters from one source",
    "test_readme.py": "the README's examples",
    "test_real_data.py": "every method on German credit, pandas and polars",
    "test_recourse_portfolio.py": "the recourse fast paths against the plain ones",
    "test_recourse_reachml.py": "German credit scores against reachml's",
    "test_recourse_rule.py": "the per-feature rule through every entry point",
    "test_responsiveness_paper.py": "the responsiveness paper's numbers",
    "test_streaming_memory.py": "streaming under an address-space cap (own processes)",
    "test_streaming_workers.py": "streaming on a Dask cluster (own processes)",
}
#: Library modules without a test module of their own: where they are tested.
TESTED_ELSEWHERE = {
    # The CLI's helpers, through `featimp ...` itself.
    "featimp/_cli_checks.py": "tests/test_cli_errors.py",
    "featimp/_cli_io.py": "tests/test_cli.py",
    # The jitted functions, called only by featimp/_mi_kernels.py.
    "featimp/_mi_compiled.py": "tests/test_mi_kernels.py",
    # The numba kernels of the B-spline basis, through bspline_basis.
    "featimp/kan/_compiled.py": "tests/test_kan_layer.py",
    # The paper's encoding, with the action set written for it.
    "featimp/datasets/_recourse.py": "tests/test_recourse_cases.py",
    # The row filters and result table of `featimp explain` (and the service).
    "featimp/recourse/_batch.py": "tests/test_cli_explain.py",
    # Constraints, by the reachable sets they allow.
    "featimp/recourse/_constraints.py": "tests/test_recourse_reachable.py",
    # Searches side by side, against one by one.
    "featimp/recourse/_searches.py": "tests/test_recourse_portfolio.py",
}


def _test_module_of(path: Path) -> str:
    parts = path.relative_to(ROOT / "featimp").with_suffix("").parts
    return "test_" + "_".join(part.lstrip("_") for part in parts) + ".py"


def _library_modules() -> dict[str, str]:
    """``{test module name: library module}`` for every library module."""
    out = {}
    for path in sorted((ROOT / "featimp").rglob("*.py")):
        if path.name != "__init__.py":
            name = _test_module_of(path)
            assert name not in out, f"{out.get(name)} and {path} share {name}"
            out[name] = str(path.relative_to(ROOT))
    return out


def test_every_library_module_has_its_test_module():
    assert _test_module_of(ROOT / "featimp/_encoding.py") == "test_encoding.py"
    reachable = ROOT / "featimp/recourse/_reachable.py"
    assert _test_module_of(reachable) == "test_recourse_reachable.py"
    tests = ROOT / "tests"
    missing = []
    for name, module in _library_modules().items():
        elsewhere = TESTED_ELSEWHERE.get(module)
        if elsewhere is None and not (tests / name).exists():
            missing.append(f"{module}: tests/{name}")
        elif elsewhere is not None:
            assert (ROOT / elsewhere).exists(), (module, elsewhere)
            assert not (tests / name).exists(), f"{module} has tests/{name} now"
    assert not missing, "modules without their test module: " + ", ".join(missing)
    assert set(TESTED_ELSEWHERE) <= set(_library_modules().values())


def test_every_test_module_is_named_after_a_module_or_checks_across_modules():
    names = set(_library_modules())
    found = {p.name for p in (ROOT / "tests").glob("test_*.py")}
    stray = sorted(found - names - set(CROSS_MODULE_TESTS))
    assert not stray, f"name these after a library module or list them: {stray}"
    assert set(CROSS_MODULE_TESTS) <= found
    assert not set(CROSS_MODULE_TESTS) & names
