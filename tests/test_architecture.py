"""The walls of docs/architecture.md, read from the source with ast (nothing is imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("argnn_sim", "prunegcrn_bridge")
KERNELS = {"argnn_sim/engines/_kernel.py", "argnn_sim/engines/_lapack.py",
           "argnn_sim/engines/_draws.py"}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for p in (ROOT / pkg).rglob("*.py"):
            parts = list(p.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = p
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> list[tuple[str, list[str], bool]]:
    """(module imported, names taken from it, under TYPE_CHECKING) for every import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    typing = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
              and "TYPE_CHECKING" in ast.unparse(node.test)
              for sub in node.body for n in ast.walk(sub)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, [], id(node) in typing) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = pkg
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            mod = (f"{base}.{node.module}" if node.module else base) if node.level else \
                node.module or ""
            names = [a.name for a in node.names]
            subs = [n for n in names if f"{mod}.{n}" in MODULES]  # from pkg import module
            if len(subs) < len(names):
                out.append((mod, [n for n in names if n not in subs], id(node) in typing))
            out += [(f"{mod}.{n}", [], id(node) in typing) for n in subs]
    return out


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def test_no_import_cycles():
    g = nx.DiGraph()
    for name, path in MODULES.items():
        for mod, _names, typing in _imports(name, path):
            if mod in MODULES and mod != name and not typing:
                g.add_edge(name, mod)
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    assert cycles == []


def test_the_simulator_imports_no_torch():
    found = [f"{_rel(p)}: {mod}" for name, p in MODULES.items() if name.startswith("argnn_sim")
             for mod, _n, _t in _imports(name, p) if mod.split(".")[0] in ("torch", "prunegcrn_bridge")]
    assert found == []


def test_only_the_engines_package_imports_an_engine_module():
    found = []
    for name, p in MODULES.items():
        if name.startswith("argnn_sim.engines"):
            continue
        for mod, _names, typing in _imports(name, p):
            if mod.startswith("argnn_sim.engines.") and not typing:
                found.append(f"{_rel(p)}: {mod}")
    assert found == []


def test_the_bridge_takes_no_private_name_of_the_simulator():
    found = [f"{_rel(p)}: {mod} {n}" for name, p in MODULES.items()
             if name.startswith("prunegcrn_bridge")
             for mod, names, _t in _imports(name, p) if mod.startswith("argnn_sim")
             for n in names if n.startswith("_")]
    assert found == []


def _sizes() -> tuple[list[str], list[str]]:
    long_fns, big_classes = [], []
    for p in MODULES.values():
        rel = _rel(p)
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            lines = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if lines > (120 if rel in KERNELS else 80):
                    long_fns.append(f"{rel}:{node.lineno} {node.name} {lines}")
            elif isinstance(node, ast.ClassDef) and lines > 400:
                big_classes.append(f"{rel}:{node.lineno} {node.name} {lines}")
    return long_fns, big_classes


def test_no_function_over_80_lines_and_no_class_over_400():
    long_fns, big_classes = _sizes()
    assert long_fns == [] and big_classes == []


@pytest.mark.parametrize("study", ["compare", "road", "compression", "traffic"])
def test_every_study_has_the_one_layout(study):
    folder = ROOT / "prunegcrn_bridge" / study
    have = {p.stem for p in folder.glob("*.py")}
    layout = {"__init__", "cli"} | ({"config", "run", "report"} if study in ("compare", "road")
                                    else set())
    assert layout <= have
