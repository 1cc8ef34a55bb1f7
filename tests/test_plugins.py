"""One way in: every room, the built-in ones too, registers through the `vigil` entry points, and
its tables, migrations, catalogs and templates come through its hooks; `vigil plugins` shows it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import vigil
from vigil.cli import build_cli
from vigil.core.i18n import catalog_files
from vigil.plugins import (
    PluginError,
    load_plugins,
    locale_folders,
    migration_folders,
    model_modules,
    plugin_manager,
    template_folders,
)
from vigil.store.models import Base
from vigil.store.schema import load_models, version_locations

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = Path(vigil.__file__).parent
VIGIL = Path(sys.executable).with_name("vigil")

# --- what `vigil plugins --json` reports for the built-in rooms ---------------------------------
# Paths are relative to src/.

EXPECTED: dict[str, dict[str, Any]] = {
    "candidates": {
        "module": "vigil.candidates.plugin",
        "distribution": "vigil-election",
        "label": "Candidate checks",
        "commands": ["candidates", "report"],
        "routes": [
            "GET /candidates",
            "GET /candidates/{candidate_id}",
            "POST /candidates/{candidate_id}/reveal",
            "GET /candidates/{candidate_id}/reveal",
            "POST /reports/candidates",
        ],
        "nav": [{"path": "/candidates", "label": "Candidates", "permission": "view", "order": 50}],
        "dashboard": ["candidates.status"],
        "templates": ["vigil/candidates/templates"],
        "migrations": [{"folder": "vigil/candidates/migrations", "revisions": ["0001_candidates"]}],
        "translations": [{"language": "vi", "catalog": "vigil/candidates/locales/vi.po"}],
        "models": ["candidate_checks"],
        "detectors": True,
        "demo": True,
    },
    "cases": {
        "module": "vigil.cases.plugin",
        "distribution": "vigil-election",
        "label": "Duty room operations",
        "commands": ["alerts", "cases", "duty", "report", "triage"],
        "routes": [
            "GET /alerts",
            "GET /findings/{finding_id}",
            "POST /findings/{finding_id}/reveal",
            "GET /findings/{finding_id}/reveal",
            "POST /findings/{finding_id}/ack",
            "POST /findings/{finding_id}/false-positive",
            "GET /alerts/escalate",
            "POST /alerts/escalate",
            "POST /alerts/merge",
            "GET /cases",
            "GET /cases/{case_id}",
            "POST /cases/{case_id}/steps/{position}/done",
            "POST /cases/{case_id}/steps/{position}/not-applicable",
            "POST /cases/{case_id}/notes",
            "POST /cases/{case_id}/assign",
            "POST /cases/{case_id}/status",
            "POST /cases/{case_id}/close",
            "GET /duty",
            "POST /duty/shifts",
            "GET /duty/handover",
            "POST /duty/handover/notes",
            "GET /api/alerts",
            "GET /api/findings/{finding_id}",
            "POST /api/findings/{finding_id}/reveal",
            "POST /api/findings/merge",
            "POST /api/findings/{finding_id}/ack",
            "POST /api/findings/{finding_id}/false-positive",
            "POST /api/cases",
            "GET /api/cases",
            "GET /api/cases/{case_id}",
            "POST /api/cases/{case_id}/steps/{position}/done",
            "POST /api/cases/{case_id}/steps/{position}/not-applicable",
            "POST /api/cases/{case_id}/notes",
            "POST /api/cases/{case_id}/assign",
            "POST /api/cases/{case_id}/close",
            "GET /api/duty/roster",
            "GET /api/duty/gaps",
            "POST /api/duty/shifts",
            "POST /reports/handover",
            "POST /reports/daily",
        ],
        "nav": [
            {"path": "/alerts", "label": "Alerts", "permission": "view", "order": 10},
            {"path": "/cases", "label": "Cases", "permission": "view", "order": 20},
            {"path": "/duty", "label": "Duty roster", "permission": "view", "order": 30},
            {
                "path": "/duty/handover",
                "label": "Shift handover",
                "permission": "view",
                "order": 40,
            },
        ],
        "dashboard": [
            "cases.open-alerts",
            "cases.next-actions",
            "cases.reports",
            "cases.trend",
            "cases.open-cases",
            "cases.readiness",
        ],
        "templates": ["vigil/cases/templates"],
        "migrations": [
            {
                "folder": "vigil/cases/migrations",
                "revisions": ["0001_cases", "0002_case_steps_order"],
            }
        ],
        "translations": [{"language": "vi", "catalog": "vigil/cases/locales/vi.po"}],
        "models": ["case_events", "case_steps", "cases", "duty_shifts", "handover_notes"],
        "detectors": True,
        "demo": True,
    },
    "demo": {
        "module": "vigil.demo.plugin",
        "distribution": "vigil-election",
        "label": "",
        "commands": ["demo"],
        "routes": [],
        "nav": [],
        "dashboard": [],
        "templates": [],
        "migrations": [],
        "translations": [{"language": "vi", "catalog": "vigil/demo/locales/vi.po"}],
        "models": [],
        "detectors": False,
        "demo": False,
    },
    "infowatch": {
        "module": "vigil.infowatch.plugin",
        "distribution": "vigil-election",
        "label": "Information watch",
        "commands": ["infowatch", "watchlist"],
        "routes": [
            "GET /infowatch/posts",
            "GET /infowatch/campaigns",
            "GET /infowatch/campaigns/{finding_id}",
            "GET /infowatch/impersonation",
            "GET /infowatch/claims",
            "GET /infowatch/advisories",
            "GET /infowatch/advisories/new",
            "POST /infowatch/advisories",
            "GET /infowatch/advisories/{advisory_id}",
            "POST /infowatch/advisories/{advisory_id}/approve",
            "GET /infowatch/watchlist",
            "POST /infowatch/watchlist",
            "GET /public/{path:path}",
        ],
        "nav": [
            {"path": "/infowatch/posts", "label": "Post triage", "permission": "view", "order": 50},
            {
                "path": "/infowatch/advisories",
                "label": "Advisories",
                "permission": "view",
                "order": 50,
            },
        ],
        "dashboard": [],
        "templates": ["vigil/infowatch/templates"],
        "migrations": [{"folder": "vigil/infowatch/migrations", "revisions": ["0001_infowatch"]}],
        "translations": [{"language": "vi", "catalog": "vigil/infowatch/locales/vi.po"}],
        "models": [
            "infowatch_advisories",
            "infowatch_facts",
            "infowatch_scans",
            "infowatch_watchlist",
        ],
        "detectors": True,
        "demo": True,
    },
    "inspect": {
        "module": "vigil.inspect.plugin",
        "distribution": "vigil-election",
        "label": "Inspections",
        "commands": ["inspect", "report", "vulns"],
        "routes": [
            "GET /inspect",
            "POST /inspect/plan",
            "GET /inspect/remediation",
            "POST /inspect/remediation/{item_id}/done",
            "GET /inspect/{inspection_id}",
            "POST /inspect/{inspection_id}/answers",
            "POST /inspect/{inspection_id}/close",
        ],
        "nav": [
            {"path": "/inspect", "label": "Inspections", "permission": "view", "order": 50},
            {
                "path": "/inspect/remediation",
                "label": "Remediation tracking",
                "permission": "view",
                "order": 50,
            },
        ],
        "dashboard": [],
        "templates": ["vigil/inspect/templates"],
        "migrations": [{"folder": "vigil/inspect/migrations", "revisions": ["0001_inspect"]}],
        "translations": [{"language": "vi", "catalog": "vigil/inspect/locales/vi.po"}],
        "models": [
            "inspect_answers",
            "inspect_evidence",
            "inspect_inspections",
            "inspect_remediation",
        ],
        "detectors": True,
        "demo": True,
    },
    "monitor": {
        "module": "vigil.monitor.plugin",
        "distribution": "vigil-election",
        "label": "Security monitoring",
        "commands": ["ioc", "monitor", "rules", "yara"],
        "routes": [
            "GET /monitor/events",
            "GET /monitor/detections",
            "GET /monitor/detections/{finding_id}",
            "GET /monitor/coverage",
            "GET /monitor/sensors",
        ],
        "nav": [
            {"path": "/monitor/events", "label": "Event search", "permission": "view", "order": 50},
            {
                "path": "/monitor/detections",
                "label": "Detections",
                "permission": "view",
                "order": 50,
            },
            {
                "path": "/monitor/coverage",
                "label": "Rule coverage",
                "permission": "view",
                "order": 50,
            },
            {
                "path": "/monitor/sensors",
                "label": "Sensor health",
                "permission": "view",
                "order": 50,
            },
        ],
        "dashboard": [],
        "templates": ["vigil/monitor/templates"],
        "migrations": [
            {
                "folder": "vigil/monitor/migrations",
                "revisions": ["0001_monitor", "0002_monitor_collected"],
            }
        ],
        "translations": [{"language": "vi", "catalog": "vigil/monitor/locales/vi.po"}],
        "models": ["monitor_hosts", "monitor_rules", "monitor_rulesets", "monitor_scans"],
        "detectors": True,
        "demo": True,
    },
    "registry": {
        "module": "vigil.registry.plugin",
        "distribution": "vigil-election",
        "label": "Population registry",
        "commands": ["registry", "report"],
        "routes": [
            "GET /registry",
            "GET /registry/communes/{commune}",
            "GET /registry/duplicates",
            "POST /registry/duplicates/decide",
            "GET /registry/households",
            "POST /registry/households/review",
            "POST /reports/registry",
            "GET /registry/voters",
            "POST /registry/voters/build",
            "GET /registry/voters/{commune}",
            "POST /registry/voters/{commune}/reveal",
            "GET /registry/voters/{commune}/export",
            "POST /registry/voters/{commune}/export",
        ],
        "nav": [
            {"path": "/registry", "label": "Registry scorecard", "permission": "view", "order": 60},
            {
                "path": "/registry/duplicates",
                "label": "Duplicate review queue",
                "permission": "view",
                "order": 61,
            },
            {"path": "/registry/voters", "label": "Voter lists", "permission": "view", "order": 62},
        ],
        "dashboard": ["registry.voters"],
        "templates": ["vigil/registry/templates"],
        "migrations": [
            {"folder": "vigil/registry/migrations", "revisions": ["0001_registry", "0002_voters"]}
        ],
        "translations": [{"language": "vi", "catalog": "vigil/registry/locales/vi.po"}],
        "models": [
            "registry_checked_batches",
            "registry_household_reviews",
            "registry_pair_decisions",
            "registry_scores",
            "registry_voter_changes",
            "registry_voter_entries",
            "registry_voter_lists",
        ],
        "detectors": True,
        "demo": False,
    },
    "reports": {
        "module": "vigil.reports.plugin",
        "distribution": "vigil-election",
        "label": "",
        "commands": ["report"],
        "routes": [],
        "nav": [],
        "dashboard": [],
        "templates": [],
        "migrations": [],
        "translations": [{"language": "vi", "catalog": "vigil/reports/locales/vi.po"}],
        "models": [],
        "detectors": False,
        "demo": False,
    },
}


def _from_src(path: str) -> str:
    return Path(path).relative_to(PACKAGE.parent).as_posix()


def _relative(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry of `vigil plugins --json` with its folders relative to src/."""
    out = dict(entry)
    out["templates"] = [_from_src(t) for t in entry["templates"]]
    out["migrations"] = [{**m, "folder": _from_src(m["folder"])} for m in entry["migrations"]]
    out["translations"] = [{**t, "catalog": _from_src(t["catalog"])} for t in entry["translations"]]
    return out


