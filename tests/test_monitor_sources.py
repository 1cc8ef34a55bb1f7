"""Log parsers: syslog (RFC 5424, 3164), JSON lines, access logs; exact fields, and fuzzed input."""

from __future__ import annotations

import json
import os
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.lake.quarantine import QuarantineEntry
from vigil.monitor.ingest.sources import SOURCES, source_for
from vigil.monitor.ingest.sources.access import AccessLogSource
from vigil.monitor.ingest.sources.base import LineError, RawRecord
from vigil.monitor.ingest.sources.jsonl import JsonLinesSource
from vigil.monitor.ingest.sources.syslog import FACILITIES, SEVERITIES, SyslogSource

NOWHERE = Path("/nonexistent/log")
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def test_rfc5424_line_from_the_rfc() -> None:
    line = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed"
    record = SyslogSource().parse_line(line, NOWHERE)
    assert record.ts == datetime(2003, 10, 11, 22, 14, 15, 3000)
    assert record.host == "mymachine.example.com"
    assert record.channel == "auth"
    assert record.message == "'su root' failed"
    assert record.fields == {
        "facility": "auth",
        "severity": "crit",
        "program": "su",
        "msgid": "ID47",
    }


def test_rfc5424_structured_data() -> None:
    line = (
        "<165>1 2003-10-11T22:14:15.003-07:00 host1 evntslog 42 ID47 "
        '[exampleSDID@32473 iut="3" eventSource="App\\"x\\]" eventID="1011"][x@1 a="b"] msg'
    )
    record = SyslogSource().parse_line(line, NOWHERE)
    assert record.ts == datetime(2003, 10, 12, 5, 14, 15, 3000)
    assert record.fields["exampleSDID@32473.eventSource"] == 'App"x]'
    assert record.fields["exampleSDID@32473.iut"] == "3"
    assert record.fields["x@1.a"] == "b"
    assert (record.fields["pid"], record.fields["facility"], record.message) == (
        "42",
        "local4",
        "msg",
    )


def test_rfc3164_takes_year_from_the_file_and_the_province_zone(tmp_path: Path) -> None:
    log = tmp_path / "auth.log"
    log.write_text("Feb  5 10:00:01 web01 sshd[1234]: Failed password for root from 10.0.0.5\n")
    stamp = datetime(2026, 2, 6, tzinfo=UTC).timestamp()
    os.utime(log, (stamp, stamp))
    (record,) = list(SyslogSource().read(log))
    assert isinstance(record, RawRecord)
    assert record.ts == datetime(2026, 2, 5, 3, 0, 1)  # 10:00 at UTC+7
    assert (record.host, record.channel) == ("web01", "syslog")
    assert record.fields == {"program": "sshd", "pid": "1234"}
    assert record.message == "Failed password for root from 10.0.0.5"
    december = tmp_path / "old.log"
    december.write_text("<86>Dec 31 23:59:59 web01 CRON[1]: x\n")
    os.utime(december, (stamp, stamp))
    (late,) = list(SyslogSource().read(december))
    assert isinstance(late, RawRecord)
    assert (late.ts.year, late.channel, late.fields["severity"]) == (2025, "authpriv", "info")


def test_rfc3164_takes_year_from_the_deployment_clock_not_the_machine(tmp_path: Path) -> None:
    """A demo at 2027-03-05 reads files written today: March and before are 2027's, a month
    ahead of March is 2026's, whatever the files' times and the machine's clock say."""
    log = tmp_path / "auth.log"
    log.write_text(
        "Mar  5 10:00:01 web01 sshd[1]: a\nJan 31 10:00:01 web01 sshd[1]: b\n"
        "Apr  1 10:00:01 web01 sshd[1]: c\nDec 31 23:00:00 web01 sshd[1]: d\n"
    )
    stamp = datetime(2024, 6, 1, tzinfo=UTC).timestamp()
    os.utime(log, (stamp, stamp))
    source = SyslogSource()
    source.clock = datetime(2027, 3, 5, 4, 0)  # UTC: 11:00 in the province
    years = [r.ts.year for r in source.read(log) if isinstance(r, RawRecord)]
    assert years == [2027, 2027, 2026, 2026]


