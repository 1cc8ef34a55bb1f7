"""The reference docs cover every command, setting and plugin hook, and the README gives the two
commands."""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path
from typing import Any

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


def test_readme_leads_to_the_architecture_and_the_hook_reference() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/architecture.md)" in readme and "(docs/plugins.md)" in readme
    architecture = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "(plugins.md)" in architecture


# --- the hook reference (docs/plugins.md) --------------------------------------------------------

HOOK_HEADING = re.compile(
    r"^### `(vigil_\w+)`\n\n```python\n(.+?)\n```\n\n(\S.*?)(?=\n#|\Z)", re.M | re.S
)


def _hook_specs() -> dict[str, Any]:
    from vigil.plugins import VigilSpec

    return {
        name: function
        for name, function in vars(VigilSpec).items()
        if getattr(function, "vigil_spec", None) is not None
    }


def hook_signature(name: str, function: Any) -> str:
    """The signature as the reference shows it, from the specification itself."""
    signature = inspect.signature(function)
    params = [
        f"{p.name}: {p.annotation}" for p in signature.parameters.values() if p.name != "self"
    ]
    return f"{name}({', '.join(params)}) -> {signature.return_annotation}"


def _documented_hooks() -> dict[str, tuple[str, str]]:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    return {m.group(1): (m.group(2), m.group(3)) for m in HOOK_HEADING.finditer(text)}


def test_every_hook_is_documented_with_its_signature_and_purpose() -> None:
    documented = _documented_hooks()
    for name, function in _hook_specs().items():
        assert name in documented, f"hook {name} is missing from docs/plugins.md"
        signature, purpose = documented[name]
        assert signature == hook_signature(name, function), f"docs/plugins.md: {name} signature"
        assert len(purpose.split()) >= 10, f"docs/plugins.md: say what {name} is for"


def test_every_documented_hook_exists() -> None:
    text = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `(\w+)`", text, re.M))
    assert headings == set(_hook_specs()), "docs/plugins.md documents hooks Vigil does not have"
    assert set(_documented_hooks()) == headings  # each heading has its signature block