def test_vigil_plugins_lists_what_each_built_in_room_registered() -> None:
    result = CliRunner().invoke(build_cli(), ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.output.splitlines()]
    assert [e["name"] for e in entries] == [
        "candidates",
        "cases",
        "demo",
        "infowatch",
        "inspect",
        "monitor",
        "registry",
        "reports",
    ]
    for entry in entries:
        assert _relative(entry) == {"name": entry["name"], **EXPECTED[entry["name"]]}


def test_vigil_plugins_table_names_each_plugin_and_its_origin() -> None:
    result = CliRunner().invoke(build_cli(), ["plugins"])
    assert result.exit_code == 0, result.output
    for name in EXPECTED:
        assert f"vigil.{name}.plugin (vigil-election)" in result.output
    cells = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in result.output.splitlines()
        if line.startswith("│")
    ]
    assert ["vigil_cli", "ioc, monitor, rules, yara"] in cells
    assert ["vigil_routers", "GET /monitor/events"] in cells
    assert ["vigil_templates", "vigil/monitor/templates"] in cells
    assert ["vigil_locales", "vigil/reports/locales/vi.po"] in cells
    assert ["vigil_cli", "report"] in cells


# --- registration ------------------------------------------------------------------------------


def test_built_in_rooms_are_the_entry_points_pyproject_declares() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "entry-points"
    ]["vigil"]
    installed = {
        ep.name: ep.value
        for ep in distribution("vigil-election").entry_points
        if ep.group == "vigil"
    }
    assert installed == declared, "installed metadata is stale: run `make install` again"
    # Every room folder with a plugin.py has its line, and no line names a missing module.
    rooms = {p.parent.name for p in PACKAGE.glob("*/plugin.py")}
    assert declared == {room: f"vigil.{room}.plugin" for room in sorted(rooms)}


