"""Vietnamese and English: gettext catalogs, the frame's and one per registered room.

English is the source language (msgids); Vietnamese is the default of the demo. Catalogs are
compiled in memory at first use, so no build step is needed.
"""

from __future__ import annotations

import gettext
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from vigil.core.errors import Term, VigilError
from vigil.plugins import locale_folders

LANGUAGES = ("vi", "en")
_PACKAGE = Path(__file__).resolve().parents[1]
#: The frame's own catalogs, named rather than found: the shared vocabulary (core) and the web
#: frame's pages (web). Every room's come through its `vigil_locales` hook.
FRAME_LOCALES = (_PACKAGE / "core" / "locales", _PACKAGE / "web" / "locales")


def catalog_files(lang: str) -> list[Path]:
    """The `<lang>.po` of the frame, then of each registered room in registration order (where
    two give the same message, the later one's translation is used)."""
    folders = [*FRAME_LOCALES, *locale_folders()]
    return [path for folder in folders if (path := folder / f"{lang}.po").is_file()]


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The frame's and every registered room's catalog for `lang`, merged; unknown languages
    fall back to English."""
    if lang not in LANGUAGES or lang == "en":
        return gettext.NullTranslations()
    merged: Translations | None = None
    for path in catalog_files(lang):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=lang)
        buf = BytesIO()
        write_mo(buf, catalog)
        buf.seek(0)
        part = Translations(buf, domain="vigil")
        merged = part if merged is None else merged.merge(part)
    return merged or gettext.NullTranslations()


def gettext_for(lang: str) -> gettext.NullTranslations:
    return translations(lang)


def _(message: str, lang: str) -> str:
    """Translate one message now (for code outside templates)."""
    return translations(lang).gettext(message)


def error_text(error: VigilError, lang: str) -> str:
    """An error's message in `lang`: its msgid translated, then its fields filled in (those that
    are a `Term` translated too)."""
    text = _(error.template, lang)
    if not error.params:
        return text
    params = {k: _(v, lang) if isinstance(v, Term) else v for k, v in error.params.items()}
    try:
        return text % params
    except (KeyError, ValueError, TypeError):  # a translation that lost a field: say it in English
        return error.message
