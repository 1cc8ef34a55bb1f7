"""The DuckDB Sigma backend, exactly: the SQL each modifier gives, and which events it matches."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from textwrap import dedent

import pytest

from tests.conftest import compiled
from vigil.lake.duckdb_engine import DuckDBEngine
from vigil.monitor.detect.sigma import runner as runner_module
from vigil.monitor.detect.sigma.backend import referenced_columns
from vigil.monitor.detect.sigma.pipeline import MAPPINGS, LogsourceMapping, mapping_for
from vigil.monitor.detect.sigma.rules import ConvertedRule, convert_rules, load_rules
from vigil.monitor.detect.sigma.runner import (
    RuleRunner,
    combine_batches,
    strip_prefix,
    with_full_text,
)
from vigil.monitor.ingest.events import EventTableBuilder
from vigil.monitor.ingest.sources.base import RawRecord

pytestmark = pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result")

SYSMON = "Microsoft-Windows-Sysmon/Operational"
T0 = datetime(2026, 3, 14, 1, 0, 0)


def convert(
    tmp_path: Path, detection: str, logsource: str = "category: process_creation"
) -> ConvertedRule:
    text = dedent(
        """\
        title: Test rule
        id: 5f0a3b1c-0000-4000-8000-000000000001
        status: test
        level: high
        logsource:
            product: windows
            {logsource}
        detection:
        {detection}
        """
    ).format(logsource=logsource, detection=dedent(detection).replace("\n", "\n    ").rstrip())
    path = tmp_path / "rule.yml"
    path.write_text(text.replace("detection:\n", "detection:\n    ", 1), encoding="utf-8")
    files, issues = load_rules(path)
    assert issues == []
    (converted,) = convert_rules(files)
    return converted


def run(
    converted: ConvertedRule,
    events: Sequence[Mapping[str, str | None]],
    code: int = 1,
    channel: str = SYSMON,
) -> list[int]:
    """Indexes of the events the rule matches."""
    assert converted.sql is not None, converted.error
    builder = EventTableBuilder("evtx", lambda host: "P01")
    for i, fields in enumerate(events):
        builder.add(
            RawRecord(
                ts=T0 + timedelta(seconds=i),
                host="ws1",
                fields=dict(fields),
                channel=channel,
                event_code=code,
                key=str(i),
            )
        )
    table = with_full_text(combine_batches([builder.table()]))
    hits, stats = RuleRunner(DuckDBEngine()).run(table, [compiled(converted)])
    assert stats.errors == {}
    return sorted(h.row for h in hits)


PREFIX = (
    "(\"channel#lower\" IN ('microsoft-windows-sysmon/operational', 'security')) AND "
    '("event_code" IN (1, 4688))'
)


def test_contains_startswith_endswith_and_equal(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            Image|endswith: '\\cmd.exe'
            CommandLine|contains: 'whoami'
            ParentImage|startswith: 'C:\\Windows\\'
            User: 'NT AUTHORITY\\SYSTEM'
        condition: selection
    """,
    )
    assert rule.group_key == "windows/process_creation"
    assert rule.sql == (
        f"{PREFIX} AND ends_with(\"Image#lower\", '\\cmd.exe') AND "
        "contains(\"CommandLine#lower\", 'whoami') AND "
        "starts_with(\"ParentImage#lower\", 'c:\\windows\\') AND "
        "\"User#lower\" = 'nt authority\\system'"
    )
    good = {
        "Image": "C:\\WINDOWS\\System32\\CMD.EXE",
        "CommandLine": "cmd /c WhoAmI /all",
        "ParentImage": "c:\\windows\\explorer.exe",
        "User": "NT AUTHORITY\\SYSTEM",
    }
    assert run(rule, [good, {**good, "User": "ws1\\bob"}, {**good, "CommandLine": None}]) == [0]


