"""Vigil's own data (issue 9): `vigil backup create|verify|restore` on the demo with restic, one
corrupted pack caught by `verify`, a restore from the good copy holding every finding, case,
audit entry and lake row; `vigil audit verify` naming the first broken link of the chain."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from vigil.backup import MANIFEST, Repository, create_backup, restore_backup, verify_backup
from vigil.cli import build_cli
from vigil.core.config import Settings
from vigil.demo.build import DemoResult, build_demo
from vigil.deployment import Deployment
from vigil.store.audit import audit
from vigil.store.models import AuditEntry, FindingRow

pytestmark = [
    pytest.mark.skipif(shutil.which("restic") is None, reason="restic (Debian) not installed"),
    pytest.mark.filterwarnings("ignore:Arrow output on a DB-API result"),
]
runner = CliRunner()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoResult:
    return build_demo(tmp_path_factory.mktemp("demo") / "data", persons=1000, seed=5)


def _state(data: Path) -> dict[str, object]:
    """What must survive: every table's rows, the findings' fingerprints, every lake dataset's
    rows."""
    with Deployment.open(Settings(data=data, demo=True), upgrade=False) as dep:
        with dep.store.reader() as session:
            fingerprints = sorted(session.scalars(select(FindingRow.fingerprint)))
            audit_hashes = list(session.scalars(select(AuditEntry.hash).order_by(AuditEntry.id)))
        from vigil.backup import _counts

        return {
            "tables": _counts(dep),
            "fingerprints": fingerprints,
            "audit": audit_hashes,
            "lake": {name: dep.lake.rows(name) for name in dep.lake.datasets()},
        }


def _flip_a_byte_in_a_pack(repo: Path) -> Path:
    packs = sorted((repo / "data").rglob("*"), key=lambda p: p.stat().st_size if p.is_file() else 0)
    pack = packs[-1]
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    return pack


def test_backup_of_the_demo_survives_a_bad_pack_through_its_copy(
    demo: DemoResult, tmp_path: Path
) -> None:
    secret = tmp_path / "restic-password"
    secret.write_text("a long passphrase kept off the command line\n", encoding="utf-8")
    secret.chmod(0o600)
    before = _state(demo.data_dir)
    assert before["tables"]["findings"] > 0 and before["tables"]["cases"] > 0  # type: ignore[index]
    assert before["tables"]["audit_log"] > 0 and sum(before["lake"].values()) > 0  # type: ignore[index,union-attr]

    primary = Repository(str(tmp_path / "repo"), secret)
    with Deployment.open(Settings(data=demo.data_dir, demo=True)) as dep:
        made = create_backup(dep, primary)
    assert len(made.snapshot) >= 8  # restic 0.14 reports the short id
    assert made.manifest["tables"] == before["tables"]
    assert made.manifest["key"]["copied"] is False
    assert verify_backup(primary).ok

    offline = Repository(str(tmp_path / "offline-copy"), secret)
    shutil.copytree(primary.path, offline.path)  # e.g. a disk taken off site
    pack = _flip_a_byte_in_a_pack(Path(primary.path))
    bad = runner.invoke(
        build_cli(),
        ["backup", "verify", "--repo", primary.path, "--password-file", str(secret)],
    )
    assert bad.exit_code == 3, bad.output
    assert pack.name[:8] in bad.output or "pack" in bad.output.lower()
    assert verify_backup(offline).ok

    target = tmp_path / "restored"
    target.mkdir()
    done = runner.invoke(
        build_cli(),
        [
            "backup",
            "restore",
            "--repo",
            offline.path,
            "--password-file",
            str(secret),
            "--target",
            str(target),
        ],
    )
    assert done.exit_code == 0, done.output
    assert not (target / "secret.key").exists()  # the key is named, never copied
    assert (target / MANIFEST).is_file() and (target / "vigil.toml").is_file()
    assert _state(target) == before
    with pytest.raises(Exception, match="not empty"):
        restore_backup(offline, target)


def test_audit_verify_names_the_first_broken_link(deployment: Deployment) -> None:
    with deployment.store.session() as session:
        for n in range(4):
            audit(session, deployment.system("test"), "case.note", f"case:{n}", {"n": n})
    data = str(deployment.settings.data)
    whole = runner.invoke(build_cli(), ["audit", "verify", "--data", data])
    assert whole.exit_code == 0, whole.output
    assert "4 entries chained" in whole.output
    with deployment.store.reader() as session:
        second = list(session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))[1]
    # Someone with the database file in hand: the append-only triggers are no obstacle to them.
    db = sqlite3.connect(deployment.settings.data / "vigil.db")
    with db:
        db.execute("DROP TRIGGER audit_log_no_update")
        db.execute("UPDATE audit_log SET target = 'case:99' WHERE id = ?", (second,))
    db.close()
    broken = runner.invoke(build_cli(), ["audit", "verify", "--data", data])
    assert broken.exit_code == 3
    assert f"entry {second}: entry was altered" in broken.output
