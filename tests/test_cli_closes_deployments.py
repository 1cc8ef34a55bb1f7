"""Every command that opens a deployment closes it: `open_deployment` and `Deployment.open` are
only ever called as the context manager of a `with` (the lake engine, the database connections
and the lock files are released whatever the command does)."""

from __future__ import annotations

import ast
from pathlib import Path

import vigil
from vigil.clikit import open_deployment
from vigil.deployment import Deployment

SRC = Path(vigil.__file__).parent
#: `Deployment.open` may be returned to a caller that closes it (the web app's lifespan).
RETURNED_TO_A_CLOSER = {("web/app.py", "create_app")}


def _opens_deployment(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id == "open_deployment"
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "open"
        and isinstance(func.value, ast.Name)
        and func.value.id == "Deployment"
    )


def _unclosed_opens(path: Path, root: Path = SRC) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    in_with = {
        id(item.context_expr)
        for node in ast.walk(tree)
        if isinstance(node, ast.With | ast.AsyncWith)
        for item in node.items
    }
    where: dict[int, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(node):
                where.setdefault(id(inner), node.name)
    rel = path.relative_to(root).as_posix()
    out = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and _opens_deployment(node)) or id(node) in in_with:
            continue
        function = where.get(id(node), "<module>")
        if rel == "clikit.py" and function == "open_deployment":
            continue  # the opener itself
        if rel == "deployment.py" or (rel, function) in RETURNED_TO_A_CLOSER:
            continue
        out.append(f"{rel}:{node.lineno} in {function}()")
    return out


def test_every_deployment_opened_is_the_context_of_a_with() -> None:
    unclosed = [hit for path in sorted(SRC.rglob("*.py")) for hit in _unclosed_opens(path)]
    assert unclosed == [], "opened without `with` (never closed on error):\n" + "\n".join(unclosed)


def test_the_check_sees_an_open_outside_a_with(tmp_path: Path) -> None:
    probe = tmp_path / "_probe_unclosed.py"
    probe.write_text(
        "from vigil.clikit import open_deployment\n\n\n"
        "def command(data):\n    dep = open_deployment(data)\n    return dep.units\n",
        encoding="utf-8",
    )
    assert _unclosed_opens(probe, tmp_path) == ["_probe_unclosed.py:5 in command()"]


def test_a_deployment_closes_its_lake_engine_on_the_way_out(deployment: Deployment) -> None:
    with open_deployment(deployment.settings.data) as dep:
        engine = dep.lake.engine
        assert engine.query_rows("SELECT 1") == [(1,)]
    assert dep._lake is None  # the engine was closed and dropped
