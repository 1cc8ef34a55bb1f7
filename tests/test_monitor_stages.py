"""The monitor room by stages: no stage imports a later one, no edge another, no root a stage.

The order is declared here as data and checked over the source's syntax trees, imports inside
functions and `TYPE_CHECKING` blocks included (a lazy import is still a dependency).
"""

from __future__ import annotations

import ast
from pathlib import Path

import vigil.monitor

PACKAGE = "vigil.monitor"
#: The stages in pipeline order. A module may import its own folder, the folders of earlier
#: levels and the root modules; folders of one level (the edges) may not import each other.
STAGES: tuple[tuple[str, ...], ...] = (
    ("ingest",),
    ("detect",),
    ("review",),
    ("pages", "cli", "demo"),
)
#: Modules at the room's root that every stage may import; they import no stage themselves.
ROOT = frozenset({"__init__", "models", "errors", "migrations"})
#: The room's entry: joins the room to Vigil and may import any stage (lazily).
ENTRY = frozenset({"plugin"})


def _level(part: str) -> int | None:
    return next((n for n, level in enumerate(STAGES) if part in level), None)


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every module name imported anywhere in `tree` (absolute, relative ones resolved)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                parts = parts if is_package else parts[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            found.append((node.lineno, base))
            # `from vigil.monitor import cli` imports the stage `cli` itself.
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def _place(relative: tuple[str, ...]) -> str:
    """The room part a module path (below the room) belongs to: a stage folder or a root name."""
    head = relative[0]
    return head.removesuffix(".py") if len(relative) == 1 else head


def violations(room: Path, package: str = PACKAGE) -> list[str]:
    """Each import that goes against the order, as `file:line: what`."""
    out: list[str] = []
    for path in sorted(room.rglob("*.py")):
        relative = path.relative_to(room).parts
        source = _place(relative)
        if source in ENTRY:
            continue
        if source not in ROOT and _level(source) is None:
            out.append(f"{path}: {source} is in no stage, not the root and not the entry")
            continue
        dotted = ".".join(Path(*relative).with_suffix("").parts)
        module = f"{package}.{dotted}".removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        said: set[tuple[int, str]] = set()
        for line, name in _imports(tree, module, path.name == "__init__.py"):
            if not name.startswith(package + "."):
                continue
            target = name[len(package) + 1 :].split(".")[0]
            if target == source or target in ROOT or (line, target) in said:
                continue
            said.add((line, target))
            if target in ENTRY:
                out.append(f"{path}:{line}: imports the entry {name}")
                continue
            wanted = _level(target)
            if wanted is None:  # a name inside a root module (`from vigil.monitor import x`)
                continue
            if source in ROOT:
                out.append(f"{path}:{line}: a root module imports the stage {name}")
            elif wanted >= (_level(source) or 0):
                out.append(f"{path}:{line}: {source} imports {name} (a later stage or an edge)")
    return out


def test_the_monitor_room_keeps_its_stage_order() -> None:
    room = Path(vigil.monitor.__file__).parent
    assert {p.name for p in room.iterdir() if p.is_dir() and p.name != "__pycache__"} >= {
        folder for level in STAGES for folder in level
    }
    assert violations(room) == []


def test_the_check_catches_what_goes_against_the_order(tmp_path: Path) -> None:
    room = tmp_path / "room"
    files = {
        "__init__.py": "",
        "models.py": "def later():\n    from room.detect import scan\n",
        "plugin.py": "from room.cli import main\n",
        "ingest/__init__.py": "",
        "ingest/pipeline.py": (
            "from typing import TYPE_CHECKING\n"
            "from room.models import Thing\n"
            "from room.ingest.events import DATASET\n"
            "if TYPE_CHECKING:\n"
            "    from room.detect.sigma.backend import FULL_TEXT\n"
        ),
        "ingest/events.py": "",
        "detect/__init__.py": "",
        "detect/scan.py": "from room.ingest import pipeline\nfrom .. import review\n",
        "review/__init__.py": "",
        "cli/__init__.py": "",
        "cli/main.py": "import room.detect.scan\n\ndef f():\n    from room import pages\n",
        "pages/__init__.py": "",
        "stray.py": "",
    }
    for name, text in files.items():
        (room / name).parent.mkdir(parents=True, exist_ok=True)
        (room / name).write_text(text, encoding="utf-8")

    found = [v.replace(str(room) + "/", "") for v in violations(room, "room")]

    assert found == [
        "cli/main.py:4: cli imports room.pages (a later stage or an edge)",
        "detect/scan.py:2: detect imports room.review (a later stage or an edge)",
        "ingest/pipeline.py:5: ingest imports room.detect.sigma.backend (a later stage or an edge)",
        "models.py:2: a root module imports the stage room.detect",
        "stray.py: stray is in no stage, not the root and not the entry",
    ]