def test_rule_only_sees_its_log_source(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            CommandLine|contains: whoami
        condition: selection
    """,
    )
    event = {"CommandLine": "whoami"}
    assert run(rule, [event], code=1) == [0]
    assert run(rule, [event], code=4688, channel="Security") == [0]
    assert run(rule, [event], code=3) == []
    assert run(rule, [event], code=1, channel="Application") == []


def test_all_modifier_needs_every_value(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            CommandLine|contains|all: [' -nop', ' -w hidden']
        condition: selection
    """,
    )
    assert (
        "contains(\"CommandLine#lower\", ' -nop') AND contains(\"CommandLine#lower\", ' -w hidden')"
        in str(rule.sql)
    )
    assert run(
        rule, [{"CommandLine": "powershell -nop -w hidden"}, {"CommandLine": "powershell -nop"}]
    ) == [0]


def test_windash_matches_every_dash(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            CommandLine|windash|contains: ' -enc '
        condition: selection
    """,
    )
    events = [
        {"CommandLine": f"powershell {dash}enc ZQBjAGgAbwA="} for dash in "-/\u2013\u2014\u2015"
    ]
    events.append({"CommandLine": "powershell enc x"})
    assert run(rule, events) == [0, 1, 2, 3, 4]


def test_base64_and_base64offset(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            CommandLine|base64offset|contains: 'IEX (New-Object'
        condition: selection
    """,
    )
    encoded = [
        base64.b64encode(prefix + b"IEX (New-Object Net.WebClient)").decode()
        for prefix in (b"", b"a", b"ab")
    ]
    assert run(
        rule,
        [{"CommandLine": f"powershell -e {e}"} for e in encoded]
        + [{"CommandLine": "powershell -e SQBFAFgA"}],
    ) == [0, 1, 2]
    plain = convert(
        tmp_path,
        """
        selection:
            CommandLine|base64: 'whoami'
        condition: selection
    """,
    )
    # Sigma matches every value ignoring case, encoded ones too.
    assert str(plain.sql).endswith("\"CommandLine#lower\" = 'd2hvyw1p'")
    assert run(plain, [{"CommandLine": "d2hvYW1p"}, {"CommandLine": "whoami"}]) == [0]


def test_cidr(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            DestinationIp|cidr: ['10.0.0.0/8', '192.168.1.0/24']
        condition: selection
    """,
        "category: network_connection",
    )
    events = [
        {"DestinationIp": ip} for ip in ("10.1.2.3", "192.168.1.77", "192.168.2.1", "110.0.0.1")
    ]
    assert run(rule, events, code=3) == [0, 1]


def test_regular_expressions_are_case_sensitive_unless_flagged(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            CommandLine|re: 'net\\s+user\\s+\\w+ /add'
        condition: selection
    """,
    )
    assert "regexp_matches(\"CommandLine\", 'net\\s+user\\s+\\w+ /add')" in str(rule.sql)
    events = [{"CommandLine": "net user eve /add"}, {"CommandLine": "NET USER eve /add"}]
    assert run(rule, events) == [0]
    flagged = convert(
        tmp_path,
        """
        selection:
            CommandLine|re|i: 'net\\s+user\\s+\\w+ /add'
        condition: selection
    """,
    )
    assert "'(?i)net" in str(flagged.sql)
    assert run(flagged, events) == [0, 1]


def test_value_lists_and_quotes(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            OriginalFileName: ['PsExec.exe', "o'brien.exe", 'x.exe']
        condition: selection
    """,
    )
    assert "\"OriginalFileName#lower\" IN ('psexec.exe', 'o''brien.exe', 'x.exe')" in str(rule.sql)
    assert run(
        rule,
        [
            {"OriginalFileName": "psexec.EXE"},
            {"OriginalFileName": "O'Brien.exe"},
            {"OriginalFileName": "psexec64.exe"},
        ],
    ) == [0, 1]


def test_many_alternatives_on_one_field_become_one_regex(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            Image|endswith: ['\\a.exe', '\\b.exe', '\\c.exe', '\\d+.exe']
        condition: selection
    """,
    )
    assert rule.sql == (
        f"{PREFIX} AND "
        '(regexp_matches("Image#lower", '
        "'\\\\a\\.exe$|\\\\b\\.exe$|\\\\c\\.exe$|\\\\d\\+\\.exe$'))"
    )
    events = [
        {"Image": "C:\\x\\D+.EXE"},
        {"Image": "C:\\x\\d+.exe.bak"},
        {"Image": "C:\\x\\dd.exe"},
    ]
    assert run(rule, events) == [0]


