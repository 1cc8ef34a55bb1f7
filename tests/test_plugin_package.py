"""An outside package joins exactly as a built-in room: tests/plugins/vigil_sample_plugin, installed
with pip into a folder of its own, brings its command, page, menu entry, migration and catalog
through the `vigil` entry point alone."""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from typer.testing import CliRunner

from tests.conftest import BEFORE, TEST_PROVINCE
from tests.test_web_pages import form_login
from tests.web_fixtures import PASSWORD
from vigil.cli import build_cli
from vigil.core.config import Settings, write_secret
from vigil.core.i18n import translations
from vigil.deployment import Deployment
from vigil.plugins import plugin_manager
from vigil.store.base import Base
from vigil.store.schema import pending_heads
from vigil.store.units import sync_units
from vigil.store.users import create_user
from vigil.web.app import create_app

SAMPLE = Path(__file__).parent / "plugins" / "vigil_sample_plugin"
VIGIL = Path(sys.executable).with_name("vigil")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample package installed by pip into a folder of its own, from a copy of its source
    (a build writes into the tree it builds). The project's venv is not touched."""
    work = tmp_path_factory.mktemp("sample")
    source = work / "source"
    shutil.copytree(SAMPLE, source, ignore=shutil.ignore_patterns("__pycache__"))
    target = work / "site"
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index"]
    command += ["--no-build-isolation", "--target", str(target), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (target / "vigil_sample_plugin-0.1.0.dist-info" / "entry_points.txt").read_text(
        encoding="utf-8"
    ) == "[vigil]\nsample = vigil_sample_plugin.plugin\n"
    return target


def _data_dir(root: Path) -> Path:
    data = root / "data"
    data.mkdir()
    (data / "vigil.toml").write_text(TEST_PROVINCE, encoding="utf-8")
    write_secret(data)
    return data


def _vigil(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(site), "COLUMNS": "120"}
    return subprocess.run([str(VIGIL), *args], capture_output=True, text=True, env=env, timeout=300)


def test_vigil_help_lists_the_sample_command_and_it_runs(site: Path, tmp_path: Path) -> None:
    shown = _vigil(site, "--help")
    assert shown.returncode == 0, shown.stderr
    assert "sample" in shown.stdout and "The sample room's notes." in shown.stdout
    data = _data_dir(tmp_path)
    first = _vigil(site, "sample", "note", "Kiểm tra máy chủ", "--data", str(data))
    assert (first.returncode, first.stdout) == (0, "1 sample notes\n"), first.stderr
    second = _vigil(site, "sample", "note", "again", "--data", str(data))
    assert second.stdout == "2 sample notes\n"
    listed = _vigil(site, "plugins", "--json")
    entries = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [e["name"] for e in entries] == [
        "candidates",
        "cases",
        "demo",
        "infowatch",
        "inspect",
        "monitor",
        "registry",
        "reports",
        "sample",
    ]


@pytest.fixture
def sample_registered(site: Path) -> Iterator[Path]:
    """This process with the sample package on its path and the plugins loaded again; after the
    test, everything it added is taken away: path, modules, table, caches."""
    build_cli()  # the root command is mounted once per process: mount it without the sample
    saved_path = list(sys.path)
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    plugin_manager.cache_clear()
    translations.cache_clear()
    try:
        yield site
    finally:
        sys.path[:] = saved_path
        for name in [m for m in sys.modules if m.split(".")[0] == "vigil_sample_plugin"]:
            del sys.modules[name]
        table = Base.metadata.tables.get("sample_notes")
        if table is not None:
            Base.metadata.remove(table)
        importlib.invalidate_caches()
        plugin_manager.cache_clear()
        translations.cache_clear()


@pytest.fixture
def sample_deployment(sample_registered: Path, tmp_path: Path) -> Iterator[Deployment]:
    """A fresh deployment opened (and so migrated) with the sample plugin registered."""
    settings = Settings(data=_data_dir(tmp_path), demo=True, cookie_secure=False)
    dep = Deployment.open(settings, clock=BEFORE)
    with dep.store.session() as session:
        sync_units(session, dep.units)
        create_user(session, dep.units, "duty", PASSWORD, "duty_officer", "P01", lang="vi")
    yield dep
    dep.close()


def test_a_fresh_deployment_migrates_the_sample_table(sample_deployment: Deployment) -> None:
    store = sample_deployment.store
    assert "sample_notes" in inspect(store.engine).get_table_names()
    assert pending_heads(store) == set()
    with store.engine.connect() as conn:
        versions = set(conn.scalars(text("SELECT version_num FROM alembic_version")))
    assert "0001_sample" in versions
    assert "sample_notes" in Base.metadata.tables  # autogenerate sees it too


def test_vigil_plugins_lists_the_sample_with_everything_it_registered(
    sample_registered: Path,
) -> None:
    result = CliRunner().invoke(build_cli(), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output.splitlines()[-1])
    here = sample_registered / "vigil_sample_plugin"
    assert entry == {
        "name": "sample",
        "module": "vigil_sample_plugin.plugin",
        "distribution": "vigil-sample-plugin",
        "label": "Sample notes",
        "commands": ["sample"],
        "routes": ["GET /sample"],
        "nav": [{"path": "/sample", "label": "Sample notes", "permission": "view", "order": 50}],
        "dashboard": [],
        "templates": [str(here / "templates")],
        "migrations": [{"folder": str(here / "migrations"), "revisions": ["0001_sample"]}],
        "translations": [{"language": "vi", "catalog": str(here / "locales" / "vi.po")}],
        "models": ["sample_notes"],
        "detectors": False,
        "demo": False,
    }


def test_the_sample_page_is_served_with_its_menu_entry_in_the_officers_language(
    sample_deployment: Deployment,
) -> None:
    from vigil_sample_plugin.models import sample_notes  # type: ignore[import-not-found]

    with sample_deployment.store.session() as session:
        session.execute(sample_notes.insert().values(text="Máy chủ danh sách cử tri đã kiểm tra"))
    app = create_app(sample_deployment.settings, sample_deployment)
    with TestClient(app, follow_redirects=False) as client:
        assert client.get("/sample").status_code == 303  # behind the login like every page
        form_login(client, "duty")
        page = client.get("/sample")
        assert page.status_code == 200
        assert '<h1 data-test="sample-title">Ghi chú mẫu</h1>' in page.text
        assert '<li data-test="sample-note">Máy chủ danh sách cử tri đã kiểm tra</li>' in page.text
        assert '<a href="/sample" class="active" aria-current="page">Ghi chú mẫu</a>' in page.text
        assert '<a href="/sample">Ghi chú mẫu</a>' in client.get("/").text
    with sample_deployment.store.session() as session:
        session.execute(text("UPDATE users SET lang = 'en' WHERE username = 'duty'"))
    with TestClient(app, follow_redirects=False) as client:
        form_login(client, "duty")
        assert '<h1 data-test="sample-title">Sample notes</h1>' in client.get("/sample").text
    with sample_deployment.store.reader() as session:
        assert list(session.scalars(select(sample_notes.c.text))) == [
            "Máy chủ danh sách cử tri đã kiểm tra"
        ]


def test_nothing_of_the_sample_is_left_for_the_next_test() -> None:
    """Runs after the tests above (file order): the process is as it was before them."""
    assert "sample" not in plugin_manager().origins
    assert "sample_notes" not in Base.metadata.tables
    assert not any(m.split(".")[0] == "vigil_sample_plugin" for m in sys.modules)
    assert translations("vi").gettext("Sample notes") == "Sample notes"
    assert "sample" not in [group.name for group in build_cli().registered_groups]
