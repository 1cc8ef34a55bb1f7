"""Vietnamese text as the registry keeps and compares it: names, dates of birth, ID numbers.

Stored text is composed (NFC). For comparing, a name is also folded to lower-case ASCII, the
form it takes on a keyboard without Telex ("Nguyễn Thị Đào" -> "nguyen thi dao"), and split into
family, middle and given names (Vietnamese order: family name first, given name last).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

# Đ/đ is a letter of its own, not D plus a combining mark, so decomposition leaves it alone.
_LETTERS = str.maketrans({"Đ": "D", "đ": "d"})
_SPACES = re.compile(r"\s+")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def strip_diacritics(text: str) -> str:
    """'Nguyễn Thị Đào' -> 'Nguyen Thi Dao': the form a name takes on a keyboard without Telex."""
    decomposed = unicodedata.normalize("NFD", text.translate(_LETTERS))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Lower-case ASCII with single spaces: what two spellings of one name share."""
    return _SPACES.sub(" ", strip_diacritics(nfc(text)).lower()).strip()


def normalise_name(text: str | None) -> str | None:
    """A name as stored: NFC, single spaces, each word capitalised; None when empty.

    Capitals matter because legacy encodings (TCVN3) cannot write a capital letter with a tone
    mark: such files carry the lower-case letter, and this puts the capital back.
    """
    if text is None:
        return None
    words = _SPACES.sub(" ", nfc(text)).strip().split(" ")
    name = " ".join(w[:1].upper() + w[1:].lower() for w in words if w)
    return nfc(name) or None


#: A well-formed name: two or more words of letters (an apostrophe or hyphen inside a word).
_NAME_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")


def name_problem(text: str | None) -> str | None:
    """Why a stored name is not well formed, or None."""
    if text is None or not text.strip():
        return None  # missing is the required-field rule's business
    words = text.split(" ")
    if any(not _NAME_WORD.fullmatch(w) for w in words):
        return "characters"
    if len(words) < 2:
        return "one_word"
    return None


@dataclass(frozen=True)
class NameParts:
    family: str | None
    middle: str | None
    given: str | None


def split_name(text: str | None) -> NameParts:
    """Family name first, given name last, what lies between is the middle name."""
    words = _SPACES.sub(" ", nfc(text or "")).strip().split(" ")
    words = [w for w in words if w]
    if not words:
        return NameParts(None, None, None)
    if len(words) == 1:
        return NameParts(None, None, words[0])
    return NameParts(words[0], " ".join(words[1:-1]) or None, words[-1])


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DMY = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_birth_date(text: str | date | None) -> date | None:
    """A date of birth as records write it: 1987-05-12, 12/05/1987 (day first), 19870512.

    None for an empty value; ValueError naming the text for anything else.
    """
    if text is None or isinstance(text, date):
        return text
    value = nfc(text).strip()
    if not value:
        return None
    value = value.split("T")[0].split(" ")[0]
    if m := _ISO.fullmatch(value):
        year, month, day = m.groups()
    elif m := _DMY.fullmatch(value):
        day, month, year = m.groups()
    elif m := _COMPACT.fullmatch(value):
        year, month, day = m.groups()
    else:
        raise ValueError(f"not a date: {text!r}")
    try:
        return date(int(year), int(month), int(day))
    except ValueError as e:
        raise ValueError(f"not a date: {text!r} ({e})") from e


_ID_NOISE = re.compile(r"[\s.\-]")


def normalise_citizen_id(text: str | int | None) -> str | None:
    """A citizen ID as typed (spaces, dots, dashes; a spreadsheet that ate the leading zero)
    to its digits; anything that is not only digits is kept as typed, for the rules to judge."""
    if text is None:
        return None
    if isinstance(text, int):
        return str(text).zfill(12)  # a number column drops every leading zero
    value = _ID_NOISE.sub("", nfc(text))
    if not value:
        return None
    if value.isascii() and value.isdigit() and len(value) == 11:
        return "0" + value  # a number column drops the zero every province code starts with
    return value