def test_null_exists_and_not_over_absent_fields(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            Image|endswith: '\\rundll32.exe'
        filter_empty:
            CommandLine: null
        filter_signed:
            Signed|exists: true
        condition: selection and not filter_empty and not filter_signed
    """,
    )
    assert '(("CommandLine" IS NULL OR "CommandLine" = \'\')) IS NOT TRUE' in str(rule.sql)
    assert '("Signed" IS NOT NULL) IS NOT TRUE' in str(rule.sql)
    events = [
        {"Image": "C:\\rundll32.exe", "CommandLine": "rundll32 x.dll,Run"},  # no Signed: kept
        {"Image": "C:\\rundll32.exe"},  # no command line: filtered
        {"Image": "C:\\rundll32.exe", "CommandLine": ""},  # an empty one: filtered too
        {"Image": "C:\\rundll32.exe", "CommandLine": "x", "Signed": "true"},
    ]
    assert run(rule, events) == [0]


def test_not_keeps_events_whose_filter_field_is_absent(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            Image|endswith: '\\powershell.exe'
        filter:
            ParentImage|endswith: '\\explorer.exe'
        condition: selection and not filter
    """,
    )
    events = [
        {"Image": "C:\\powershell.exe"},
        {"Image": "C:\\powershell.exe", "ParentImage": "C:\\explorer.exe"},
        {"Image": "C:\\powershell.exe", "ParentImage": "C:\\winword.exe"},
    ]
    assert run(rule, events) == [0, 2]


def test_keywords_search_the_whole_event(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        keywords:
            - 'sekurlsa::'
            - 'mimikatz'
        condition: keywords
    """,
        "service: security",
    )
    assert rule.group_key == "windows/service/security"
    assert "contains(\"message#lower\", 'sekurlsa::')" in str(rule.sql)
    events = [
        {"CommandLine": "x SEKURLSA::logonpasswords"},
        {"ScriptBlockText": "Invoke-Mimikatz"},
        {"CommandLine": "benign"},
    ]
    assert run(rule, events, code=4688, channel="Security") == [0, 1]


def test_numbers_compare_as_text_or_number(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            EventID: 4625
            LogonType: 3
            FailureCount|gte: 5
        condition: selection
    """,
        "service: security",
    )
    assert '"event_code" = 4625' in str(rule.sql)
    assert "\"LogonType\" = '3'" in str(rule.sql)
    assert 'TRY_CAST("FailureCount" AS DOUBLE) >= 5' in str(rule.sql)
    events = [
        {"LogonType": "3", "FailureCount": "7"},
        {"LogonType": "10", "FailureCount": "9"},
        {"LogonType": "3", "FailureCount": "x"},
    ]
    assert run(rule, events, code=4625, channel="Security") == [0]
    assert run(rule, events, code=4624, channel="Security") == []


def test_wildcards_inside_values_use_like(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            Image: 'C:\\Users\\\\*\\AppData\\\\*\\evil?.exe'
        condition: selection
    """,
    )
    # In Sigma "\\*" is a backslash then a wildcard ("\*" alone would be a literal star).
    assert (
        "\"Image#lower\" LIKE 'c:\\\\users\\\\%\\\\appdata\\\\%\\\\evil_.exe' ESCAPE '\\'"
        in str(rule.sql)
    )
    events = [
        {"Image": "C:\\Users\\bob\\AppData\\Local\\evil1.exe"},
        {"Image": "C:\\Users\\bob\\AppData\\Local\\evil12.exe"},
        {"Image": "C:\\Users\\bob\\Desktop\\evil1.exe"},
    ]
    assert run(rule, events) == [0]


def test_cased_and_field_reference(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            CommandLine|cased|contains: 'AmSi'
        same:
            ParentImage|fieldref: Image
        condition: selection and not same
    """,
    )
    assert "contains(\"CommandLine\", 'AmSi')" in str(rule.sql)
    assert '"ParentImage#lower" = "Image#lower"' in str(rule.sql)
    events = [
        {"CommandLine": "AmSi bypass", "Image": "a.exe", "ParentImage": "b.exe"},
        {"CommandLine": "amsi bypass", "Image": "a.exe", "ParentImage": "b.exe"},
        {"CommandLine": "AmSi bypass", "Image": "A.EXE", "ParentImage": "a.exe"},
    ]
    assert run(rule, events) == [0]


