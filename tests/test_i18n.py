"""Every room's Vietnamese catalog: parseable, complete, and no term translated two ways."""

from __future__ import annotations

from collections import defaultdict

from babel.messages.pofile import read_po

from vigil.core.i18n import _, catalog_files


def test_same_english_term_has_one_vietnamese_translation() -> None:
    seen: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in catalog_files("vi"):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="vi")
        for message in catalog:
            if message.id and isinstance(message.id, str) and message.string:
                seen[message.id][str(message.string)].append(path.parent.parent.name)
    conflicts = {msgid: dict(t) for msgid, t in seen.items() if len(t) > 1}
    assert conflicts == {}


def test_every_catalog_entry_is_translated() -> None:
    untranslated = []
    for path in catalog_files("vi"):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="vi")
        untranslated += [f"{path}: {m.id}" for m in catalog if m.id and not m.string]
    assert untranslated == []


def test_core_terms() -> None:
    assert _("critical", "vi") == "nghiêm trọng"
    assert _("critical", "en") == "critical"
    assert _("no such message", "vi") == "no such message"
