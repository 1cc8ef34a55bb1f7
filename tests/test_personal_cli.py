"""`vigil findings list --json`: personal data masked unless an allowed officer asks (audited)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import BEFORE
from vigil.cli import build_cli
from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.deployment import Deployment
from vigil.store.findings import record_findings
from vigil.store.models import AuditEntry
from vigil.store.users import create_user

runner = CliRunner()
CCCD = "079203004567"
PERSONAL = {
    "citizen_id": CCCD,
    "full_name:record_b": "Trần Thị Ngọc Ánh",
    "email": "anh.tran@gmail.com",
}
MASKED = {
    "citizen_id": "079*******67",
    "full_name:record_b": "Trần T. N. Á.",
    "email": "a***@gmail.com",
}


@pytest.fixture
def data(deployment: Deployment) -> str:
    with deployment.store.session() as s:
        for name, role, unit in (
            ("data", "data_officer", "P01"),
            ("data_c02", "data_officer", "C02"),
            ("duty", "duty_officer", "P01"),
        ):
            create_user(s, deployment.units, name, "long-password-1", role, unit)
        record_findings(
            s,
            [
                Finding(
                    "registry",
                    "deceased-on-voter-list",
                    Severity.HIGH,
                    "C01",
                    "record:R-1",
                    "Deceased person on the voter list",
                    evidence={"list": "VL-C01", "personal": PERSONAL},
                    observed_at=BEFORE,
                ),
                Finding(
                    "monitor",
                    "port-scan",
                    Severity.MEDIUM,
                    "C02",
                    "pc-10",
                    "Port scan",
                    evidence={"host": "pc-10"},
                    observed_at=BEFORE + timedelta(minutes=1),
                ),
            ],
        )
    return str(deployment.settings.data)


def findings(data: str, *args: str) -> tuple[int, list[dict[str, Any]], str]:
    result = runner.invoke(build_cli(), ["findings", "list", "--data", data, *args])
    rows = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.exit_code, rows, result.output


def views(deployment: Deployment) -> list[tuple[str, str, dict[str, Any]]]:
    with deployment.store.reader() as s:
        entries = s.scalars(select(AuditEntry).where(AuditEntry.action == "personal.view"))
        return [(e.actor, e.target, e.detail) for e in entries]


def test_json_is_masked_by_default(data: str, deployment: Deployment) -> None:
    code, rows, output = findings(data, "--json")
    assert code == 0
    by_rule = {r["rule"]: r for r in rows}
    assert by_rule["deceased-on-voter-list"]["evidence"] == {"list": "VL-C01", "personal": MASKED}
    assert by_rule["port-scan"]["evidence"] == {"host": "pc-10"}
    assert CCCD not in output
    assert views(deployment) == []


def test_reveal_as_an_officer_with_view_personal_is_audited(
    data: str, deployment: Deployment
) -> None:
    code, rows, output = findings(data, "--json", "--reveal", "--as", "data")
    assert code == 0, output
    by_rule = {r["rule"]: r for r in rows}
    assert by_rule["deceased-on-voter-list"]["evidence"]["personal"] == PERSONAL
    finding_id = by_rule["deceased-on-voter-list"]["id"]
    # One entry, for the one finding that held personal data.
    assert views(deployment) == [
        (
            "data",
            f"finding:{finding_id}",
            {"fields": ["citizen_id", "email", "full_name:record_b"], "channel": "cli"},
        )
    ]


def test_reveal_is_refused_without_the_permission_or_without_an_officer(
    data: str, deployment: Deployment
) -> None:
    code, rows, output = findings(data, "--json", "--reveal", "--as", "duty")
    assert code == 1
    assert "may not view_personal" in output
    assert rows == [] and CCCD not in output
    code, _, output = findings(data, "--json", "--reveal")
    assert code == 1
    assert "--reveal needs --json and --as USER" in output
    assert views(deployment) == []


def test_as_limits_the_list_to_the_officers_units(data: str, deployment: Deployment) -> None:
    code, rows, _ = findings(data, "--json", "--reveal", "--as", "data_c02")
    assert code == 0
    assert [r["rule"] for r in rows] == ["port-scan"]
    assert views(deployment) == []  # nothing personal was in its units
