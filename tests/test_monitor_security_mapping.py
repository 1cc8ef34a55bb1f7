"""Security log fields against pySigma's Windows pipelines, field by field (issue 9, #15).

pySigma's `windows-audit` pipeline sends rules of the generic categories to Security events
(process_creation to 4688, registry_* to 4657) and renames their fields (`LogonId` to
`SubjectLogonId`...). Vigil reaches the same events the other way round: ingest gives each
Security event the Sysmon names as aliases (`EVENT_ALIASES`), and the log-source table picks the
events. Here every field pySigma maps is probed both ways; each difference is listed with why.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from textwrap import dedent
from typing import Any

import pytest

from tests.monitor_real_data import (
    T0,
    matched_rows,
    real_records,
    real_rule,
    record_ids,
    table_of,
)
from vigil.monitor.detect.sigma.pipeline import MAPPINGS, mapping_for
from vigil.monitor.detect.sigma.rules import convert_rules, load_rules
from vigil.monitor.ingest.sources.base import RawRecord
from vigil.monitor.ingest.sources.winevent import EVENT_ALIASES, record_from_event

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

WMIEXEC = "EVTX_full_APT_attack_steps/ID4688,5140,5145-WMIexec execution via SMB (GLOBAL).evtx"
WMIPRVSE_SPAWNED = "d21374ff-f574-44a7-9998-4a8c8bf33d7d"

#: Where Vigil reads a Security field pySigma maps differently, and why. Keys: (category or
#: "service:security", Sigma field). A new difference, or one that went away, fails the test.
KNOWN_DIFFERENCES: dict[tuple[str, str], str] = {
    # pySigma renames Details to NewValue for every Security rule; of Security events only 4657
    # has a NewValue, and Vigil does not read registry rules from 4657 (below).
    ("process_creation", "Details"): "4688 has no NewValue: Details is a registry field",
    # Vigil reads registry_* rules from Sysmon 12-14 only. pySigma's 4657 mapping needs an
    # OperationType condition per category and gives 4657 no Details for a deleted value;
    # Sysmon is what the deployments run, and the reference samples hold no 4657 at all.
    **{
        (category, field): "registry rules read Sysmon 12-14, not Security 4657"
        for category in ("registry_event", "registry_set", "registry_add")
        for field in ("Image", "TargetObject", "Details", "ParentImage", "LogonId")
    },
    # pySigma renames fields of native Security rules too. Vigil names fields per event: on
    # 4624 SubjectLogonId is the session that asked for the logon and TargetLogonId the new
    # one, so "LogonId" would be ambiguous; no SigmaHQ Security rule reads these four names
    # (test_no_security_rule_reads_the_names_vigil_leaves_unmapped checks it).
    **{
        ("service:security", field): "aliases are per event; no Security rule reads it"
        for field in ("Image", "ParentImage", "Details", "LogonId")
    },
}
#: Vigil's aliases on Security events that pySigma's pipeline does not have, and why.
VIGIL_ONLY: dict[tuple[int, str, str], str] = {
    (4688, "NewProcessId", "ProcessId"): (
        "Sysmon-written rules on ProcessId read 4688 too (4688 writes it in hex)"
    ),
}
#: Windows services whose channel Vigil spells otherwise than pySigma's table, and why.
CHANNEL_DIFFERENCES: dict[str, str] = {
    "dns-server-audit": "Windows writes Microsoft-Windows-DNSServer/Audit (the TA0005 sample "
    "ID541-DNS server auditing changed.evtx has it); pySigma's table says DNS-Server",
}
#: The Security event each probe writes for a native Security rule (it has both logon ids).
NATIVE_EVENT = 4624


@pytest.fixture(scope="module")
def windows_pipelines() -> Any:
    return pytest.importorskip(
        "sigma.pipelines.windows",
        reason="pySigma's Windows pipelines are not installed (`make install-test` installs "
        "pysigma-pipeline-windows)",
    )


def _pysigma_fields(windows: Any) -> list[str]:
    """Every Sigma field the windows-audit pipeline renames or refuses."""
    from sigma.processing.conditions import IncludeFieldCondition
    from sigma.processing.transformations import FieldMappingTransformation

    fields: dict[str, None] = {}
    for item in windows.windows_audit_pipeline().items:
        if isinstance(item.transformation, FieldMappingTransformation):
            fields.update(dict.fromkeys(item.transformation.mapping))
        for condition in item.field_name_conditions:
            if isinstance(condition, IncludeFieldCondition):
                fields.update(dict.fromkeys(condition.fields))
    return list(fields)


def _logsource(source: str) -> str:
    if source.startswith("service:"):
        return f"service: {source.split(':', 1)[1]}"
    return f"category: {source}"


def _rule_text(source: str, field: str, n: int) -> str:
    return dedent(
        f"""\
        title: probe {source} {field}
        id: 5f0a3b1c-0000-4000-8000-{n:012d}
        status: test
        level: low
        logsource:
            product: windows
            {_logsource(source)}
        detection:
            selection:
                {field}: probe-{n}
            condition: selection
        """
    )


def _pysigma_target(windows: Any, text: str) -> tuple[int | None, str] | None:
    """(EventID, field) pySigma's windows-audit pipeline reads for the probe, or None when it
    says the field has no equivalent."""
    from sigma.backends.test import TextQueryTestBackend
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaTransformationError

    backend = TextQueryTestBackend(windows.windows_audit_pipeline())
    try:
        (query,) = backend.convert(SigmaCollection.from_yaml(text))
    except SigmaTransformationError:
        return None
    code = re.search(r"EventID=(\d+)", str(query))
    field = re.search(r'(\w+)="probe-\d+"', str(query))
    assert field is not None, query
    return (int(code.group(1)) if code else None), field.group(1)


def _security_event(code: int, field: str, n: int) -> RawRecord:
    """A Security event holding `field` = probe-n, read as EVTX ingest reads it."""
    when = (T0 + timedelta(seconds=n)).isoformat() + "Z"
    return record_from_event(
        {
            "System": {
                "EventID": code,
                "Channel": "Security",
                "Computer": "dc1",
                "EventRecordID": n,
                "TimeCreated": {"#attributes": {"SystemTime": when}},
            },
            "EventData": {field: f"probe-{n}"},
        }
    )


def _probes(windows: Any) -> Iterator[tuple[str, str]]:
    audit = windows.windows.generic_logsource_to_windows_audit_event_mapping
    for source in [*audit, "service:security"]:
        for field in _pysigma_fields(windows):
            yield source, field


def test_security_fields_agree_with_pysigma_windows_audit(
    windows_pipelines: Any, tmp_path: Path
) -> None:
    """Each probe: a rule `field: value`; pySigma says which Security event and field it reads;
    a Security event of that id with that field holding the value must match Vigil's rule."""
    folder = tmp_path / "rules"
    folder.mkdir()
    records: list[RawRecord] = []
    probes: list[tuple[str, str]] = []
    for n, (source, field) in enumerate(_probes(windows_pipelines)):
        text = _rule_text(source, field, n)
        target = _pysigma_target(windows_pipelines, text)
        if target is None:  # pySigma: no equivalent in Security events
            continue
        code, security_field = target
        (folder / f"probe{n}.yml").write_text(text, encoding="utf-8")
        probes.append((source, field))
        records.append(
            _security_event(code if code is not None else NATIVE_EVENT, security_field, n)
        )
    files, issues = load_rules(folder)
    assert issues == []
    converted = convert_rules(files)
    by_number = {int(c.id[-12:]): c for c in converted}
    table = table_of(records)
    hits = set(matched_rows([c for c in converted if c.sql is not None], table))
    numbers = sorted(by_number)
    differences = {
        probe
        for row, (probe, n) in enumerate(zip(probes, numbers, strict=True))
        if (by_number[n].id, row) not in hits
    }
    # 4 categories and native rules, 8 fields each; for 4657 pySigma refuses 3 of them.
    assert len(probes) == 5 * 8 - 3 * 3
    assert differences == set(KNOWN_DIFFERENCES)
    assert ("process_creation", "LogonId") not in differences


