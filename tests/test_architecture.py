"""The architecture's boundaries, as import-linter contracts in pyproject.toml, and no import cycles anywhere.

The contracts are checked on the real tree, and each is shown to bite: a copy of the tree with one forbidden
import added fails with that contract's name.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "bot", "scheduler", "pipedrive")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_contract():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    "module, line, contract",
    [
        ("core/leak.py", "import bot.replies", "core is the product"),
        ("core/leak.py", "import httpx", "core is the product"),
        ("scheduler/leak.py", "from bot import render", "the scheduler decides when"),
        ("bot/leak.py", "from core.models import Contact", "the chat side never touches the ORM"),
        ("pipedrive/leak.py", "from core.models import Contact", "pipedrive talks to core through commands"),
    ],
)
def test_a_contract_broken_on_purpose_fails(tmp_path, module, line, contract):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / module).write_text(f'"""A forbidden import."""\n\n{line}\n')
    result = lint_imports(tmp_path)
    assert result.returncode != 0
    assert f"{contract}" in result.stdout and "BROKEN" in result.stdout


def test_no_module_imports_itself_back_through_others():
    graph = grimp.build_graph(*PACKAGES)
    modules = sorted(graph.modules)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's strongly connected components
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in modules:
        if module not in index:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("folder, other", [("tests", "bench"), ("bench", "tests")])
def test_tests_and_benchmarks_share_fakes_but_never_import_each_other(folder, other):
    importers = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            )
            if any(name == other or name.startswith(f"{other}.") for name in names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []
