"""Vietnamese names and addresses as the checks compare them: composed, spaced, and folded.

Folding removes case and diacritics (Đ is a letter of its own, folded by hand): a declaration
typed on a keyboard without Vietnamese input still names the same person.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pyarrow as pa
import pyarrow.compute as pc

_LETTERS = str.maketrans({"Đ": "D", "đ": "d"})
_SPACES = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)


def clean_text(text: str) -> str:
    """NFC, spaces collapsed, control characters dropped: how declared text is stored."""
    text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


@lru_cache(maxsize=1 << 17)
def fold(text: str) -> str:
    """'Nguyễn Thị  Đào' -> 'nguyen thi dao': the key two spellings of one name share."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.casefold()).strip()


def same_name(declared: str, recorded: str) -> bool:
    """Whether a declared name is the recorded one: letter for letter (case aside) when it was
    written with diacritics; folded when it was typed without any (the keyboard's loss, not a
    different name)."""
    if fold(declared) != fold(recorded):
        return False
    if declared.isascii():
        return True
    return clean_text(declared).casefold() == clean_text(recorded).casefold()


def fold_address(text: str) -> str:
    """An address folded, punctuation as spaces: 'Số 12, Thôn 3' == 'so 12 thon 3'."""
    return _SPACES.sub(" ", _PUNCT.sub(" ", fold(text))).strip()


def fold_column(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """`fold` over an Arrow column of text, without a Python loop per value."""
    text = pc.replace_substring(pc.replace_substring(column, "Đ", "D"), "đ", "d")
    decomposed = pc.utf8_normalize(text, form="NFD")
    bare = pc.replace_substring_regex(decomposed, r"\p{Mn}", "")
    spaced = pc.replace_substring_regex(pc.utf8_lower(bare), r"\s+", " ")
    return pc.utf8_trim_whitespace(spaced)
