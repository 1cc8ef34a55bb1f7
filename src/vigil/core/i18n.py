"""Vietnamese and English: gettext catalogs, one per room (`vigil/<room>/locales/<lang>.po`).

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

import vigil

LANGUAGES = ("vi", "en")
_ROOT = Path(vigil.__file__).parent


def catalog_files(lang: str) -> list[Path]:
    return sorted(_ROOT.glob(f"*/locales/{lang}.po"))


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """Every room's catalog for `lang`, merged; unknown languages fall back to English."""
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
