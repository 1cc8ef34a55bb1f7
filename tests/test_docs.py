"""The reference docs cover every command and setting, and the README gives the two commands."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _gen() -> object:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current() -> None:
    gen = _gen()
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    if current != gen.cli_markdown():  # type: ignore[attr-defined]
        pytest.fail("docs/cli.md is stale: run .venv/bin/python scripts/gen_docs.py")


def test_every_command_has_help_and_is_documented() -> None:
    gen = _gen()
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for path, command in gen.commands():  # type: ignore[attr-defined]
        name = " ".join(path)
        if name == "vigil":
            continue
        assert command.help, f"{name} has no help text"
        assert f"`{name}`" in text, f"{name} missing from docs/cli.md"


def test_every_setting_is_documented() -> None:
    from vigil.core.config import Settings

    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        assert f"`VIGIL_{name.upper()}`" in text


def test_readme_gives_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in text and "make test" in text
