"""The public face of advisories: a static site (HTML, no login), an Atom feed and a printable
PDF notice per advisory, written under <data>/public/ each time an advisory is published or
withdrawn. The site is plain files: any web server (or `vigil serve` at /public/) serves it."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2

from vigil.core.clock import to_local
from vigil.infowatch.advisories.service import published
from vigil.infowatch.models import Advisory
from vigil.reports.render import render_html, render_pdf

if TYPE_CHECKING:
    from vigil.deployment import Deployment

TEMPLATES = Path(__file__).parent / "templates"
ATOM = "http://www.w3.org/2005/Atom"


def public_dir(deployment: Deployment) -> Path:
    return deployment.settings.data / "public"


def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["local"] = lambda v: to_local(v).strftime("%Y-%m-%d %H:%M") if v else ""
    return env


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    if isinstance(data, str):
        tmp.write_text(data, encoding="utf-8")
    else:
        tmp.write_bytes(data)
    tmp.replace(path)


def _iso(value: datetime) -> str:
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def atom_feed(advisories: list[Advisory], province: str, base_url: str, now: datetime) -> str:
    """The Atom 1.0 feed of published advisories, newest first, both languages in each entry."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "vi"})
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{base_url}/advisories/"
    ET.SubElement(
        feed, f"{{{ATOM}}}title"
    ).text = f"Khuyến cáo chính thức / Official advisories — {province}"
    updated = max((a.published_at for a in advisories if a.published_at), default=now)
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _iso(updated)
    ET.SubElement(feed, f"{{{ATOM}}}link", {"rel": "self", "href": f"{base_url}/feed.atom"})
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = province
    for a in advisories:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}id").text = f"{base_url}/advisories/{a.id}.html"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = f"{a.title_vi} / {a.title_en}"
        assert a.published_at is not None
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _iso(a.updated_at or a.published_at)
        ET.SubElement(entry, f"{{{ATOM}}}published").text = _iso(a.published_at)
        ET.SubElement(
            entry,
            f"{{{ATOM}}}link",
            {"rel": "alternate", "href": f"{base_url}/advisories/{a.id}.html"},
        )
        ET.SubElement(entry, f"{{{ATOM}}}category", {"term": a.kind})
        ET.SubElement(
            entry, f"{{{ATOM}}}content", {"type": "text"}
        ).text = f"{a.body_vi}\n\n{a.body_en}"
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")


def notice_pdf(advisory: Advisory, province: str, now: datetime) -> bytes:
    """The printable notice: both languages, the reports engine's layout, fonts embedded."""
    context: dict[str, Any] = {
        "title": advisory.title_vi,
        "province": province,
        "generated_at": now,
        "a": advisory,
    }
    html = render_html("infowatch_notice.html", context, "vi", extra_dirs=[TEMPLATES])
    return render_pdf(html)


def publish_site(deployment: Deployment, base_url: str = "/public") -> list[Path]:
    """Write the public site again from the published advisories; returns the files written."""
    root = public_dir(deployment)
    province = deployment.units.root.name_vi
    now = deployment.now()
    with deployment.store.reader() as session:
        advisories = published(session)
        for a in advisories:
            session.expunge(a)
    env = _env()
    written = []
    context = {
        "province": province,
        "province_en": deployment.units.root.name_en,
        "advisories": advisories,
    }
    _write(root / "index.html", env.get_template("infowatch_public_index.html").render(context))
    written.append(root / "index.html")
    for a in advisories:
        page = root / "advisories" / f"{a.id}.html"
        _write(page, env.get_template("infowatch_public_advisory.html").render({**context, "a": a}))
        pdf = root / "notices" / f"{a.id}.pdf"
        if not pdf.exists():
            _write(pdf, notice_pdf(a, province, now))
        written += [page, pdf]
    _write(root / "feed.atom", atom_feed(advisories, province, base_url, now))
    written.append(root / "feed.atom")
    for stale in (root / "advisories").glob("*.html"):
        if stale not in written:
            stale.unlink()
    return written
