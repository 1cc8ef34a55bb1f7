"""Sigma `field: null` means "no value": the field is absent or present but empty (issue 9, #13).

SigmaHQ's rules say `null` and `''` alike for a value Sysmon leaves empty (CACTUSTORCH:
`StartModule: null`; the LSASS password dumper: `StartModule: ''`); Zircolite reads `null` as
absent or empty, and so do we.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from textwrap import dedent

import pytest

from tests.monitor_real_data import (
    matched_rows,
    real_records,
    real_rule,
    record_ids,
    synthetic_table,
    table_of,
)
from vigil.lake.engine import LakeEngine
from vigil.monitor.detect.sigma.rules import ConvertedRule, convert_rules, load_rules

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

SYSMON = "Microsoft-Windows-Sysmon/Operational"
#: Sysmon event 8 (CreateRemoteThread) as Sysmon writes it: a thread started at an address no
#: module holds has an empty StartModule and StartFunction. (The reference EVTX files hold no
#: event 8, so these follow Sysmon's schema; the rules are SigmaHQ's own files.)
REMOTE_THREADS: list[dict[str, str | None]] = [
    {  # 0: CACTUSTORCH's shellcode thread: no module, no function
        "SourceImage": "C:\\Windows\\System32\\wscript.exe",
        "TargetImage": "C:\\Windows\\SysWOW64\\rundll32.exe",
        "StartAddress": "0x0000000000A70000",
        "StartModule": "",
        "StartFunction": "",
    },
    {  # 1: the same processes, a thread in a loaded module: not CACTUSTORCH
        "SourceImage": "C:\\Windows\\System32\\wscript.exe",
        "TargetImage": "C:\\Windows\\SysWOW64\\rundll32.exe",
        "StartAddress": "0x00007FFB2F6A1B70",
        "StartModule": "C:\\Windows\\SysWOW64\\kernel32.dll",
        "StartFunction": "LoadLibraryW",
    },
    {  # 2: a thread in LSASS at an address no module holds (a password dumper)
        "SourceImage": "C:\\Users\\an\\AppData\\Local\\Temp\\x.exe",
        "TargetImage": "C:\\Windows\\System32\\lsass.exe",
        "StartAddress": "0x0000000000B40000",
        "StartModule": "",
        "StartFunction": "",
    },
    {  # 3: LSASS, a thread in a module
        "SourceImage": "C:\\Windows\\System32\\csrss.exe",
        "TargetImage": "C:\\Windows\\System32\\lsass.exe",
        "StartAddress": "0x00007FFB2F6A1B70",
        "StartModule": "C:\\Windows\\System32\\ntdll.dll",
        "StartFunction": "RtlUserThreadStart",
    },
    {  # 4: a producer that leaves StartModule out altogether: no value either
        "SourceImage": "C:\\Windows\\System32\\mshta.exe",
        "TargetImage": "C:\\Windows\\SysWOW64\\notepad.exe",
        "StartAddress": "0x0000000000C10000",
    },
]


def test_sigmahq_remote_thread_rules_read_null_and_empty_alike() -> None:
    cactustorch = real_rule("create_remote_thread/create_remote_thread_win_hktl_cactustorch.yml")
    dumper = real_rule(
        "create_remote_thread/create_remote_thread_win_susp_password_dumper_lsass.yml"
    )
    assert '("StartModule" IS NULL OR "StartModule" = \'\')' in str(cactustorch.sql)
    table = synthetic_table(REMOTE_THREADS, SYSMON, 8)
    assert matched_rows([cactustorch, dumper], table) == [
        ("2e4e488a-6164-4811-9ea1-f960c7359c40", 0),  # empty StartModule
        ("2e4e488a-6164-4811-9ea1-f960c7359c40", 4),  # absent StartModule
        ("f239b326-2f41-4d6b-9dfa-c846a60ef505", 2),  # `''` stays "present and empty"
    ]


#: Issue 9's firewall sample: an "any any" rule added from mmc.exe, with no application path.
FIREWALL = (
    "TA0005-Defense Evasion/T1562.004-Impair Defenses-Disable or Modify System Firewall/"
    "ID2004-Any any firewall rule created.evtx"
)


@pytest.mark.shared_data
def test_real_firewall_event_with_empty_path_meets_the_null_filter() -> None:
    """SigmaHQ's "Uncommon New Firewall Rule Added" leaves out rules with no application path
    (`filter_main_null: ApplicationPath: null`); the real event 2004 writes that path empty."""
    rule = real_rule("builtin/firewall_as/win_firewall_as_add_rule.yml")
    records = [r for r in real_records(FIREWALL) if r.event_code == 2004]
    assert [(r.fields["EventRecordID"], r.fields["ApplicationPath"]) for r in records] == [
        ("6683", "")
    ]
    assert matched_rows([rule], table_of(records)) == []
    # The same event with a program named: the rule fires, so the null filter was the reason.
    named = [
        dataclasses.replace(r, fields={**r.fields, "ApplicationPath": "C:\\Users\\an\\x.exe"})
        for r in records
    ]
    table = table_of(named)
    hits = matched_rows([rule], table)
    assert hits == [("cde0a575-7d3d-4a49-9817-b8004a7bf105", 0)]
    assert record_ids(table, [row for _, row in hits]) == ["6683"]


def _rule_here(tmp_path: Path) -> ConvertedRule:
    """A rule whose SQL both lake engines read (plain equality and null, no DuckDB function)."""
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "null.yml").write_text(
        dedent(
            """\
            title: A thread started outside any module, kept only when the source is known
            id: 5f0a3b1c-0000-4000-8000-0000000000c1
            status: test
            level: high
            logsource:
                product: windows
                category: create_remote_thread
            detection:
                selection:
                    StartModule: null
                known:
                    SourceImage: null
                condition: selection and not known
            """
        ),
        encoding="utf-8",
    )
    files, issues = load_rules(tmp_path / "rules")
    assert issues == []
    (converted,) = convert_rules(files)
    return converted


def test_null_means_absent_or_empty_on_every_engine(
    lake_engine: LakeEngine, tmp_path: Path
) -> None:
    rule = _rule_here(tmp_path)
    events: list[dict[str, str | None]] = [
        {"SourceImage": "a.exe", "StartModule": ""},  # 0: empty: kept
        {"SourceImage": "a.exe"},  # 1: absent: kept
        {"SourceImage": "a.exe", "StartModule": "k.dll"},  # 2: a module: not null
        {"SourceImage": "", "StartModule": ""},  # 3: source empty: `not known` drops it
        {"StartModule": ""},  # 4: source absent: dropped too
        {"SourceImage": "a.exe", "StartModule": " "},  # 5: a space is a value
    ]
    table = synthetic_table(events, SYSMON, 8)
    assert matched_rows([rule], table, lake_engine) == [
        ("5f0a3b1c-0000-4000-8000-0000000000c1", 0),
        ("5f0a3b1c-0000-4000-8000-0000000000c1", 1),
    ]
