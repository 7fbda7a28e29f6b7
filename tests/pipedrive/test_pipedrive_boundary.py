"""The sync talks to the core through `Core` and its commands: no tables, no engine, no database of its own."""

import ast
from pathlib import Path

import pipedrive

PACKAGE = Path(pipedrive.__file__).parent


def test_the_pipedrive_package_reads_no_models_and_touches_no_engine():
    crossings = []
    for source in sorted(PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            modules = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            crossings += [f"{source.name}: imports {m}" for m in modules if m in ("core.models", "core.db")]
            if isinstance(node, ast.Attribute) and node.attr == "engine":
                crossings.append(f"{source.name}:{node.lineno}: uses .engine")
    assert crossings == []
