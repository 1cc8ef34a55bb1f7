"""Vietnamese text forms: composed (NFC) for storage, and folded to ASCII as people type it."""

from __future__ import annotations

import unicodedata

# Đ/đ is a letter of its own, not D plus a combining mark, so decomposition leaves it alone.
_LETTERS = str.maketrans({"Đ": "D", "đ": "d"})


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def strip_diacritics(text: str) -> str:
    """'Nguyễn Thị Đào' -> 'Nguyen Thi Dao': the form a name takes on a keyboard without Telex."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
