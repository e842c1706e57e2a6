"""The layers import downwards only: the pure core imports no infrastructure, and nothing
below the query API or the command line imports them (the command line's runtime is the
one place that wires the layers together)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HIGHER = ("query_api", "mast_cli")
LOWER = ("mast_core", "messaging", "producers", "sinks", "stream_processors")
INFRASTRUCTURE = (
    "confluent_kafka",
    "faust",
    "mode",
    "aiokafka",
    "clickhouse_connect",
    "chdb",
    "fastapi",
    "starlette",
    "uvicorn",
)
PURE_CORE = ("mast_core",)


def _imports(package: str) -> list[tuple[str, str]]:
    """(file, imported module) for every import in a package, including ones inside
    functions."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.extend((str(path.relative_to(ROOT)), a.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append((str(path.relative_to(ROOT)), node.module))
    return found


def _top(module: str) -> str:
    return module.split(".")[0]


@pytest.mark.parametrize("package", LOWER)
def test_lower_layers_never_import_the_api_or_the_command_line(package):
    wrong = [(f, m) for f, m in _imports(package) if _top(m) in HIGHER]
    assert wrong == []


@pytest.mark.parametrize("package", PURE_CORE)
def test_the_pure_core_imports_no_infrastructure(package):
    wrong = [(f, m) for f, m in _imports(package) if _top(m) in INFRASTRUCTURE]
    assert wrong == []


def test_the_check_sees_imports_inside_functions():
    """The graph check must catch the deferred imports the command line uses."""
    assert ("mast_cli/stack.py", "mast_cli.runtime") in _imports("mast_cli")