def test_built_in_rooms_register_once_in_name_order_with_their_origin() -> None:
    pm = plugin_manager()
    assert [name for name, _plugin in pm.list_name_plugin()] == [
        "candidates",
        "cases",
        "demo",
        "infowatch",
        "inspect",
        "monitor",
        "registry",
        "reports",
    ]
    for name, origin in pm.origins.items():
        assert (origin.name, origin.module, origin.distribution) == (
            name,
            f"vigil.{name}.plugin",
            "vigil-election",
        )
        assert pm.get_plugin(name) is sys.modules[f"vigil.{name}.plugin"]


def test_rooms_resources_come_through_their_hooks() -> None:
    assert model_modules() == [
        "vigil.candidates.models",
        "vigil.cases.models",
        "vigil.infowatch.models",
        "vigil.inspect.models",
        "vigil.monitor.models",
        "vigil.registry.models",
        "vigil.registry.voters.models",
    ]
    assert migration_folders() == [
        PACKAGE / "candidates/migrations",
        PACKAGE / "cases/migrations",
        PACKAGE / "infowatch/migrations",
        PACKAGE / "inspect/migrations",
        PACKAGE / "monitor/migrations",
        PACKAGE / "registry/migrations",
    ]
    assert locale_folders() == [
        PACKAGE / "candidates/locales",
        PACKAGE / "cases/locales",
        PACKAGE / "demo/locales",
        PACKAGE / "infowatch/locales",
        PACKAGE / "inspect/locales",
        PACKAGE / "monitor/locales",
        PACKAGE / "registry/locales",
        PACKAGE / "reports/locales",
    ]
    assert template_folders() == [
        PACKAGE / "candidates/templates",
        PACKAGE / "cases/templates",
        PACKAGE / "infowatch/templates",
        PACKAGE / "inspect/templates",
        PACKAGE / "monitor/templates",
        PACKAGE / "registry/templates",
    ]
    # The platform's own parts first, named by the platform; then the rooms'.
    assert version_locations() == [
        str(PACKAGE / "store/migrations/versions"),
        str(PACKAGE / "candidates/migrations"),
        str(PACKAGE / "cases/migrations"),
        str(PACKAGE / "infowatch/migrations"),
        str(PACKAGE / "inspect/migrations"),
        str(PACKAGE / "monitor/migrations"),
        str(PACKAGE / "registry/migrations"),
    ]
    assert [_from_src(str(p)) for p in catalog_files("vi")] == [
        "vigil/core/locales/vi.po",
        "vigil/web/locales/vi.po",
        "vigil/candidates/locales/vi.po",
        "vigil/cases/locales/vi.po",
        "vigil/demo/locales/vi.po",
        "vigil/infowatch/locales/vi.po",
        "vigil/inspect/locales/vi.po",
        "vigil/monitor/locales/vi.po",
        "vigil/registry/locales/vi.po",
        "vigil/reports/locales/vi.po",
    ]
    platform = {
        "units",
        "users",
        "web_sessions",
        "findings",
        "finding_occurrences",
        "audit_log",
        "indicators",
    }
    rooms = {t for entry in EXPECTED.values() for t in entry["models"]}
    assert set(load_models().tables) == platform | rooms
    assert load_models() is Base.metadata