def test_unmapped_log_source_is_a_conversion_error(tmp_path: Path) -> None:
    rule = convert(
        tmp_path,
        """
        selection:
            FileName|endswith: '.lnk'
        condition: selection
    """,
        "category: file_access",
    )
    assert rule.sql is None
    assert rule.error == "log source not mapped: product=windows, category=file_access"


def test_mapping_picks_the_most_specific_source(tmp_path: Path) -> None:
    from sigma.rule import SigmaLogSource

    assert mapping_for(SigmaLogSource("ps_script", "windows", None)).key == "windows/ps_script"  # type: ignore[union-attr]
    assert mapping_for(SigmaLogSource(None, "windows", "sysmon")).key == "windows/service/sysmon"  # type: ignore[union-attr]
    assert mapping_for(SigmaLogSource(None, "windows", None)).key == "windows"  # type: ignore[union-attr]
    assert mapping_for(SigmaLogSource(None, "windows", "nonesuch")) is None


def test_referenced_columns_skip_string_literals() -> None:
    sql = 'contains("A#lower", \'x "B" y\') AND "C""D" = 1'
    assert referenced_columns(sql) == {"A#lower", 'C"D'}


def test_web_rules_read_access_logs(tmp_path: Path) -> None:
    from vigil.monitor.ingest.sources.access import AccessLogSource

    path = tmp_path / "web.yml"
    path.write_text(
        dedent(
            """\
            title: Scanner
            id: 5f0a3b1c-0000-4000-8000-000000000002
            logsource: {category: webserver}
            detection:
                selection:
                    cs-user-agent|contains: sqlmap
                    sc-status: 500
                condition: selection
            """
        ),
        encoding="utf-8",
    )
    (rule,) = convert_rules(load_rules(path)[0])
    assert rule.group_key == "webserver"
    assert rule.sql == (
        "\"source#lower\" = 'access' AND contains(\"cs-user-agent#lower\", 'sqlmap') AND "
        "\"sc-status\" = '500'"
    )
    builder = EventTableBuilder("access", lambda host: "P01", default_host="portal")
    for status in (500, 200):
        line = (
            f'1.2.3.4 - - [01/Feb/2026:08:00:00 +0700] "GET /?id=1 HTTP/1.1" {status} 5 "-" '
            '"sqlmap/1.8"'
        )
        builder.add(AccessLogSource().parse_line(line, path))
    table = combine_batches([builder.table()])
    hits, _ = RuleRunner(DuckDBEngine()).run(table, [compiled(rule)])
    assert [h.row for h in hits] == [0]


@pytest.mark.parametrize("mapping", [m for m in MAPPINGS if m.conditions], ids=lambda m: m.key)
def test_rule_prefix_is_what_the_pipeline_writes(tmp_path: Path, mapping: LogsourceMapping) -> None:
    """The runner drops this text from the group's rules: it must be exactly how they start."""
    fields = {"product": mapping.product, "category": mapping.category, "service": mapping.service}
    path = tmp_path / "rule.yml"
    path.write_text(
        "title: Test rule\nid: 5f0a3b1c-0000-4000-8000-000000000003\nstatus: test\nlogsource:\n"
        + "".join(f"    {k}: {v}\n" for k, v in fields.items() if v)
        + "detection:\n    selection:\n        Sentinel: x\n    condition: selection\n",
        encoding="utf-8",
    )
    (converted,) = convert_rules(load_rules(path)[0])
    assert converted.group_key == mapping.key
    assert converted.sql == mapping.rule_prefix() + " AND \"Sentinel#lower\" = 'x'"