def test_rsyslog_iso_format() -> None:
    line = "2026-02-05T10:00:01.5+07:00 web01 sudo: bob : COMMAND=/bin/sh"
    record = SyslogSource().parse_line(line, NOWHERE)
    assert record.ts == datetime(2026, 2, 5, 3, 0, 1, 500000)
    assert record.fields == {"program": "sudo"}
    assert record.message == "bob : COMMAND=/bin/sh"


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("hello world", "not a syslog line"),
        ("<999>1 2003-10-11T22:14:15Z h a - - - m", "priority 999 is above 191"),
        ("<34>1 - h a - - - m", "no timestamp"),
        ("<34>1 2003-10-11T22:14:15 h a - - - m", "has no zone"),
        ("<34>1 2003-10-11T22:14:15Z h a - - [x a=b] m", "bad structured-data parameter"),
        ("Feb 30 10:00:01 web01 x: y", "bad date"),
    ],
)
def test_bad_syslog_lines_say_why(line: str, reason: str) -> None:
    with pytest.raises(LineError, match=reason):
        SyslogSource().parse_line(line, NOWHERE)


def test_bad_lines_are_quarantined_with_file_and_line(tmp_path: Path) -> None:
    log = tmp_path / "mixed.log"
    log.write_bytes(
        b"<13>1 2026-01-01T00:00:00Z h app - - - ok\n\nnot syslog\n"
        b"<13>1 2026-01-01T00:00:01Z h app - - - \xff\xfe\n"
    )
    items = list(SyslogSource().read(log))
    assert [type(i).__name__ for i in items] == ["RawRecord", "QuarantineEntry", "QuarantineEntry"]
    bad = [i for i in items if isinstance(i, QuarantineEntry)]
    assert [(e.line, e.source) for e in bad] == [(3, str(log)), (4, str(log))]
    assert bad[0].reason.startswith("syslog: not a syslog line")
    assert bad[1].reason == "syslog: not UTF-8 at byte 39"


def test_access_log_combined_line() -> None:
    line = (
        '10.1.2.3 - alice [10/Oct/2025:13:55:36 -0700] "GET /admin/login.php?user=a%27 HTTP/1.1" '
        '404 512 "http://x/\\"q\\"" "sqlmap/1.7"'
    )
    record = AccessLogSource().parse_line(line, NOWHERE)
    assert record.ts == datetime(2025, 10, 10, 20, 55, 36)
    assert record.event_code == 404
    assert record.fields == {
        "c-ip": "10.1.2.3",
        "cs-username": "alice",
        "sc-status": "404",
        "sc-bytes": "512",
        "cs-request": "GET /admin/login.php?user=a%27 HTTP/1.1",
        "cs-method": "GET",
        "cs-uri": "/admin/login.php?user=a%27",
        "cs-uri-stem": "/admin/login.php",
        "cs-uri-query": "user=a%27",
        "cs-version": "HTTP/1.1",
        "cs-referer": 'http://x/"q"',
        "cs-user-agent": "sqlmap/1.7",
        "c-useragent": "sqlmap/1.7",
        "c-uri": "/admin/login.php?user=a%27",
        "c-uri-query": "user=a%27",
    }


def test_access_log_common_format_and_garbage_request() -> None:
    record = AccessLogSource().parse_line(
        '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "\\x16\\x03" 400 -', NOWHERE
    )
    assert record.fields["cs-request"] == "x16x03"
    assert "cs-method" not in record.fields and record.fields["sc-bytes"] is None
    with pytest.raises(LineError, match="bad time"):
        AccessLogSource().parse_line(
            '1.2.3.4 - - [32/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1', NOWHERE
        )


def test_json_security_datasets_and_ecs_flavours() -> None:
    flat = {
        "@timestamp": "2020-09-21T19:03:09.187Z",
        "Hostname": "WORKSTATION5",
        "EventID": 1,
        "Channel": "Microsoft-Windows-Sysmon/Operational",
        "SourceName": "Microsoft-Windows-Sysmon",
        "Image": "C:\\Windows\\System32\\cmd.exe",
        "Message": "Process Create",
        "port": 1,
    }
    record = JsonLinesSource().parse_line(json.dumps(flat), NOWHERE)
    assert (record.host, record.event_code, record.channel) == ("WORKSTATION5", 1, flat["Channel"])
    assert record.fields == {"Provider_Name": "Microsoft-Windows-Sysmon", "Image": flat["Image"]}
    assert record.message == "Process Create"
    ecs = {
        "@timestamp": "2026-01-02T03:04:05Z",
        "host": {"name": "srv1"},
        "event": {"code": "4688"},
        "winlog": {"channel": "Security", "event_data": {"X": 1}},
        "process": {"command_line": "whoami /all", "parent": {"executable": "C:\\a.exe"}},
    }
    record = JsonLinesSource().parse_line(json.dumps(ecs), NOWHERE)
    assert (record.host, record.event_code, record.channel) == ("srv1", 4688, "Security")
    assert record.fields["CommandLine"] == "whoami /all"
    assert record.fields["ParentImage"] == "C:\\a.exe"
    assert record.fields["process.command_line"] == "whoami /all"
    assert record.fields["X"] == "1"


