"""`vigil serve`: one process by default, N worker processes that each build the app from the
environment with --workers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from vigil.cli import build_cli
from vigil.core.config import Settings
from vigil.deployment import Deployment


def _calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    import uvicorn

    seen: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: seen.append((a, k)))
    return seen


def test_serve_with_workers_hands_uvicorn_the_factory_and_the_data_folder(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _calls(monkeypatch)
    monkeypatch.setenv("VIGIL_DATA", "elsewhere")  # restored after the test: serve sets it
    data = deployment.settings.data
    result = CliRunner().invoke(build_cli(), ["serve", "--data", str(data), "--workers", "2"])
    assert result.exit_code == 0, result.output
    [(args, kwargs)] = seen
    assert args == ("vigil.web.app:app_from_environment",)
    assert (kwargs["factory"], kwargs["workers"], kwargs["proxy_headers"]) == (True, 2, False)
    assert os.environ["VIGIL_DATA"] == str(Path(data).resolve())
    # What each worker builds: the app of that deployment.
    from vigil.web.app import app_from_environment

    app = app_from_environment()
    assert app.state.deployment.settings.data == Path(data).resolve()
    app.state.deployment.close()


def test_serve_refuses_zero_workers(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = _calls(monkeypatch)
    data = str(deployment.settings.data)
    result = CliRunner().invoke(build_cli(), ["serve", "--data", data, "--workers", "0"])
    assert result.exit_code == 2 and seen == []


def test_settings_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("VIGIL_DATA", str(tmp_path))
    assert Settings().data == tmp_path
