"""The parser processes of an ingest: forked workers, the spool they hand tables over in, and
their end when the ingest that forked them dies.

A worker inherits every file the ingest had open, the batch index's lock among them: it closes
that at once, so the lock goes with the ingest, and it exits when the ingest is gone (killed
with SIGKILL, it cannot tell its workers), instead of waiting for work for ever.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa

#: The column that carries a table's full texts in a spool file.
_TEXT = "\x1ffull_text"
#: Seconds between a worker's looks at whether its ingest is still there.
ORPHAN_CHECK = 0.5


@contextmanager
def worker_pool(workers: int, inherited: Sequence[int] = ()) -> Iterator[ProcessPoolExecutor]:
    """`workers` forked processes; each closes the `inherited` descriptors (the index's lock)."""
    # fork: workers start in milliseconds and inherit the imported parsers.
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(os.getpid(), tuple(inherited)),
    ) as pool:
        yield pool


def _start_worker(ingest: int, inherited: tuple[int, ...]) -> None:
    for fd in inherited:
        try:
            os.close(fd)
        except OSError:  # not inherited (spawned, not forked)
            continue

    def watch() -> None:
        while os.getppid() == ingest:
            time.sleep(ORPHAN_CHECK)
        os._exit(1)  # the ingest is gone: nobody will read what this worker makes

    threading.Thread(target=watch, name="vigil-orphan-check", daemon=True).start()


@contextmanager
def spool_folder(lake_root: Path) -> Iterator[Path]:
    """A folder of this ingest's own beside the lake, for workers' tables; removed after.

    Called with the batch index locked: no other ingest runs, so what the spool still holds
    was left by one that was killed, and goes.
    """
    root = lake_root / ".spool"
    if root.is_dir():
        for stale in root.iterdir():
            shutil.rmtree(stale, ignore_errors=True)
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def spool_tables(tables: list[pa.Table], texts: list[pa.Array], folder: Path) -> list[str]:
    """Write parsed tables, with their full texts, as Arrow files in `folder` (in a worker).

    The parent maps them instead of receiving them through a pipe: sending a table pickles
    and copies it twice, and a batch's tables are hundreds of MB (a column of offsets per
    sparse field). Measured on an ingest of 200,000 EVTX events: the parent's CPU (it also runs
    the rules) fell from 3.2 to 1.6 s, the workers' from 9.1 to about 7.2 s.
    """
    names = []
    for table, text in zip(tables, texts, strict=True):
        handle, name = tempfile.mkstemp(suffix=".arrow", dir=folder)
        with (
            os.fdopen(handle, "wb") as out,
            pa.ipc.new_file(out, table.schema.append(pa.field(_TEXT, pa.string()))) as writer,
        ):
            writer.write_table(table.append_column(_TEXT, text))
        names.append(name)
    return names


def unspool(names: list[str]) -> tuple[list[pa.Table], list[pa.Array]]:
    """Read back what `spool_tables` wrote: mapped, not copied; the files are removed at once."""
    tables, texts = [], []
    for name in names:
        table = pa.ipc.open_file(pa.memory_map(name)).read_all()
        os.unlink(name)
        index = table.schema.get_field_index(_TEXT)
        text = table.column(index)
        texts.append(text.chunk(0) if text.num_chunks == 1 else text.combine_chunks())
        tables.append(table.remove_column(index))
    return tables, texts
