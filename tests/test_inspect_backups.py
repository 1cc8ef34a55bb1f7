"""Backup evidence against 3-2-1-1-0, on manifests and on a real restic repository that a flipped
byte corrupts: `restic check` still passes, `restic check --read-data` and so the control fail."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pytest

from vigil.core.clock import utcnow
from vigil.inspect.evidence.backups import ResticRepo, check_backup, restic_check

NOW = datetime(2027, 3, 5, 2, 0)
GOOD = {
    "system": "voter-list",
    "last_backup": "2027-03-04T22:00:00+07:00",
    "last_verification": {"kind": "test-restore", "at": "2027-02-20T10:00:00+07:00", "ok": True},
    "copies": [
        {"location": "server room", "medium": "disk"},
        {"location": "province data centre", "medium": "disk", "offsite": True},
        {"location": "safe", "medium": "tape", "offline": True, "offsite": True},
    ],
}


def _manifest(tmp_path: Path, **changes: object) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({**GOOD, **changes}), encoding="utf-8")
    return path


def test_manifests(tmp_path: Path) -> None:
    assert check_backup(_manifest(tmp_path), NOW).status == "pass"
    stale = check_backup(_manifest(tmp_path, last_backup="2027-03-01T22:00:00+07:00"), NOW)
    assert (stale.status, stale.codes) == ("fail", ["stale"])
    meta = check_backup(
        _manifest(tmp_path, last_verification={"kind": "metadata", "ok": True}), NOW
    )
    assert (meta.status, meta.codes) == ("fail", ["unverified"])
    online = [{k: v for k, v in c.items() if k != "offline"} for c in GOOD["copies"]]  # type: ignore[attr-defined]
    assert check_backup(_manifest(tmp_path, copies=online), NOW).codes == ["no-offline-copy"]
    two = check_backup(_manifest(tmp_path, copies=GOOD["copies"][1:]), NOW)  # type: ignore[index]
    assert (two.status, two.codes) == ("partial", ["few-copies"])
    missing = check_backup(_manifest(tmp_path, last_backup=None), NOW)
    assert missing.codes == ["missing"]


def _restic(repo: ResticRepo, *args: str) -> None:
    subprocess.run(
        [
            "restic",
            "-r",
            str(repo.path),
            "--password-file",
            str(repo.password_file),
            "--no-cache",
            *args,
        ],
        check=True,
        capture_output=True,
    )


@pytest.mark.skipif(
    shutil.which("restic") is None, reason="restic (Debian package) is not installed"
)
def test_a_flipped_byte_passes_check_and_fails_read_data(tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("correct horse battery staple\n", encoding="utf-8")
    repo = ResticRepo(tmp_path / "repo", secret)
    source = tmp_path / "voter-list"
    source.mkdir()
    for i in range(5):
        (source / f"part{i}.csv").write_bytes(os.urandom(64 * 1024))
    _restic(repo, "init")
    _restic(repo, "backup", str(source))
    now = utcnow()
    before = check_backup(_manifest(tmp_path), now, repo=repo)
    assert (before.status, before.codes) == ("pass", [])
    packs = sorted((repo.path / "data").rglob("*"), key=lambda p: p.stat().st_size)
    pack = [p for p in packs if p.is_file()][-1]
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o600)
    pack.write_bytes(bytes(data))
    assert restic_check(repo, read_data=False)[0] is True
    assert restic_check(repo, read_data=True)[0] is False
    after = check_backup(_manifest(tmp_path), now, repo=repo)
    assert (after.status, after.codes) == ("fail", ["verify-failed"])
    assert after.detail["restic"]["read_data_ok"] is False
