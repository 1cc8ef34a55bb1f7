"""Backups, checked against 3-2-1-1-0: present, recent, verified by reading the data, one copy
offline or immutable (and, short of a fail, three copies on two media with one off site).

Evidence is a backup manifest (JSON) and, when given, the restic repository it describes. With a
repository, restic itself says when the last snapshot was taken and whether every pack still
reads back (`restic check --read-data`); a metadata-only check is not enough, since a flipped
byte in a pack passes `restic check` and fails `restic check --read-data`.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from vigil.core.clock import to_utc
from vigil.inspect.errors import EvidenceError
from vigil.inspect.evidence.verdict import Verdict

#: Verifications that read the data back; "metadata" (a structure check) does not count.
FULL_VERIFICATIONS = ("read-data", "test-restore")


@dataclass(frozen=True)
class BackupPolicy:
    #: A backup older than this is stale (unless the manifest's own policy says otherwise).
    max_age: timedelta = timedelta(hours=36)
    #: A verification older than this no longer vouches for the copies.
    max_verification_age: timedelta = timedelta(days=92)


@dataclass(frozen=True)
class ResticRepo:
    path: Path
    password_file: Path


def _run_restic(
    repo: ResticRepo, *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    command = [
        "restic",
        "-r",
        str(repo.path),
        "--password-file",
        str(repo.password_file),
        "--no-cache",
        *args,
    ]
    try:
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as e:
        raise EvidenceError("restic is not installed (Debian package `restic`)") from e


def restic_latest_snapshot(repo: ResticRepo) -> datetime | None:
    """The time of the newest snapshot in the repository, None when it holds none."""
    done = _run_restic(repo, "snapshots", "--json")
    if done.returncode != 0:
        raise EvidenceError(f"restic cannot list snapshots: {done.stderr.strip()[:300]}")
    snapshots = json.loads(done.stdout or "[]") or []
    times = [to_utc(datetime.fromisoformat(s["time"])) for s in snapshots]
    return max(times) if times else None


def restic_check(repo: ResticRepo, read_data: bool = True) -> tuple[bool, str]:
    """Run `restic check` (reading every pack with `read_data`): passed, and restic's words."""
    done = _run_restic(repo, "check", *(["--read-data"] if read_data else []))
    return done.returncode == 0, (done.stdout + done.stderr).strip()[-2000:]


def _time(value: Any, what: str, source: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        return to_utc(datetime.fromisoformat(str(value)))
    except ValueError as e:
        raise EvidenceError(f"{source}: {what} is not a time: {value!r}") from e


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise EvidenceError(f"{path}: not a readable backup manifest: {e}") from e
    if not isinstance(data, dict):
        raise EvidenceError(f"{path}: a backup manifest is a JSON object")
    return data


def _copies(v: Verdict, copies: list[dict[str, Any]]) -> None:
    if not any(c.get("offline") or c.get("immutable") for c in copies):
        v.short("no-offline-copy", "no copy is offline or immutable")
    if len(copies) < 3:
        v.short("few-copies", f"{len(copies)} copies, 3 wanted")
    if len({str(c.get("medium", "")).lower() for c in copies}) < 2:
        v.short("one-medium", "every copy on the same kind of medium")
    if not any(c.get("offsite") for c in copies):
        v.short("no-offsite", "no copy off site")


def _verification(
    v: Verdict, verified: dict[str, Any], now: datetime, policy: BackupPolicy, source: str
) -> None:
    kind = str(verified.get("kind") or "none")
    at = _time(verified.get("at"), "last_verification.at", source)
    if kind not in FULL_VERIFICATIONS:
        v.short("unverified", f"last verification was {kind!r}: the data was never read back")
    elif verified.get("ok") is False:
        v.short("verify-failed", f"the last {kind} verification found errors")
    elif at is None or now - at > policy.max_verification_age:
        v.short("verify-stale", "the last verification is too old")


_FAILING = {"missing", "stale", "unverified", "verify-failed", "verify-stale", "no-offline-copy"}


def check_backup(
    manifest: Path,
    now: datetime,
    policy: BackupPolicy = BackupPolicy(),
    repo: ResticRepo | None = None,
) -> Verdict:
    """The verdict on one system's backups; `repo`, when given, is asked instead of trusted."""
    data = read_manifest(manifest)
    source = str(manifest)
    v = Verdict("backup", "pass", detail={"system": data.get("system", "")})
    last = _time(data.get("last_backup"), "last_backup", source)
    verified = dict(data.get("last_verification") or {})
    if repo is not None:
        last = restic_latest_snapshot(repo)
        ok, output = restic_check(repo, read_data=True)
        verified = {"kind": "read-data", "at": now.isoformat(), "ok": ok}
        v.detail["restic"] = {"repository": str(repo.path), "read_data_ok": ok, "output": output}
    max_age = policy.max_age
    if (hours := (data.get("policy") or {}).get("max_age_hours")) is not None:
        max_age = timedelta(hours=float(hours))
    if last is None:
        v.short("missing", "no backup found")
    elif now - last > max_age:
        v.short("stale", f"last backup {last:%Y-%m-%d %H:%M} UTC is older than {max_age}")
    _verification(v, verified, now, policy, source)
    copies = [c for c in data.get("copies") or [] if isinstance(c, dict)]
    _copies(v, copies)
    v.detail |= {"last_backup": last.isoformat() if last else None, "copies": len(copies)}
    if _FAILING & set(v.codes):
        v.status = "fail"
    elif v.codes:
        v.status = "partial"
    return v
