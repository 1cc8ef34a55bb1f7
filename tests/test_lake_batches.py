"""File-level idempotence and resume in the lake, for any dataset (not only monitor_events).

A small ingest of CSV extracts into a dataset of its own, written the way the docstring of
`vigil.lake.batches` tells a new room to: the same guarantees as the log ingest.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from vigil.lake.batches import INDEX_NAME, BatchFile, BatchIndex, batch_files, file_hash
from vigil.lake.datasets import Lake

DATASET = "registry_people"
#: Ids keep their leading zeros: every column is read as text.
TEXT = pacsv.ConvertOptions(column_types={"citizen_id": pa.string(), "commune": pa.string()})


def _extract(folder: Path, name: str, rows: list[tuple[str, str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    lines = ["citizen_id,commune"] + [f"{cid},{commune}" for cid, commune in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _ingest(lake: Lake, paths: list[Path]) -> list[str]:
    """What a room's ingest does with the index; returns the names of the files it took in."""
    taken: list[str] = []
    with BatchIndex.open(lake, DATASET) as index:
        files: list[BatchFile] = []
        tables: list[pa.Table] = []
        for path in paths:
            stat = path.stat()
            sha = index.known_hash(str(path), stat.st_size, stat.st_mtime_ns) or file_hash(path)
            if not index.holds(sha) and sha not in {f.sha for f in files}:
                table = pacsv.read_csv(path, convert_options=TEXT)
                first = sum(t.num_rows for t in tables)
                files.append(BatchFile(sha, str(path), "csv", first, table.num_rows))
                tables.append(table)
                taken.append(path.name)
            index.remember(str(path), stat.st_size, stat.st_mtime_ns, sha)
        if files:
            index.write(pa.concat_tables(tables), files)
    return taken


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    return Lake(tmp_path / "lake")


def test_the_same_file_twice_adds_nothing(lake: Lake, tmp_path: Path) -> None:
    c01 = _extract(tmp_path / "in", "c01.csv", [("001", "C01"), ("002", "C01")])
    c02 = _extract(tmp_path / "in", "c02.csv", [("003", "C02")])
    copy = tmp_path / "again" / "c01-copy.csv"
    copy.parent.mkdir()
    copy.write_bytes(c01.read_bytes())

    assert _ingest(lake, [c01, c02]) == ["c01.csv", "c02.csv"]
    assert _ingest(lake, [c01, c02, copy]) == []

    (batch,) = lake.batches(DATASET)
    held = batch_files(lake.folder(DATASET) / f"{batch}.parquet")
    assert [(Path(f.path).name, f.first, f.rows) for f in held] == [
        ("c01.csv", 0, 2),
        ("c02.csv", 2, 1),
    ]
    assert sorted(lake.read(DATASET).column("citizen_id").to_pylist()) == ["001", "002", "003"]
    # Monitor's dataset is untouched by another room's ingest.
    assert lake.batches("monitor_events") == []


def test_a_batch_written_but_not_indexed_is_indexed_from_its_metadata(
    lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c01 = _extract(tmp_path / "in", "c01.csv", [("001", "C01")])

    def stop(self: BatchIndex, batch: str, shas: list[str]) -> None:
        raise KeyboardInterrupt  # the ingest stops between the lake write and the index

    monkeypatch.setattr(BatchIndex, "add", stop)
    with pytest.raises(KeyboardInterrupt):
        _ingest(lake, [c01])
    monkeypatch.undo()
    (batch,) = lake.batches(DATASET)
    assert (lake.folder(DATASET) / INDEX_NAME).read_text(encoding="utf-8") == ""

    with BatchIndex.open(lake, DATASET) as index:
        assert index.batch_of(file_hash(c01)) == batch
    assert _ingest(lake, [c01]) == []
    assert lake.rows(DATASET) == 1


def test_what_a_killed_ingest_left_half_written_is_cleared(lake: Lake, tmp_path: Path) -> None:
    c01 = _extract(tmp_path / "in", "c01.csv", [("001", "C01")])
    folder = lake.folder(DATASET)
    folder.mkdir(parents=True)
    (folder / "0badc0de.tmp-4242").write_bytes(b"PAR1 half a batch")

    assert _ingest(lake, [c01]) == ["c01.csv"]
    assert not list(folder.glob("*.tmp-*"))
    assert lake.rows(DATASET) == 1


def test_two_ingests_into_one_dataset_take_turns(lake: Lake, tmp_path: Path) -> None:
    c01 = _extract(tmp_path / "in", "c01.csv", [("001", "C01")])
    entered = threading.Event()
    saw: list[bool] = []

    def second() -> None:
        with BatchIndex.open(lake, DATASET) as index:
            entered.set()
            saw.append(index.holds(file_hash(c01)))

    with BatchIndex.open(lake, DATASET) as index:
        other = threading.Thread(target=second)
        other.start()
        other.join(0.3)
        assert not entered.is_set()  # held off while the first ingest has the index
        stat = c01.stat()
        table = pacsv.read_csv(c01)
        index.write(table, [BatchFile(file_hash(c01), str(c01), "csv", 0, table.num_rows)])
        index.remember(str(c01), stat.st_size, stat.st_mtime_ns, file_hash(c01))
    other.join()
    assert saw == [True]  # the second ingest saw what the first one wrote