def test_logon_id_of_4688_is_its_subject_logon_id(windows_pipelines: Any) -> None:
    assert EVENT_ALIASES[("Security", 4688)]["SubjectLogonId"] == "LogonId"


def test_vigil_aliases_are_pysigmas_or_listed(windows_pipelines: Any) -> None:
    """Every alias Vigil gives a Security event is pySigma's mapping reversed, or listed."""
    from sigma.processing.transformations import FieldMappingTransformation

    pysigma: dict[str, str] = {}
    for item in windows_pipelines.windows_audit_pipeline().items:
        if item.identifier == "windows_audit_fieldmappings":
            assert isinstance(item.transformation, FieldMappingTransformation)
            pysigma.update(item.transformation.mapping)
    ours = {
        (code, original, alias)
        for (channel, code), names in EVENT_ALIASES.items()
        if channel == "Security"
        for original, alias in names.items()
    }
    agreed = {(4688, security, sigma) for sigma, security in pysigma.items()}
    assert ours - agreed == set(VIGIL_ONLY)


def test_log_sources_agree_with_pysigma_windows_logsources(windows_pipelines: Any) -> None:
    """PowerShell categories and the Windows services select the channels and ids pySigma's
    `windows-logsources` pipeline gives them."""
    from sigma.pipelines.common import windows_logsource_mapping
    from sigma.rule import SigmaLogSource

    categories = windows_pipelines.windows.windows_generic_category_channel_mapping
    for category, info in categories.items():
        mapping = mapping_for(SigmaLogSource(category, "windows", None))
        assert mapping is not None, category
        assert mapping.conditions["event_code"] == (info["EventID"],)
        channels = windows_logsource_mapping[info["service"]]
        wanted = (channels,) if isinstance(channels, str) else tuple(channels)
        assert mapping.conditions["channel"] == wanted
    differ = set()
    for service, channels in windows_logsource_mapping.items():
        mapping = mapping_for(SigmaLogSource(None, "windows", service))
        wanted = (channels,) if isinstance(channels, str) else tuple(channels)
        assert mapping is not None, service
        if mapping.conditions["channel"] != wanted:
            differ.add(service)
    assert differ == set(CHANNEL_DIFFERENCES)
    process = next(m for m in MAPPINGS if m.key == "windows/process_creation")
    assert 4688 in process.conditions["event_code"] and "Security" in process.conditions["channel"]