def test_json_windows_event_matches_the_evtx_record() -> None:
    from tests.conftest import shared_data
    from vigil.monitor.ingest.sources.evtx import EvtxSource

    folder = shared_data("sigma", "regression_data")
    sample = next(iter(sorted(folder.rglob("*.json"))))
    text, decoder = sample.read_text("utf-8"), json.JSONDecoder()
    first, _ = decoder.raw_decode(text.lstrip())
    from_json = JsonLinesSource().parse_line(json.dumps(first), NOWHERE)
    from_evtx = next(
        r for r in EvtxSource().read(sample.with_suffix(".evtx")) if isinstance(r, RawRecord)
    )
    assert (
        from_json.ts,
        from_json.host,
        from_json.channel,
        from_json.event_code,
        from_json.key,
    ) == (from_evtx.ts, from_evtx.host, from_evtx.channel, from_evtx.event_code, from_evtx.key)
    assert from_json.fields == from_evtx.fields


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("[1, 2]", "a JSON list"),
        ("{bad", "not JSON"),
        ('{"a": 1}', "unknown JSON event"),
        ('{"@timestamp": true}', "timestamp is a boolean"),
        ('{"Event": {"System": []}}', "not a Windows"),
    ],
)
def test_bad_json_lines(line: str, reason: str) -> None:
    with pytest.raises(LineError, match=reason):
        JsonLinesSource().parse_line(line, NOWHERE)


def test_sniffing_picks_each_format(tmp_path: Path) -> None:
    samples = {
        "a.log": "<13>1 2026-01-01T00:00:00Z h app - - - ok\n",
        "b.jsonl": '{"@timestamp": "2026-01-01T00:00:00Z"}\n',
        "c.log": '1.2.3.4 - - [01/Jan/2026:00:00:00 +0000] "GET / HTTP/1.1" 200 1\n',
        "d.txt": "hello\n",
    }
    found = {}
    for name, text in samples.items():
        (tmp_path / name).write_text(text)
        source = source_for(tmp_path / name)
        found[name] = source.name if source else None
    assert found == {"a.log": "syslog", "b.jsonl": "jsonl", "c.log": "access", "d.txt": None}
    assert list(SOURCES) == ["evtx", "jsonl", "access", "syslog"]


# --- fuzzing ----------------------------------------------------------------------------------

lines = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=300)


@FUZZ
@given(line=lines)
def test_parsers_never_crash(line: str) -> None:
    for source in (SyslogSource(), AccessLogSource(), JsonLinesSource()):
        try:
            record = source.parse_line(line, NOWHERE)
        except LineError:
            continue
        assert isinstance(record, RawRecord)
        assert all(v is None or isinstance(v, str) for v in record.fields.values())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
keys = st.sampled_from(
    [
        "Event",
        "System",
        "EventData",
        "EventID",
        "Hostname",
        "Channel",
        "@timestamp",
        "host",
        "winlog",
        "TimeCreated",
        "Computer",
    ]
) | st.text(max_size=8)


@FUZZ
@given(doc=st.dictionaries(keys, json_values, max_size=6))
def test_json_parser_never_crashes_on_any_object(doc: dict[str, object]) -> None:
    try:
        record = JsonLinesSource().parse_line(json.dumps(doc), NOWHERE)
    except LineError:
        return
    assert isinstance(record.ts, datetime) and record.ts.tzinfo is None