# --- plugins that cannot join, said plainly -------------------------------------------------


class FakeDistributions:
    """Installed distributions written by hand into a folder on sys.path: a dist-info with the
    entry points, and the modules they name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.modules: list[str] = []

    def add(self, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
        info = self.root / f"{name.replace('-', '_')}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n", encoding="utf-8"
        )
        lines = "".join(f"{key} = {value}\n" for key, value in entry_points.items())
        (info / "entry_points.txt").write_text(f"[vigil]\n{lines}", encoding="utf-8")
        for module, source in modules.items():
            (self.root / f"{module}.py").write_text(source, encoding="utf-8")
            self.modules.append(module)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDistributions]:
    monkeypatch.syspath_prepend(str(tmp_path))
    dists = FakeDistributions(tmp_path)
    yield dists
    for module in dists.modules:
        sys.modules.pop(module, None)


HOOKS = "from vigil.plugins import NavItem, hookimpl\n\n"


def test_an_entry_point_that_does_not_load_is_named_with_its_package(
    fake: FakeDistributions,
) -> None:
    fake.add("vigil-broken-room", {"broken": "vigil_test_absent.plugin"}, {})
    with pytest.raises(PluginError) as caught:
        load_plugins()
    assert str(caught.value) == (
        "the plugin 'broken' could not be loaded from its entry point "
        "`broken = vigil_test_absent.plugin` (group 'vigil') of vigil-broken-room: "
        "ModuleNotFoundError: No module named 'vigil_test_absent'"
    )


def test_a_plugin_failing_on_import_says_what_it_raised(fake: FakeDistributions) -> None:
    fake.add(
        "vigil-raising-room",
        {"raising": "vigil_test_raising"},
        {"vigil_test_raising": "raise RuntimeError('licence file missing')\n"},
    )
    with pytest.raises(PluginError) as caught:
        load_plugins()
    assert str(caught.value).endswith("RuntimeError: licence file missing")
    assert "`raising = vigil_test_raising` (group 'vigil') of vigil-raising-room" in str(
        caught.value
    )


def test_the_cli_reports_a_broken_plugin_in_one_line_without_a_traceback(
    fake: FakeDistributions,
) -> None:
    fake.add("vigil-broken-room", {"broken": "vigil_test_absent.plugin"}, {})
    env = {**os.environ, "PYTHONPATH": str(fake.root)}
    done = subprocess.run(
        [str(VIGIL), "--help"], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert " ".join(done.stderr.split()) == (
        "error: the plugin 'broken' could not be loaded from its entry point "
        "`broken = vigil_test_absent.plugin` (group 'vigil') of vigil-broken-room: "
        "ModuleNotFoundError: No module named 'vigil_test_absent'"
    )


def test_outside_plugins_follow_the_built_in_rooms_in_name_order(
    fake: FakeDistributions,
) -> None:
    fake.add(
        "vigil-two-rooms",
        {"zeta": "vigil_test_zeta", "alpha": "vigil_test_alpha"},
        {"vigil_test_zeta": HOOKS, "vigil_test_alpha": HOOKS},
    )
    pm = load_plugins()
    assert list(pm.origins) == [
        "candidates",
        "cases",
        "demo",
        "infowatch",
        "inspect",
        "monitor",
        "registry",
        "reports",
        "alpha",
        "zeta",
    ]
    assert pm.origins["alpha"].distribution == "vigil-two-rooms"
    assert not pm.origins["alpha"].builtin


def test_two_entry_points_naming_one_module_register_it_once(fake: FakeDistributions) -> None:
    room = HOOKS + "@hookimpl\ndef vigil_nav():\n    return [NavItem('/twin', 'Twin')]\n"
    fake.add(
        "vigil-twin-room",
        {"twin": "vigil_test_twin", "twin_again": "vigil_test_twin"},
        {"vigil_test_twin": room},
    )
    pm = load_plugins()
    assert "twin" in pm.origins and "twin_again" not in pm.origins
    navs = [impl.plugin_name for impl in pm.hook.vigil_nav.get_hookimpls()]
    assert navs == ["candidates", "cases", "infowatch", "inspect", "monitor", "registry", "twin"]


def test_a_plugin_taking_a_built_in_room_name_is_refused(fake: FakeDistributions) -> None:
    fake.add("vigil-clash", {"cases": "vigil_test_clash"}, {"vigil_test_clash": HOOKS})
    with pytest.raises(PluginError) as caught:
        load_plugins()
    assert str(caught.value) == (
        "two plugins are named 'cases': the entry point `cases = vigil.cases.plugin` (group "
        "'vigil') of vigil-election and the entry point `cases = vigil_test_clash` (group "
        "'vigil') of vigil-clash; rename one of the entry points"
    )


def test_a_hook_with_a_misspelt_name_or_argument_is_refused(fake: FakeDistributions) -> None:
    fake.add(
        "vigil-typo",
        {"typo": "vigil_test_typo"},
        {"vigil_test_typo": HOOKS + "@hookimpl\ndef vigil_navs():\n    return []\n"},
    )
    with pytest.raises(PluginError, match="a plugin implements a hook Vigil does not have"):
        load_plugins()


def test_a_hook_with_an_argument_the_spec_does_not_give_is_refused(
    fake: FakeDistributions,
) -> None:
    fake.add(
        "vigil-wrong-arg",
        {"wrong": "vigil_test_wrong_arg"},
        {"vigil_test_wrong_arg": HOOKS + "@hookimpl\ndef vigil_cli(application):\n    pass\n"},
    )
    with pytest.raises(PluginError) as caught:
        load_plugins()
    message = str(caught.value)
    assert message.startswith(
        "the plugin 'wrong' (entry point `wrong = vigil_test_wrong_arg` (group 'vigil') of "
        "vigil-wrong-arg): "
    )
    assert "application" in message


def test_each_room_translates_its_own_name_in_its_own_catalog() -> None:
    """A room's label (`vigil_label`) is its own msgid, in its own catalog: a new room is named
    in reports and pages without touching another room or the reports engine."""
    from babel.messages.pofile import read_po

    from vigil.plugins import capability_labels, contributions
    from vigil.reports.lines import capability_name

    labels = capability_labels()
    assert labels == {
        "candidates": "Candidate checks",
        "cases": "Duty room operations",
        "infowatch": "Information watch",
        "inspect": "Inspections",
        "monitor": "Security monitoring",
        "registry": "Population registry",
    }
    folders = dict(contributions("vigil_locales"))
    for room, label in labels.items():
        with (Path(folders[room][0]) / "vi.po").open("rb") as fh:
            catalog = read_po(fh, locale="vi")
        assert catalog.get(label) is not None and catalog.get(label).string, room
    assert capability_name("monitor", "vi") == "Giám sát an ninh mạng"
    assert capability_name("monitor", "en") == "Security monitoring"
    assert capability_name("registry", "vi") == "Dữ liệu dân cư"
    assert capability_name("nosuchroom", "vi") == "nosuchroom"  # no such room: its plugin name
