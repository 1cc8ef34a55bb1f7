"""EVTX files, whole and damaged: every readable record comes back, the damage is quarantined."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import shared_data
from vigil.lake.quarantine import QuarantineEntry
from vigil.monitor.ingest.sources.base import RawRecord
from vigil.monitor.ingest.sources.evtx import CHUNK, HEADER_BLOCK, EvtxSource

pytestmark = pytest.mark.shared_data


def _big_sample() -> Path:
    """A real Security log of 43 chunks (998 records)."""
    folder = shared_data("evtx", "evtx-to-mitre-attack")
    return next(folder.rglob("ID4688-5447-4950-Firewall disabled (command).evtx"))


def _read(path: Path) -> tuple[list[RawRecord], list[QuarantineEntry]]:
    records: list[RawRecord] = []
    entries: list[QuarantineEntry] = []
    for item in EvtxSource().read(path):
        (entries if isinstance(item, QuarantineEntry) else records).append(item)  # type: ignore[arg-type]
    return records, entries


def _cut(source: Path, target: Path, size: int) -> Path:
    target.write_bytes(source.read_bytes()[:size])
    return target


def test_a_whole_file_reads_every_record() -> None:
    sample = shared_data("sigma", "regression_data")
    path = next(sample.rglob("7c3a5b1d-9e2f-4a8c-b5d7-1e0f3c6a9b2d.evtx"))
    records, entries = _read(path)
    assert entries == []
    assert len(records) == 2
    first = records[0]
    assert first.ts == datetime(2026, 4, 20, 10, 0, 35, 646624)
    assert (first.host, first.channel, first.event_code) == (
        "swachchhanda",
        "Microsoft-Windows-Sysmon/Operational",
        1,
    )
    assert str(first.fields["Image"]).endswith("\\SnippingTool\\SnippingTool.exe")
    assert (
        first.fields["ParentImage"]
        == "C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe"
    )
    assert first.fields["Provider_Name"] == "Microsoft-Windows-Sysmon"
    assert first.fields["ProcessId"] == "6180"
    assert first.fields["EventRecordID"] == "86918"


def test_security_4688_gets_sysmon_names_too() -> None:
    records, _ = _read(_big_sample())
    created = [r for r in records if r.event_code == 4688]
    assert created
    for record in created:
        assert record.fields["Image"] == record.fields["NewProcessName"]
        assert record.fields["ParentImage"] == record.fields["ParentProcessName"]


def test_truncated_file_keeps_every_complete_record(tmp_path: Path) -> None:
    source = _big_sample()
    full, _ = _read(source)
    assert len(full) == 998
    five, _ = _read(_cut(source, tmp_path / "five.evtx", HEADER_BLOCK + 5 * CHUNK))
    six, _ = _read(_cut(source, tmp_path / "six.evtx", HEADER_BLOCK + 6 * CHUNK))
    cut_at = HEADER_BLOCK + 5 * CHUNK + 30000
    records, entries = _read(_cut(source, tmp_path / "cut.evtx", cut_at))
    # Every record of the five whole chunks, and those of chunk 5 written before the cut.
    assert len(five) < len(records) < len(six)
    assert [r.key for r in records] == [r.key for r in full[: len(records)]]
    assert len(entries) == 1
    (entry,) = entries
    assert entry.source == str(tmp_path / "cut.evtx")
    assert entry.record == "chunk 5"
    assert entry.reason == (
        f"evtx: file truncated inside chunk 5: {cut_at} bytes where the chunk needs "
        f"{HEADER_BLOCK + 6 * CHUNK}; records after the cut are lost"
    )


def test_file_cut_at_a_chunk_boundary_says_how_many_chunks_are_missing(tmp_path: Path) -> None:
    records, entries = _read(_cut(_big_sample(), tmp_path / "five.evtx", HEADER_BLOCK + 5 * CHUNK))
    assert [e.reason for e in entries] == [
        "evtx: file truncated: header announces 43 chunks, 5 present"
    ]
    assert records


def test_flipped_bytes_lose_one_chunk_only(tmp_path: Path) -> None:
    source = _big_sample()
    full, _ = _read(source)
    three, _ = _read(_cut(source, tmp_path / "three.evtx", HEADER_BLOCK + 3 * CHUNK))
    four, _ = _read(_cut(source, tmp_path / "four.evtx", HEADER_BLOCK + 4 * CHUNK))
    data = bytearray(source.read_bytes())
    start = HEADER_BLOCK + 3 * CHUNK + 600
    for offset in range(start, start + 100):
        data[offset] ^= 0xFF
    damaged = tmp_path / "flipped.evtx"
    damaged.write_bytes(bytes(data))
    records, entries = _read(damaged)
    lost = {r.key for r in four[len(three) :]}
    assert len(records) == len(full) - len(lost)
    assert {r.key for r in records} == {r.key for r in full} - lost
    assert len(entries) == 1
    # The file numbers its records from 1; chunk 3 holds numbers 81..104.
    assert entries[0].record == f"records {len(three) + 1}..{len(four)}"
    assert entries[0].reason.startswith("evtx: unreadable chunk: Failed to parse chunk")


def test_not_an_evtx_file(tmp_path: Path) -> None:
    tiny = tmp_path / "tiny.evtx"
    tiny.write_bytes(b"ElfFile\x00" + b"\x00" * 40)
    records, entries = _read(tiny)
    assert records == []
    assert [e.reason for e in entries] == ["evtx: not an EVTX file or header cut short (48 bytes)"]
