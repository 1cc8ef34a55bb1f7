"""The duty room's Vietnamese catalog: complete, covering every stored value it shows and every
string of its pages, dashboard panels and reports."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import vigil.cases
from vigil.cases.detectors import GAP_TITLE, OVERDUE_TITLE
from vigil.cases.models import CaseStatus, EventKind, ShiftRole
from vigil.cases.reports import daily, handover
from vigil.cases.triage import MERGE_NOTE
from vigil.core.i18n import _

ROOM = Path(vigil.cases.__file__).parent
CATALOG = ROOM / "locales" / "vi.po"


def test_every_message_has_a_vietnamese_translation() -> None:
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    messages = [m for m in catalog if m.id]
    assert len(messages) > 100
    assert [m.id for m in messages if not m.string] == []
    # Placeholders survive translation, or formatting the Vietnamese text would fail (a plural
    # has one Vietnamese form for its English two).
    for m in messages:
        english = m.id if isinstance(m.id, tuple) else (m.id,)
        vietnamese = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = {p for text in english for p in _placeholders(str(text))}
        for text in vietnamese:
            assert set(_placeholders(str(text))) == wanted, m.id


def _placeholders(text: str) -> list[str]:
    return re.findall(r"%\((\w+)\)s", text)


def _catalog() -> dict[str, str]:
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    return {
        str(m.id[0] if isinstance(m.id, tuple) else m.id): str(
            m.string[0] if isinstance(m.string, tuple) else m.string
        )
        for m in catalog
        if m.id
    }


def _used_msgids() -> dict[str, str]:
    """msgid -> where: the room's Python code, page and panel templates, report templates."""
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {
        "**/templates/**.html": {
            "extensions": "jinja2.ext.i18n",
            "newstyle_gettext": "true",
            "trim_blocks": "true",
        }
    }
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOM), method_map, options_map=options
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, f"{filename}:{lineno}")
    for constant in (handover.TITLE, daily.TITLE):
        found.setdefault(constant, "a report's title")
    return found


def test_every_string_of_the_pages_and_reports_has_a_vietnamese_translation() -> None:
    used = _used_msgids()
    # The extraction really saw the pages (alerts.html), the panels and the reports.
    assert {"Escalate to case", "New findings, last %(n)s days", "Top open alerts"} <= set(used)
    catalog = _catalog()
    missing = {msgid: where for msgid, where in used.items() if not catalog.get(msgid)}
    assert missing == {}


def test_vietnamese_report_titles_and_labels() -> None:
    catalog = _catalog()
    assert catalog["Shift handover report"] == "Báo cáo bàn giao ca trực"
    assert catalog["Daily situation report"] == "Báo cáo tình hình hằng ngày"
    assert (catalog["New alerts"], catalog["Open cases"], catalog["Overdue"]) == (
        "Cảnh báo mới",
        "Vụ việc đang mở",
        "Quá hạn",
    )


def test_stored_values_and_generated_texts_translate() -> None:
    values = (
        [s.value for s in CaseStatus] + [k.value for k in EventKind] + [r.value for r in ShiftRole]
    )
    values += [GAP_TITLE, OVERDUE_TITLE, MERGE_NOTE, "(no shift on the roster)"]
    untranslated = [v for v in values if _(v, "vi") == v]
    assert untranslated == []
    assert _("in_progress", "vi") == "đang xử lý"
    assert _(GAP_TITLE, "vi") % {"interval": "x"} == "Không có cán bộ trực x"