@FUZZ
@given(data=st.lists(lines, max_size=20))
def test_every_line_is_parsed_or_quarantined(
    tmp_path_factory: pytest.TempPathFactory, data: list[str]
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "x.log"
    path.write_text("\n".join(data) + "\n", encoding="utf-8")
    expected = sum(1 for line in data if line.encode("utf-8").strip())  # bytes whitespace, as read
    for source in (SyslogSource(), AccessLogSource(), JsonLinesSource()):
        items = list(source.read(path))
        assert len(items) == expected
        for item in items:
            if isinstance(item, QuarantineEntry):
                assert item.source == str(path) and item.line is not None


# "-" alone is syslog's NILVALUE (absent), so a generated token is never just that.
tokens = st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=20).filter(
    lambda t: t != "-"
)
when = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1))
messages = st.text(st.characters(codec="utf-8", exclude_categories=["Cc"]), max_size=80)
sd_values = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=20)


@FUZZ
@given(
    pri=st.integers(0, 191),
    ts=when,
    host=tokens,
    app=tokens,
    pid=tokens,
    msgid=tokens,
    params=st.dictionaries(
        st.text(string.ascii_lowercase, min_size=1, max_size=8), sd_values, max_size=3
    ),
    message=messages,
)
def test_rfc5424_round_trip(
    pri: int,
    ts: datetime,
    host: str,
    app: str,
    pid: str,
    msgid: str,
    params: dict[str, str],
    message: str,
) -> None:
    def esc(v: str) -> str:
        return v.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")

    sd = "[id@1 " + " ".join(f'{k}="{esc(v)}"' for k, v in params.items()) + "]" if params else "-"
    line = f"<{pri}>1 {ts.isoformat()}Z {host} {app} {pid} {msgid} {sd} {message}"
    record = SyslogSource().parse_line(line, NOWHERE)
    # A leading byte-order mark only says the message is UTF-8 (RFC 5424 6.4).
    assert (record.ts, record.host, record.message) == (ts, host, message.removeprefix("\ufeff"))
    expected = {
        "facility": FACILITIES[pri // 8],
        "severity": SEVERITIES[pri % 8],
        "program": app,
        "pid": pid,
        "msgid": msgid,
        **{f"id@1.{k}": v for k, v in params.items()},
    }
    assert record.fields == expected


@FUZZ
@given(
    ts=when,
    host=tokens,
    app=st.text(string.ascii_letters + "-_.", min_size=1, max_size=20),
    pid=st.integers(1, 99999),
    message=messages,
)
def test_rfc3164_round_trip(
    tmp_path_factory: pytest.TempPathFactory,
    ts: datetime,
    host: str,
    app: str,
    pid: int,
    message: str,
) -> None:
    path = tmp_path_factory.mktemp("bsd") / "syslog"
    path.write_text("")
    local = ts.replace(microsecond=0)
    os.utime(path, ((local - timedelta(hours=7)).replace(tzinfo=UTC).timestamp(),) * 2)
    line = f"{local:%b} {local.day:2d} {local:%H:%M:%S} {host} {app}[{pid}]: {message}"
    record = SyslogSource().parse_line(line, path)
    assert record.ts == local - timedelta(hours=7)
    assert (record.host, record.fields, record.message) == (
        host,
        {"program": app, "pid": str(pid)},
        message,
    )


@FUZZ
@given(
    ts=when,
    ip=st.ip_addresses(v=4).map(str),
    method=st.sampled_from(["GET", "POST", "HEAD"]),
    path=st.text(string.ascii_letters + string.digits + "/._-%", min_size=1, max_size=30),
    query=st.text(string.ascii_letters + "=&%", max_size=20),
    status=st.integers(100, 599),
    size=st.integers(0, 10**9),
    agent=st.text(
        string.printable.replace("\n", "")
        .replace("\r", "")
        .replace("\x0b", "")
        .replace("\x0c", ""),
        max_size=40,
    ),
)
def test_access_log_round_trip(
    ts: datetime, ip: str, method: str, path: str, query: str, status: int, size: int, agent: str
) -> None:
    target = "/" + path + (f"?{query}" if query else "")
    quoted = agent.replace("\\", "\\\\").replace('"', '\\"')
    stamp = ts.replace(microsecond=0)
    line = (
        f'{ip} - - [{stamp:%d/%b/%Y:%H:%M:%S} +0000] "{method} {target} HTTP/1.1" {status} {size} '
        f'"-" "{quoted}"'
    )
    record = AccessLogSource().parse_line(line, NOWHERE)
    assert record.ts == stamp
    assert record.fields["cs-uri"] == target and record.fields["cs-method"] == method
    assert record.fields["cs-user-agent"] == agent and record.fields["sc-status"] == str(status)
    assert record.fields["cs-uri-query"] == (query or None)
