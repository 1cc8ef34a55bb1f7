"""Advisories: two-person approval (audited), the public site, the Atom feed (read back with
feedparser) and the PDF notice."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import feedparser
import pytest
from sqlalchemy import select

from vigil.core.access import Actor, Role
from vigil.core.errors import PermissionDenied
from vigil.deployment import Deployment
from vigil.infowatch.advisories.publish import publish_site
from vigil.infowatch.advisories.service import AdvisoryDraft, approve_advisory, create_advisory
from vigil.store.models import AuditEntry

DRAFT = AdvisoryDraft(
    "warning",
    "Cảnh báo trang giả mạo Ủy ban bầu cử",
    "Warning: fake election committee page",
    "Trang 'Uy Ban Bau Cu' không phải trang chính thức. Không cung cấp mã OTP.",
    "The page 'Uy Ban Bau Cu' is not the official one. Never give an OTP code.",
)


def actor(dep: Deployment, name: str) -> Actor:
    return Actor(name, Role.ANALYST, "P01", frozenset(u.code for u in dep.units))


def test_two_person_rule_and_publication(deployment: Deployment) -> None:
    with deployment.store.session() as session:
        advisory = create_advisory(
            session, actor(deployment, "an"), DRAFT, unit="P01", now=deployment.now()
        )
        advisory_id = advisory.id
    with deployment.store.session() as session, pytest.raises(PermissionDenied):
        approve_advisory(session, actor(deployment, "an"), advisory_id, now=deployment.now())
    with deployment.store.session() as session:
        approve_advisory(session, actor(deployment, "binh"), advisory_id, now=deployment.now())
    with deployment.store.reader() as session:
        actions = [
            (e.actor, e.action)
            for e in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
            if e.action.startswith("infowatch.advisory")
        ]
    assert actions == [
        ("an", "infowatch.advisory.create"),
        ("an", "infowatch.advisory.approve-refused"),
        ("binh", "infowatch.advisory.approve"),
    ]
    written = publish_site(deployment)
    root = deployment.settings.data / "public"
    assert root / "index.html" in written
    index = (root / "index.html").read_text(encoding="utf-8")
    assert "Cảnh báo trang giả mạo Ủy ban bầu cử" in index
    page = (root / "advisories" / f"{advisory_id}.html").read_text(encoding="utf-8")
    assert "Never give an OTP code." in page and "&#39;Uy Ban Bau Cu&#39;" in page
    feed = feedparser.parse((root / "feed.atom").read_text(encoding="utf-8"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert [e.title for e in feed.entries] == [
        "Cảnh báo trang giả mạo Ủy ban bầu cử / Warning: fake election committee page"
    ]
    assert feed.entries[0].link.endswith(f"/advisories/{advisory_id}.html")
    pdf = root / "notices" / f"{advisory_id}.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is missing: apt-get install poppler-utils")
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Không cung cấp mã OTP" in text and "binh" in text


def test_draft_not_public(deployment: Deployment, tmp_path: Path) -> None:
    with deployment.store.session() as session:
        create_advisory(session, actor(deployment, "an"), DRAFT, unit="P01", now=deployment.now())
    publish_site(deployment)
    feed = feedparser.parse(
        (deployment.settings.data / "public" / "feed.atom").read_text(encoding="utf-8")
    )
    assert feed.entries == [] and not feed.bozo
