"""What imports what: a remote caller loads no server stack, and `service` imports one way.

`service.client` loads no server, eval or model stack. Inside `service`, each part (core,
pipeline, link, infra, front ends...) imports only the parts `PARTS` allows it, which are
listed bottom-up, so no two parts import each other; no module is in an import cycle; and
nothing imports the evals, which score the service and so depend on it, never the reverse.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path

from tests.conftest import ROOT

#: Each only serves a front end that a client does not run, or the model it calls remotely.
HEAVY = ("fastapi", "uvicorn", "starlette", "scipy", "numpy", "openai", "instructor")

_BELOW_FRONT = frozenset(
    {
        "service.errors",
        "service.infra.weights",
        "service.config",
        "service.infra",
        "service.core",
        "service.pipeline",
        "service.link",
        "service.extractor",
        "service.shared",
    }
)

#: The parts of `service`, bottom-up, each with the other parts it may import (any third-party
#: package, `schemas` and `prompts` aside). A module belongs to the longest part naming it or
#: its package; "service" is the package's own `__init__` alone.
PARTS: dict[str, frozenset[str]] = {
    "service.errors": frozenset(),
    # The built-in models: the settings name the default and tell local names from remote.
    "service.infra.weights": frozenset({"service.errors"}),
    "service.config": frozenset({"service.infra.weights"}),
    "service.infra": frozenset({"service.errors", "service.config", "service.infra.weights"}),
    "service.core": frozenset({"service.errors"}),
    "service.pipeline": frozenset({"service.errors", "service.core"}),
    "service.link": frozenset({"service.errors", "service.core", "service.pipeline"}),
    "service.extractor": frozenset(
        {"service.errors", "service.config", "service.infra", "service.core", "service.pipeline"}
    ),
    "service.shared": frozenset({"service.config", "service.infra", "service.extractor"}),
    "service.front": _BELOW_FRONT,
    "service.client": frozenset({"service.errors", "service.front"}),
    "service": frozenset(
        {"service.errors", "service.config", "service.extractor", "service.shared"}
    ),
    "service.__main__": frozenset({"service.front"}),
}

#: A string that names a module (as `importlib.import_module` takes it), not the word "service".
_MODULE_NAME = re.compile(r"service(?:\.\w+)+|evals(?:\.\w+)*")


def loaded_after(statement: str) -> list[str]:
    """The HEAVY modules in sys.modules after `statement`, in a fresh interpreter."""
    found = f"[m for m in {HEAVY!r} if m in sys.modules]"
    code = f"import json, sys; {statement}; print(json.dumps({found}))"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    return json.loads(done.stdout)


@cache
def service_modules() -> dict[str, Path]:
    """Dotted name -> file, for every module of `service` (a package by its `__init__`)."""
    found = {}
    for path in sorted((ROOT / "service").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _run_on_import(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements run when the module is imported: not function bodies, nor the
    `if TYPE_CHECKING:` branch."""
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            yield from _run_on_import(node.orelse)
            continue
        yield node
        for field in ("body", "orelse", "finalbody", "handlers"):
            yield from _run_on_import(getattr(node, field, []))


def imports_of(module: str, *, on_import_only: bool = False) -> set[str]:
    """The `service` and `evals` modules a module imports: by statement, or by naming one in
    a string (`importlib.import_module("service.front.cli.batch")`) unless `on_import_only`,
    which keeps the imports that run when it is imported (the ones a cycle can break)."""
    path = service_modules()[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    nodes = _run_on_import(tree.body) if on_import_only else ast.walk(tree)
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:  # `from service.link import geo` imports the module
                sub = f"{base}.{alias.name}"
                names.add(sub if sub in service_modules() else base)
        elif (
            not on_import_only
            and isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and _MODULE_NAME.fullmatch(node.value)
            and (node.value in service_modules() or node.value.startswith("evals"))
        ):
            names.add(node.value)
    return {n for n in names if n.split(".")[0] in ("service", "evals") and n != module}


def part_of(module: str) -> str:
    """The part of `PARTS` that a module of `service` belongs to."""
    if module == "service":
        return module
    owners = [p for p in PARTS if p != "service" and (module == p or module.startswith(p + "."))]
    assert owners, f"{module} belongs to no part of PARTS: add it there, or move it into one"
    return max(owners, key=len)


def violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Every import in `graph` (module -> what it imports) that `PARTS` does not allow."""
    found = []
    for module, imported in sorted(graph.items()):
        for other in sorted(imported):
            if other.split(".")[0] == "evals":
                found.append(f"{module} imports {other}: the evals depend on the service")
                continue
            mine, theirs = part_of(module), part_of(other)
            if mine != theirs and theirs not in PARTS[mine]:
                found.append(f"{module} ({mine}) imports {other} ({theirs})")
    return found


def cycle(graph: Mapping[str, set[str]]) -> list[str]:
    """One import cycle of `graph` as [a, b, ..., a], or [] when there is none."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = "done"
        return []

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return []


def test_the_client_imports_neither_the_server_nor_scipy_nor_the_model_stack() -> None:
    assert loaded_after("import service.client") == []


def test_the_package_itself_is_light_until_a_heavy_name_is_used() -> None:
    assert loaded_after("import service") == []
    assert "openai" in loaded_after("from service import Extractor")


def test_the_parts_are_listed_bottom_up_so_no_two_import_each_other() -> None:
    order = list(PARTS)
    for part, allowed in PARTS.items():
        above = [p for p in allowed if order.index(p) >= order.index(part)]
        assert not above, f"{part} may import {above}, listed after it"


def test_each_part_of_service_imports_only_what_it_may_and_never_the_evals() -> None:
    graph = {m: imports_of(m) for m in service_modules()}
    assert any("service.front.cli.batch" in i for i in graph.values())  # strings are read
    assert violations(graph) == []


def test_no_module_of_service_is_in_an_import_cycle() -> None:
    assert cycle({m: imports_of(m, on_import_only=True) for m in service_modules()}) == []


def test_the_checks_catch_a_wrong_way_import_and_a_cycle() -> None:
    assert violations({"service.infra.cache": {"service.front.cli.main"}}) == [
        "service.infra.cache (service.infra) imports service.front.cli.main (service.front)"
    ]
    assert violations({"service.core.aliases": {"evals.fields"}})
    assert violations({"service.core.records": {"service.link.geo"}})
    assert violations({"service.front.http.routes": {"service.link"}}) == []
    a, b = "service.core.names", "service.core.aliases"
    assert cycle({a: {b}, b: {a}}) == [b, a, b]
