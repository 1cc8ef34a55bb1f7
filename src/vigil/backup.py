"""Vigil's own data backed up: a consistent snapshot of the store, the lake, the rules and the
rest of the data directory, into a restic repository (encrypted, deduplicated; copies of it can
be kept offline or on immutable storage), verified by reading every byte back, and restored.

The store is copied while it is in use: SQLite through its online backup API, PostgreSQL through
`pg_dump`. The cookie-signing key is never copied: the snapshot names where it lives and its
fingerprint, so that whoever restores can put the right key back. The repository's password is
read by restic from a file (`--password-file`, or RESTIC_PASSWORD_FILE), never from the command
line.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, inspect, select, table
from sqlalchemy.engine import make_url

from vigil.core.clock import utcnow
from vigil.core.errors import DependencyMissing, VigilError
from vigil.deployment import Deployment

MANIFEST = "vigil-backup.json"
TAG = "vigil"
#: What of the data directory is not copied as is: the live database files (snapshotted through
#: the backup API instead) and the key (named in the manifest, never stored).
_SKIPPED = {"vigil.db", "vigil.db-wal", "vigil.db-shm", "vigil.db-journal", "secret.key"}


class BackupError(VigilError):
    code = "backup"


@dataclass(frozen=True)
class Repository:
    """A restic repository and the file holding its password."""

    path: str
    password_file: Path

    def env(self) -> dict[str, str]:
        if not self.password_file.is_file():
            raise BackupError(f"no password file at {self.password_file}")
        env = {k: v for k, v in os.environ.items() if not k.startswith("RESTIC_")}
        env.update(RESTIC_REPOSITORY=self.path, RESTIC_PASSWORD_FILE=str(self.password_file))
        return env


@dataclass
class BackupResult:
    snapshot: str
    manifest: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    output: str


def restic(repo: Repository, *args: str, cwd: Path | None = None) -> str:
    """Run restic on `repo`; its own words become the error when it fails."""
    if shutil.which("restic") is None:
        raise DependencyMissing("restic", install="apt-get install restic")
    done = subprocess.run(
        ["restic", "--no-cache", *args],
        env=repo.env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        words = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"restic {args[0]} failed: {' / '.join(words[-3:])}")
    return done.stdout


def _initialised(repo: Repository) -> bool:
    try:
        restic(repo, "cat", "config")
    except BackupError:
        return False
    return True


def _snapshot_store(dep: Deployment, into: Path) -> str:
    """A consistent copy of the store while it is in use; returns what kind it is."""
    url = make_url(dep.store.url)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(f"file:{url.database}?mode=ro", uri=True)
        target = sqlite3.connect(into / "vigil.db")
        try:
            with target:
                source.backup(target)  # page by page, consistent, writers not blocked for long
        finally:
            source.close()
            target.close()
        return "sqlite"
    if shutil.which("pg_dump") is None:
        raise DependencyMissing("pg_dump", install="apt-get install postgresql-client")
    plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
    subprocess.run(
        ["pg_dump", "--format=custom", "--file", str(into / "vigil.pgdump"), plain],
        check=True,
        capture_output=True,
    )
    return "postgresql"


def _copy_data(data: Path, into: Path) -> None:
    """The data directory as it is, linked where possible (Parquet batches never change)."""

    def link_or_copy(src: str, dst: str) -> object:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)
        return dst

    def ignore(folder: str, names: list[str]) -> set[str]:
        return set(names) & _SKIPPED if Path(folder) == data else set()

    shutil.copytree(data, into, ignore=ignore, copy_function=link_or_copy)


def _counts(dep: Deployment) -> dict[str, int]:
    """Rows of every table of the store, to compare after a restore."""
    with dep.store.reader() as session:
        names = inspect(session.get_bind()).get_table_names()
        return {
            name: int(session.scalar(select(func.count()).select_from(table(name))) or 0)
            for name in sorted(names)
            if name != "alembic_version"
        }


def _manifest(dep: Deployment, kind: str) -> dict[str, Any]:
    key = dep.settings.data / "secret.key"
    lake = dep.lake
    return {
        "created_at": utcnow().isoformat(),
        "store": kind,
        "tables": _counts(dep),
        "lake": {name: lake.rows(name) for name in lake.datasets()},
        "key": {
            "location": str(key.resolve()) if key.exists() else "VIGIL_SECRET_KEY",
            "sha256": hashlib.sha256(key.read_bytes()).hexdigest() if key.exists() else None,
            "copied": False,
        },
    }


@contextmanager
def _staging(dep: Deployment) -> Iterator[Path]:
    parent = dep.settings.data.resolve().parent
    with tempfile.TemporaryDirectory(prefix=".vigil-backup-", dir=parent) as tmp:
        yield Path(tmp)


def create_backup(dep: Deployment, repo: Repository) -> BackupResult:
    """Snapshot the deployment into `repo` (initialised on first use); returns the snapshot id
    and the manifest stored with it."""
    with _staging(dep) as stage:
        (stage / "store").mkdir()
        kind = _snapshot_store(dep, stage / "store")
        _copy_data(dep.settings.data, stage / "data")
        manifest = _manifest(dep, kind)
        (stage / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if not _initialised(repo):
            restic(repo, "init")
        out = restic(repo, "backup", "--json", "--tag", TAG, str(stage), cwd=stage)
    summary = [json.loads(line) for line in out.splitlines() if '"summary"' in line]
    snapshot = str(summary[-1].get("snapshot_id", "")) if summary else ""
    return BackupResult(snapshot=snapshot, manifest=manifest)


def verify_backup(repo: Repository) -> VerifyResult:
    """Read every pack of the repository back and check it (`restic check --read-data`): a
    metadata check alone passes over a pack whose bytes went bad."""
    try:
        return VerifyResult(True, restic(repo, "check", "--read-data"))
    except BackupError as e:
        return VerifyResult(False, e.message)


def restore_backup(repo: Repository, target: Path, snapshot: str = "latest") -> dict[str, Any]:
    """Restore a snapshot into an empty folder as a data directory; returns its manifest.

    A SQLite store becomes `target/vigil.db`; a PostgreSQL dump is left as
    `target/vigil.pgdump` for `pg_restore`. The key is not in the snapshot: put it back as
    `target/secret.key` (or VIGIL_SECRET_KEY) from where the manifest says it lived.
    """
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty; restore into an empty folder")
    target.mkdir(parents=True, exist_ok=True)
    unpacked = target / ".restore"
    restic(repo, "restore", snapshot, "--target", str(unpacked))
    found = sorted(unpacked.rglob(MANIFEST))
    if not found:
        raise BackupError(f"snapshot {snapshot} holds no {MANIFEST}: not a Vigil backup")
    stage = found[0].parent
    for item in (stage / "data").iterdir():
        shutil.move(str(item), target / item.name)
    for item in (stage / "store").iterdir():
        shutil.move(str(item), target / item.name)
    shutil.move(str(stage / MANIFEST), target / MANIFEST)
    shutil.rmtree(unpacked)
    manifest: dict[str, Any] = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    return manifest
