"""Reading a stored voter list: its rows masked (any officer of the commune) or unmasked (a
personal-data view: VIEW_PERSONAL, audited), and its export as CSV or PDF.

Every export is audited (`registry.voters.export`), masked or not; an unmasked read also leaves
the platform's `personal.view` entry naming the fields shown.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.core.access import Actor, Permission
from vigil.core.errors import NotFoundError, ValidationError
from vigil.core.i18n import _
from vigil.core.personal import mask_birth_date, mask_citizen_id, mask_full_name
from vigil.deployment import Deployment
from vigil.registry.voters.build import latest_list
from vigil.registry.voters.models import VoterChange, VoterEntry, VoterList
from vigil.store.audit import audit
from vigil.store.personal import PERSONAL_VIEW

TEMPLATES = Path(__file__).parent / "report_templates"
FORMATS = ("csv", "pdf")
#: The columns of a CSV export, in order.
COLUMNS = (
    "polling_area", "person_id", "full_name", "birth_date", "sex", "citizen_id", "village",
    "household_id",
)  # fmt: skip
PERSONAL_COLUMNS = ("full_name", "birth_date", "citizen_id")


@dataclass(frozen=True)
class ListView:
    """A stored list as one officer may read it."""

    voter_list: VoterList
    rows: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    revealed: bool


def find_list(session: Session, actor: Actor, commune: str, version: int | None) -> VoterList:
    """The commune's list (its latest without a version); out of scope reads as not found."""
    actor.require(Permission.VIEW)
    if not actor.sees(commune):
        raise NotFoundError(f"no voter list of {commune}")
    if version is None:
        row = latest_list(session, commune)
    else:
        row = session.scalar(
            select(VoterList).where(VoterList.commune == commune, VoterList.version == version)
        )
    if row is None:
        raise NotFoundError(f"no voter list of {commune}" + (f" v{version}" if version else ""))
    return row


def _shown(entry: VoterEntry, reveal: bool) -> dict[str, Any]:
    birth = entry.birth_date.isoformat() if isinstance(entry.birth_date, date) else None
    row = {
        "polling_area": entry.polling_area, "person_id": entry.person_id,
        "full_name": entry.full_name, "birth_date": birth, "sex": entry.sex,
        "citizen_id": entry.citizen_id, "village": entry.village,
        "household_id": entry.household_id,
    }  # fmt: skip
    if not reveal:
        for key, mask in (
            ("full_name", mask_full_name),
            ("birth_date", mask_birth_date),
            ("citizen_id", mask_citizen_id),
        ):
            value = row[key]
            row[key] = mask(value) if isinstance(value, str) and value else value
    return row


def read_list(
    session: Session,
    actor: Actor,
    voter_list: VoterList,
    *,
    reveal: bool = False,
    channel: str = "web",
    area: str | None = None,
    limit: int | None = None,
) -> ListView:
    """The list's rows by polling area and person, masked unless `reveal` (audited)."""
    if reveal:
        actor.require(Permission.VIEW_PERSONAL)
        audit(
            session, actor, PERSONAL_VIEW, f"voter-list:{voter_list.id}",
            {"fields": list(PERSONAL_COLUMNS), "channel": channel, "area": area},
            voter_list.commune,
        )  # fmt: skip
    query = select(VoterEntry).where(VoterEntry.list_id == voter_list.id)
    if area:
        query = query.where(VoterEntry.polling_area == area)
    query = query.order_by(VoterEntry.polling_area, VoterEntry.person_id).limit(limit)
    rows = [_shown(e, reveal) for e in session.scalars(query)]
    changes = [
        {"person_id": c.person_id, "change": c.change, "reason": c.reason,
         "polling_area": c.polling_area}
        for c in session.scalars(
            select(VoterChange).where(VoterChange.list_id == voter_list.id)
            .order_by(VoterChange.change, VoterChange.polling_area, VoterChange.person_id)
        )
    ]  # fmt: skip
    return ListView(voter_list, rows, changes, reveal)


def area_counts(session: Session, voter_list: VoterList) -> list[tuple[str, int]]:
    rows = session.execute(
        select(VoterEntry.polling_area, func.count())
        .where(VoterEntry.list_id == voter_list.id)
        .group_by(VoterEntry.polling_area)
        .order_by(VoterEntry.polling_area)
    )
    return [(str(a), int(n)) for a, n in rows]


#: A cell starting with one of these is a formula to a spreadsheet (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> Any:
    """A value safe to open in a spreadsheet: text that would start a formula gets a leading
    apostrophe, which spreadsheets show as text."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(view: ListView) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _cell(v) for k, v in row.items()} for row in view.rows)
    return out.getvalue()


def list_html(deployment: Deployment, view: ListView, lang: str) -> str:
    """The list as a report page, by polling area (the PDF's source)."""
    from vigil.reports.lines import unit_name
    from vigil.reports.render import check_lang, render_html

    check_lang(lang)
    vl = view.voter_list
    title = _("Voter list", lang)
    areas: dict[str, list[dict[str, Any]]] = {}
    for row in view.rows:
        areas.setdefault(row["polling_area"], []).append(row)
    context = {
        "title": title,
        "province": deployment.units.root.name(lang),
        "issuer": deployment.calendar.name,
        "generated_at": deployment.now(),
        "commune": unit_name(deployment.units, vl.commune, lang),
        "vl": vl,
        "areas": [(unit_name(deployment.units, a, lang), rows) for a, rows in areas.items()],
        "revealed": view.revealed,
        "added": sum(1 for c in view.changes if c["change"] == "added"),
        "removed": sum(1 for c in view.changes if c["change"] == "removed"),
    }
    return render_html("registry_voter_list.html", context, lang, extra_dirs=[TEMPLATES])


def to_pdf(deployment: Deployment, view: ListView, lang: str) -> bytes:
    """The list on A4 pages through the reports engine (WeasyPrint)."""
    from vigil.reports.render import render_pdf

    return render_pdf(list_html(deployment, view, lang), TEMPLATES)


def export_list(
    deployment: Deployment,
    session: Session,
    actor: Actor,
    commune: str,
    fmt: str,
    *,
    version: int | None = None,
    reveal: bool = False,
    lang: str = "vi",
    area: str | None = None,
) -> bytes:
    """The list (or one polling area of it) as CSV (UTF-8) or PDF; audited, and a personal-data
    view when `reveal`."""
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; use csv or pdf")
    voter_list = find_list(session, actor, commune, version)
    view = read_list(session, actor, voter_list, reveal=reveal, channel=f"export-{fmt}", area=area)
    audit(
        session, actor, "registry.voters.export", f"voter-list:{voter_list.id}",
        {"format": fmt, "unmasked": reveal, "rows": len(view.rows), "area": area}, commune,
    )  # fmt: skip
    if fmt == "csv":
        return to_csv(view).encode("utf-8")
    return to_pdf(deployment, view, lang)
