"""Event fields named as Sigma rules name them (issue 9, #14).

Windows Defender writes its EventData as `Threat Name`, `New Value`, `Process Name`, while
SigmaHQ's `service: windefend` rules say `ThreatName`, `NewValue`, `ProcessName`: ingest gives
each spaced name its common name (the spaces removed) and keeps the raw one beside it.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from textwrap import dedent

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from tests.conftest import shared_data
from tests.monitor_real_data import matched_rows, real_records, real_rule, record_ids, table_of
from vigil.cli import build_cli
from vigil.deployment import Deployment
from vigil.monitor.detect.sigma.rules import convert_rules, load_rules
from vigil.monitor.ingest.sources.jsonl import JsonLinesSource
from vigil.monitor.ingest.sources.winevent import add_common_names, record_from_event

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

DEFENDER = "Microsoft-Windows-Windows Defender/Operational"
THREATS = "Antivirus/ID1116-1117-Defender threat detected.evtx"
EXCLUSIONS = (
    "TA0005-Defense Evasion/T1562.001-Impair Defenses-Disable or Modify tool/"
    "ID5007-Defender threat exclusion (native).evtx"
)
SERVICES = "TA0003-Persistence/T1543.003-Create or Modify System Process-Windows Service/"


def _event(data: dict[str, object], code: int = 1116, channel: str = DEFENDER) -> dict[str, object]:
    return {
        "System": {
            "EventID": code,
            "Channel": channel,
            "Computer": "ws1",
            "EventRecordID": 7,
            "TimeCreated": {"#attributes": {"SystemTime": "2026-03-14T01:00:00Z"}},
        },
        "EventData": data,
    }


def test_spaced_names_get_their_common_name_and_keep_the_raw_one() -> None:
    record = record_from_event(
        _event(
            {
                "Threat Name": "HackTool:Win32/Mimikatz.D",
                "Process Name": "C:\\Windows\\explorer.exe",
                "Engine Version": "1.1.1",
                "Engine version": "2.2.2",  # the same common name, folded: the first keeps it
                "ProductName": "kept",
                "Product Name": "not over ProductName",
            }
        )
    )
    fields = record.fields
    assert fields["Threat Name"] == fields["ThreatName"] == "HackTool:Win32/Mimikatz.D"
    assert fields["Process Name"] == fields["ProcessName"] == "C:\\Windows\\explorer.exe"
    assert fields["EngineVersion"] == "1.1.1" and fields["Engine version"] == "2.2.2"
    assert "Engineversion" in fields  # a column of its own spelling, folded with EngineVersion
    assert fields["ProductName"] == "kept"


def test_flat_json_events_get_common_names_and_aliases(tmp_path: Path) -> None:
    path = tmp_path / "flat.jsonl"
    lines = [
        {
            "EventID": 5007,
            "Hostname": "ws1",
            "Channel": DEFENDER,
            "@timestamp": "2026-03-14T01:00:00Z",
            "New Value": "HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Exclusions\\Paths\\C:\\x",
        },
        {
            "EventID": 4688,
            "Hostname": "ws1",
            "Channel": "Security",
            "@timestamp": "2026-03-14T01:00:01Z",
            "NewProcessName": "C:\\Windows\\System32\\cmd.exe",
            "SubjectLogonId": "0x3e4",
        },
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n", encoding="utf-8")
    defender, security = list(JsonLinesSource().read(path))
    assert defender.fields["NewValue"] == defender.fields["New Value"]  # type: ignore[union-attr]
    assert security.fields["Image"] == "C:\\Windows\\System32\\cmd.exe"  # type: ignore[union-attr]
    assert security.fields["LogonId"] == "0x3e4"  # type: ignore[union-attr]


@given(
    st.dictionaries(
        st.text(alphabet=st.sampled_from("Ab \t_é"), min_size=1, max_size=8),
        st.one_of(st.none(), st.text(max_size=5)),
        max_size=8,
    )
)
def test_common_names_never_lose_or_change_a_field(fields: dict[str, str | None]) -> None:
    before = dict(fields)
    add_common_names(fields)
    assert {k: fields[k] for k in before} == before
    for name in fields.keys() - before.keys():
        assert not any(c.isspace() for c in name)
        assert any("".join(raw.split()) == name and fields[name] == v for raw, v in before.items())


@pytest.mark.shared_data
def test_sigmahq_defender_exclusion_rule_fires_on_the_real_5007_events() -> None:
    """Windows Defender Exclusions Added (`NewValue|contains`) on the real 5007 events: the
    three that add an exclusion, not the one whose New Value is empty. Before, none."""
    rule = real_rule("builtin/windefend/win_defender_config_change_exclusion_added.yml")
    records = real_records(EXCLUSIONS)
    assert [r.fields["EventRecordID"] for r in records] == ["454", "455", "456", "457"]
    table = table_of(records)
    hits = matched_rows([rule], table)
    assert {rule_id for rule_id, _ in hits} == {"1321dc4e-a1fe-481d-a016-52c45f0c8b4f"}
    assert record_ids(table, [row for _, row in hits]) == ["455", "456", "457"]


@pytest.mark.shared_data
def test_real_threat_events_are_searchable_by_both_names(tmp_path: Path) -> None:
    """The real 1116/1117 events: a rule on the common names and one on the raw names (a
    field name with spaces is a valid Sigma key) find the same events."""
    (tmp_path / "rules").mkdir()
    for n, (threat, process) in enumerate(
        (("ThreatName", "ProcessName"), ("Threat Name", "Process Name"))
    ):
        (tmp_path / "rules" / f"r{n}.yml").write_text(
            dedent(
                f"""\
                title: Mimikatz caught by Defender, named by {threat}
                id: 5f0a3b1c-0000-4000-8000-0000000000d{n}
                status: test
                level: high
                logsource:
                    product: windows
                    service: windefend
                detection:
                    selection:
                        EventID: 1116
                        {threat}|contains: 'katz'
                        {process}|endswith: '\\explorer.exe'
                    condition: selection
                """
            ),
            encoding="utf-8",
        )
    files, issues = load_rules(tmp_path / "rules")
    assert issues == []
    rules = convert_rules(files)
    records = real_records(THREATS)
    table = table_of(records)
    hits = matched_rows(rules, table)
    by_rule = {
        rule.id: record_ids(table, [row for rid, row in hits if rid == rule.id]) for rule in rules
    }
    assert by_rule == {
        "5f0a3b1c-0000-4000-8000-0000000000d0": ["171", "172", "173", "175", "177"],
        "5f0a3b1c-0000-4000-8000-0000000000d1": ["171", "172", "173", "175", "177"],
    }


@pytest.mark.shared_data
def test_service_install_reads_the_installing_process_as_process_id() -> None:
    """SigmaHQ's "Service Installed By Unusual Client" reads System/Execution's ProcessID of a
    7045 as ProcessId (0: installed over RPC). The real samples were installed by services.exe
    (a real pid): not fired; the same event with ProcessID 0 fires."""
    rule = real_rule(
        "builtin/system/service_control_manager/win_system_service_install_sups_unusal_client.yml"
    )
    records = [
        r
        for r in real_records(SERVICES + "ID7045-New service for Mimikatz +npcap.evtx")
        if r.event_code == 7045
    ]
    assert {r.fields["ProcessId"] for r in records} == {"672", "676", "684"}
    assert all(r.fields["ProcessId"] == r.fields["ExecutionProcessID"] for r in records)
    assert matched_rows([rule], table_of(records)) == []
    remote = [dataclasses.replace(records[0], fields={**records[0].fields, "ProcessId": "0"})]
    assert matched_rows([rule], table_of(remote)) == [("71c276aa-49cd-43d2-b920-2dcd3e6962d5", 0)]


@pytest.mark.shared_data
def test_event_search_finds_real_defender_events_by_either_name(deployment: Deployment) -> None:
    """`vigil monitor events --field` over the ingested real 1116/1117 file: the raw name with
    its space and the common name find the same four HackTool:Win32/Mimikatz.D events."""
    path = shared_data("evtx", "evtx-to-mitre-attack") / THREATS
    data = str(deployment.settings.data)
    env = {"VIGIL_LANG": "en", "COLUMNS": "200"}
    cli = CliRunner()
    result = cli.invoke(
        build_cli(), ["monitor", "ingest", str(path), "--unit", "C01", "--data", data], env=env
    )
    assert result.exit_code == 0, result.output
    found: dict[str, list[str]] = {}
    for name in ("Threat Name", "ThreatName", "threatname"):
        result = cli.invoke(
            build_cli(),
            ["monitor", "events", "--field", f"{name}~mimikatz.d", "--json", "--data", data],
            env=env,
        )
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.output.splitlines()]
        found[name] = sorted(r["EventRecordID"] for r in rows)
        assert all(r["Threat Name"] == r["ThreatName"] for r in rows)
    assert found == {name: ["172", "175", "176", "177"] for name in found}
    assert len(found) == 3
