"""`vigil registry voters`: build, show, diff and export from the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from tests.test_registry_voters import DEATH, PEOPLE, household, person, write
from tests.web_fixtures import PASSWORD
from vigil.cli import build_cli
from vigil.deployment import Deployment
from vigil.registry.datasets import DEATHS, HOUSEHOLDS, MOVES, PERSONS
from vigil.store.models import AuditEntry
from vigil.store.users import create_user


def _run(dep: Deployment, *args: str) -> str:
    result = CliRunner().invoke(
        build_cli(), ["registry", "voters", *args, "--data", str(dep.settings.data)]
    )
    assert result.exit_code == 0, result.output
    return result.output


def _setup(dep: Deployment) -> None:
    write(dep, PERSONS, "persons", PEOPLE, "p1")
    write(dep, DEATHS, "deaths", [DEATH], "d1")
    write(dep, HOUSEHOLDS, "households", [household("H1")], "h1")


def test_build_show_diff_and_export(deployment: Deployment, tmp_path: Path) -> None:
    _setup(deployment)
    first = [json.loads(line) for line in _run(deployment, "build", "--json").splitlines()]
    assert [(b["commune"], b["version"], b["voters"]) for b in first] == [
        ("C01", 1, 4),
        ("C02", 1, 1),
    ]
    assert first[0]["left_off"] == {
        "death_record": 1, "no_birth_date": 1, "same_citizen_id": 1, "under_age": 1
    }  # fmt: skip
    write(deployment, PERSONS, "persons", [person("P20", village="C01-V02")], "p2")
    move = {"move_id": "M1", "person_id": "P20", "from_household_id": "H9",
            "household_id": "H1", "commune": "C01", "village": "C01-V02",
            "moved_on": datetime.now(UTC).date()}  # fmt: skip
    write(deployment, MOVES, "moves", [move], "m1")
    [second] = [
        json.loads(x) for x in _run(deployment, "build", "--commune", "C01", "--json").splitlines()
    ]
    assert (second["version"], second["voters"], second["added"]) == (2, 5, 1)
    assert second["changes"] == {"added:moved_in": 1}
    changes = [
        json.loads(x) for x in _run(deployment, "diff", "--commune", "C01", "--json").splitlines()
    ]
    assert changes == [{"person_id": "P20", "change": "added", "reason": "moved_in",
                        "polling_area": "C01-V02"}]  # fmt: skip
    shown = _run(deployment, "show", "--commune", "C01", "--version", "1")
    assert "C01 v1: 4 voters for 2026-03-15 (born by 2008-03-15)" in shown
    assert "Nguyễn V. A." in shown and "Nguyễn Văn An" not in shown
    csv_text = _run(deployment, "export", "--commune", "C01", "--format", "csv")
    assert csv_text.splitlines()[1] == "C01-V01,P1,Nguyễn V. A.,1990,Nam,046*******01,C01-V01,H1"
    pdf = tmp_path / "list.pdf"
    _run(
        deployment,
        "export",
        "--commune",
        "C01",
        "--format",
        "pdf",
        "--out",
        str(pdf),
        "--lang",
        "en",
    )
    assert pdf.read_bytes().startswith(b"%PDF")


def test_an_unmasked_export_needs_an_officer_allowed_to_read_it(deployment: Deployment) -> None:
    _setup(deployment)
    with deployment.store.session() as session:
        create_user(session, deployment.units, "data1", PASSWORD, "data_officer", "C01", "Cán bộ")
        create_user(session, deployment.units, "look", PASSWORD, "viewer", "C01", "Người xem")
    _run(deployment, "build", "--commune", "C01", "--as", "data1")
    args = ["registry", "voters", "export", "--commune", "C01", "--reveal",
            "--data", str(deployment.settings.data)]  # fmt: skip
    refused = CliRunner().invoke(build_cli(), args)
    assert refused.exit_code == 1 and "--reveal needs --as USER" in refused.output
    denied = CliRunner().invoke(build_cli(), [*args, "--as", "look"])
    assert denied.exit_code == 1
    full = CliRunner().invoke(build_cli(), [*args, "--as", "data1"])
    assert full.exit_code == 0 and "P1,Nguyễn Văn An,1990-01-01" in full.output
    with deployment.store.reader() as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action.in_(
                    ["registry.voters.build", "personal.view", "registry.voters.export"]
                )
            )
            .order_by(AuditEntry.id)
        ).all()
        assert [(e.actor, e.action) for e in entries] == [
            ("data1", "registry.voters.build"), ("data1", "personal.view"),
            ("data1", "registry.voters.export"),
        ]  # fmt: skip


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_printed_list_in_each_language_masked(deployment: Deployment, lang: str) -> None:
    from vigil.registry.voters.build import build_voter_list
    from vigil.registry.voters.export import find_list, list_html, read_list

    _setup(deployment)
    actor = deployment.system("t")
    with deployment.store.session() as session:
        build_voter_list(session, deployment, actor, "C01")
        view = read_list(session, actor, find_list(session, actor, "C01", None))
    html = list_html(deployment, view, lang)
    title = {"vi": "Danh sách cử tri", "en": "Voter list"}[lang]
    area = {"vi": "Khu vực bỏ phiếu C01-V01 (2)", "en": "Polling area C01-V01 (2)"}[lang]
    assert f"<h1>{title}</h1>" in html and area in html
    assert "Nguyễn V. A." in html and "Nguyễn Văn An" not in html