@pytest.mark.shared_data
def test_no_security_rule_reads_the_names_vigil_leaves_unmapped() -> None:
    """The reason given for the native Security differences: SigmaHQ's Security rules never
    read Image, ParentImage, Details or LogonId."""
    from tests.conftest import shared_data

    folder = shared_data("sigma", "rules", "windows", "builtin", "security")
    files, issues = load_rules(folder)
    assert issues == []
    converted = convert_rules(files)
    assert len(converted) > 100
    unmapped = {"image", "parentimage", "details", "logonid"}
    readers = [
        c.id for c in converted if unmapped & {col.split("#")[0].lower() for col in c.columns}
    ]
    assert readers == []


@pytest.mark.shared_data
def test_wmiprvse_rule_keeps_real_4688_events_by_their_logon_id() -> None:
    """SigmaHQ's "WmiPrvSE Spawned A Process" drops SYSTEM's logon (0x3e7) and a missing
    LogonId. The real 4688 events of a WMIexec attack were run by NETWORK SERVICE (0x3e4):
    kept. Before LogonId read SubjectLogonId, every 4688 event had "no LogonId" and was dropped."""
    rule = real_rule("process_creation/proc_creation_win_wmiprvse_spawning_process.yml")
    records = [r for r in real_records(WMIEXEC) if r.event_code == 4688]
    table = table_of(records)
    hits = matched_rows([rule], table)
    assert {rule_id for rule_id, _ in hits} == {WMIPRVSE_SPAWNED}
    assert record_ids(table, [row for _, row in hits]) == ["463010", "463048"]
    spawned = [r for r in records if r.fields["EventRecordID"] in ("463010", "463048")]
    assert [r.fields["LogonId"] for r in spawned] == ["0x3e4", "0x3e4"]
    # The same events under SYSTEM's logon are what the rule filters out.
    as_system = [
        dataclasses.replace(r, fields={**r.fields, "SubjectLogonId": "0x3e7"}) for r in records
    ]
    assert matched_rows([rule], table_of(_realiased(as_system))) == []


def _realiased(records: list[RawRecord]) -> list[RawRecord]:
    """Records whose SubjectLogonId was changed, with the LogonId alias ingest would give."""
    return [
        dataclasses.replace(r, fields={**r.fields, "LogonId": r.fields["SubjectLogonId"]})
        for r in records
    ]
