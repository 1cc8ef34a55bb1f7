"""The duty room's commands: alerts, triage, cases, duty; --as applies the officer's scope."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from tests.conftest import BEFORE
from vigil.cli import build_cli
from vigil.core.access import Role
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.findings import record_findings
from vigil.store.users import create_user

runner = CliRunner()


@pytest.fixture
def data(deployment: Deployment) -> str:
    with deployment.store.session() as s:
        for name, role, unit in (
            ("duty1", Role.DUTY_OFFICER, "P01"),
            ("c02duty", Role.DUTY_OFFICER, "C02"),
            ("watcher", Role.VIEWER, "P01"),
        ):
            create_user(s, deployment.units, name, "long-password-1", role, unit)
        # Critical findings are alerts in every phase, so the real clock of the CLI does not matter.
        record_findings(
            s,
            [
                Finding(
                    "monitor",
                    "sigma-ransom-note",
                    Severity.CRITICAL,
                    "C01",
                    "voters-srv",
                    "Ransom note",
                    observed_at=BEFORE,
                ),
                Finding(
                    "monitor",
                    "sigma-ransom-note",
                    Severity.CRITICAL,
                    "C01",
                    "voters-srv-2",
                    "Ransom note",
                    observed_at=BEFORE + timedelta(minutes=1),
                ),
            ],
        )
    return str(deployment.settings.data)


def vigil(*args: str) -> tuple[int, str]:
    result = runner.invoke(build_cli(), list(args))
    return result.exit_code, result.output


def alerts(data: str, *extra: str) -> list[dict[str, object]]:
    code, out = vigil("alerts", "--data", data, "--json", *extra)
    assert code == 0, out
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_alerts_respect_scope_of_the_officer(data: str) -> None:
    assert [a["subject"] for a in alerts(data)] == ["voters-srv-2", "voters-srv"]
    assert alerts(data, "--as", "c02duty") == []
    assert [a["subject"] for a in alerts(data, "--limit", "1", "--page", "2")] == ["voters-srv"]
    code, out = vigil("alerts", "--data", data, "--as", "c02duty", "--unit", "C01")
    assert code == 1
    assert "unit C01 is outside the scope of c02duty" in out
    code, out = vigil("alerts", "--data", data, "--as", "nobody")
    assert (code, "no user 'nobody'" in out) == (1, True)


def test_triage_and_case_life_from_the_command_line(data: str) -> None:
    first, second = (int(str(a["id"])) for a in alerts(data))
    code, out = vigil("triage", "ack", str(first), "--data", data, "--as", "watcher")
    assert code == 1 and "may not triage" in out
    assert (
        vigil("triage", "ack", str(first), "--note", "on it", "--data", data, "--as", "duty1")[0]
        == 0
    )
    code, out = vigil("triage", "fp", str(second), "--reason", "", "--data", data)
    assert code == 1 and "needs a reason" in out

    code, out = vigil(
        "cases",
        "open",
        "--finding",
        str(first),
        "--finding",
        str(second),
        "--data",
        data,
        "--as",
        "duty1",
        "--owner",
        "duty1",
    )
    assert code == 0, out
    number = re.search(r"opened (VV-\d{4}-0001)", out)
    assert number is not None
    ref = number.group(1)
    assert vigil("cases", "step", ref, "1", "--note", "server unplugged", "--data", data)[0] == 0
    assert vigil("cases", "note", ref, "backup found", "--data", data)[0] == 0
    # Closing is refused while a step is open; a step that comes after another waits for it.
    code, out = vigil("cases", "close", ref, "--summary", "restored from backup", "--data", data)
    assert code == 1 and "still has open steps (2, 3, 4, 5, 6, 7, 8, 9)" in out, out
    code, out = vigil("cases", "step", ref, "7", "--data", data)
    assert code == 1 and "step 7 waits for step 6" in out, out
    for position in range(2, 10):
        code, out = vigil(
            "cases", "step", ref, str(position), "--not-applicable", "drill", "--data", data
        )
        assert (code, f"step {position} not applicable" in out) == (0, True), out
    code, out = vigil("cases", "step", ref, "3", "--not-applicable", "again", "--data", data)
    assert code == 1 and "already settled" in out, out
    assert vigil("cases", "close", ref, "--summary", "restored from backup", "--data", data)[0] == 0
    code, out = vigil("cases", "show", ref, "--json", "--data", data)
    assert code == 0, out
    shown = json.loads(out)
    assert (shown["status"], shown["playbook"], shown["owner"], shown["unit"]) == (
        "closed",
        "ransomware_voter_list",
        "duty1",
        "C01",
    )
    assert [e["kind"] for e in shown["timeline"]] == [
        "opened",
        "assigned",
        "escalated",
        "escalated",
        "status",
        "step_done",
        "note",
        *["step_na"] * 8,
        "closed",
    ]
    assert [f["status"] for f in shown["findings"]] == ["resolved", "resolved"]
    assert shown["steps"][0]["note"] == "server unplugged"
    assert [(s["after"], s["not_applicable"]) for s in shown["steps"][5:7]] == [
        ([3, 5], "drill"),
        ([6], "drill"),
    ]
    code, out = vigil("cases", "list", "--json", "--as", "c02duty", "--data", data)
    assert (code, out.strip()) == (0, "")
    code, out = vigil(
        "cases",
        "open",
        "--title",
        "Phone report",
        "--unit",
        "C02",
        "--severity",
        "low",
        "--data",
        data,
        "--as",
        "c02duty",
    )
    assert code == 0 and re.search(r"opened VV-\d{4}-0002", out), out
    code, out = vigil("cases", "list", "--json", "--data", data)
    assert [json.loads(line)["status"] for line in out.splitlines()] == ["open", "closed"]


def test_duty_commands_and_gap_exit_code(data: str) -> None:
    code, out = vigil(
        "duty",
        "add",
        "duty1",
        "--starts",
        "2026-02-02 07:00",
        "--ends",
        "2026-02-02 15:00",
        "--lead",
        "--data",
        data,
    )
    assert code == 0, out
    code, out = vigil(
        "duty", "gaps", "--from", "2026-02-02 07:00", "--to", "2026-02-02 15:00", "--data", data
    )
    assert code == 0 and "covered" in out
    code, out = vigil(
        "duty", "gaps", "--from", "2026-02-02 06:00", "--to", "2026-02-02 18:00", "--data", data
    )
    assert code == 3
    assert "2 gaps, 4 hours uncovered" in out
    code, out = vigil(
        "duty", "roster", "--from", "2026-02-02 00:00", "--to", "2026-02-03 00:00", "--data", data
    )
    assert code == 0 and "duty1" in out and "1 shifts" in out
    code, out = vigil(
        "duty",
        "add",
        "watcher",
        "--starts",
        "2026-02-02 15:00",
        "--ends",
        "2026-02-02 23:00",
        "--data",
        data,
    )
    assert code == 1 and "cannot triage" in out
    code, out = vigil(
        "duty",
        "handover-note",
        "Portal under load",
        "--shift",
        "1",
        "--data",
        data,
        "--as",
        "duty1",
    )
    assert code == 0 and "handover note 1 saved" in out
    code, out = vigil("duty", "gaps", "--from", "yesterday", "--data", data)
    assert code == 1 and "not a date and time" in out


def test_help_lists_every_command() -> None:
    for group, commands in (
        ("triage", ("ack", "fp", "merge")),
        (
            "cases",
            ("list", "show", "open", "assign", "step", "note", "status", "close", "playbooks"),
        ),
        ("duty", ("add", "roster", "gaps", "handover-note")),
    ):
        code, out = vigil(group, "--help")
        assert code == 0
        for command in commands:
            assert command in out
    code, out = vigil("alerts", "--help")
    assert code == 0 and "--capability" in out and "--as" in out
