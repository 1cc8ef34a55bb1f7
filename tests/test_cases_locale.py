"""The duty room's Vietnamese catalog: complete, and covering every stored value it shows."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

import vigil.cases
from vigil.cases.detectors import GAP_TITLE, OVERDUE_TITLE
from vigil.cases.models import CaseStatus, EventKind, ShiftRole
from vigil.cases.triage import MERGE_NOTE
from vigil.core.i18n import _

CATALOG = Path(vigil.cases.__file__).parent / "locales" / "vi.po"


def test_every_message_has_a_vietnamese_translation() -> None:
    with CATALOG.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    messages = [m for m in catalog if m.id]
    assert len(messages) > 100
    assert [m.id for m in messages if not m.string] == []
    # Placeholders survive translation, or formatting the Vietnamese text would fail.
    for m in messages:
        assert sorted(_placeholders(str(m.id))) == sorted(_placeholders(str(m.string))), m.id


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"%\((\w+)\)s", text)


def test_stored_values_and_generated_texts_translate() -> None:
    values = (
        [s.value for s in CaseStatus] + [k.value for k in EventKind] + [r.value for r in ShiftRole]
    )
    values += [GAP_TITLE, OVERDUE_TITLE, MERGE_NOTE, "(no shift on the roster)"]
    untranslated = [v for v in values if _(v, "vi") == v]
    assert untranslated == []
    assert _("in_progress", "vi") == "đang xử lý"
    assert _(GAP_TITLE, "vi") % {"interval": "x"} == "Không có cán bộ trực x"