def test_strip_prefix_drops_only_the_leading_conditions() -> None:
    prefix = '"channel#lower" = \'security\' AND "event_code" = 4625'
    body = '(contains("a#lower", \'x\') OR "b" IS NULL)'
    assert strip_prefix(f"{prefix} AND {body}", prefix) == body
    assert strip_prefix(body, prefix) == body
    assert strip_prefix(f"{prefix} AND {body}", "") == f"{prefix} AND {body}"


def _candidates_and_rows(
    rule: ConvertedRule, events: list[dict[str, str]]
) -> tuple[int, list[int]]:
    """How many rules the prefilter let run (0 or 1) and the rows the rule matched."""
    builder = EventTableBuilder("evtx", lambda host: "P01")
    for i, fields in enumerate(events):
        builder.add(RawRecord(T0, "ws1", dict(fields), SYSMON, 1, key=str(i)))
    hits, stats = RuleRunner(DuckDBEngine()).run(
        combine_batches([builder.table()]), [compiled(rule)]
    )
    return stats.candidates, [h.row for h in hits]


def test_prefilter_knows_where_a_literal_must_stand(tmp_path: Path) -> None:
    """`endswith`, `startswith` and equality ask for their text at the edge of a value: a rule
    whose text occurs only elsewhere in the values is not even run (it could not match)."""
    rule = convert(
        tmp_path,
        """
        selection:
            Image|endswith: '\\cmd.exe'
            ParentImage|startswith: 'C:\\Windows\\'
            User: 'SYSTEM'
        condition: selection
    """,
    )

    exact = {"Image": "C:\\X\\CMD.EXE", "ParentImage": "C:\\Windows\\x.exe", "User": "SYSTEM"}
    assert _candidates_and_rows(rule, [exact]) == (1, [0])
    for field, near in (
        ("Image", "C:\\x\\cmd.exe.bak"),  # "\cmd.exe" is there, not at the end
        ("ParentImage", "D:\\C:\\Windows\\x.exe"),  # not at the start
        ("User", "NT AUTHORITY\\SYSTEM"),  # not the whole value
    ):
        assert _candidates_and_rows(rule, [{**exact, field: near}]) == (0, [])
        # With the exact event in the same batch the rule runs, and matches that one only.
        assert _candidates_and_rows(rule, [{**exact, field: near}, exact]) == (1, [1])


def test_prefilter_asks_for_every_literal_in_one_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule is run only when one event holds all that its condition needs: cmd.exe in one
    event and whoami in another do not make `cmd.exe AND whoami` worth running."""
    rule = convert(
        tmp_path,
        """
        selection:
            Image|endswith: '\\cmd.exe'
            CommandLine|contains: 'whoami'
        other:
            Image|endswith: '\\net.exe'
        condition: selection or other
    """,
    )

    cmd = {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c dir"}
    powershell = {"Image": "C:\\ps\\powershell.exe", "CommandLine": "powershell whoami /all"}
    both = {"Image": "C:\\Windows\\System32\\cmd.exe", "CommandLine": "cmd /c whoami"}
    net = {"Image": "C:\\Windows\\System32\\net.exe"}
    assert _candidates_and_rows(rule, [cmd, powershell]) == (0, [])
    assert _candidates_and_rows(rule, [cmd, powershell, both]) == (1, [2])
    assert _candidates_and_rows(rule, [powershell, net]) == (1, [1])  # the other branch
    # Values too many to search: the prefilter cannot tell, so the rule runs (and finds none).
    monkeypatch.setattr(runner_module, "MAX_INDEXED_TEXT", 1)
    assert _candidates_and_rows(rule, [cmd, powershell]) == (1, [])
