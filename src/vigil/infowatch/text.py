"""Vietnamese text as the detectors read it: NFC, legacy encodings repaired, folded to ASCII.

Posts arrive composed and decomposed, as UTF-8 read through a Western code page (mojibake), in
Windows-1258, typed without diacritics or in teencode. Detectors match on `fold`: lower case,
diacritics and đ removed, teencode tokens replaced by the word they stand for, so that "Bầu cử",
"bau cu" and "bầu cử" are one text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"

#: Letters that mark UTF-8 read as Windows-1252 or Latin-1 (Vietnamese in mojibake).
_MOJIBAKE = re.compile(
    "[\u00c2-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192"
    "\u02c6\u02dc\u2013-\u2122]"
)
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def repair_mojibake(text: str) -> str:
    """UTF-8 bytes once decoded as Windows-1252/Latin-1 back to what was written; else as is."""
    if not _MOJIBAKE.search(text):
        return text
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Text of a file or field in any encoding Vietnamese sources use, and the encoding found.

    UTF-8 (with or without BOM) and UTF-16 with BOM first; then Windows-1258, the legacy
    Vietnamese code page (it combines tone marks, hence the NFC after).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return nfc(data[3:].decode("utf-8", errors="replace")), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return nfc(data.decode("utf-16", errors="replace")), "utf-16"
    try:
        return nfc(data.decode("utf-8")), "utf-8"
    except UnicodeDecodeError:
        return nfc(data.decode("cp1258", errors="replace")), "cp1258"


def clean(text: str) -> str:
    """What is stored: NFC, mojibake repaired, control characters (but line breaks) removed."""
    text = nfc(repair_mojibake(nfc(text)))
    if text.replace("\n", "").replace("\t", "").isprintable():
        return text  # no control, format, private or unassigned character (most texts)
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")


def _base_letter(c: str) -> str:
    return "".join(d for d in unicodedata.normalize("NFD", c) if not unicodedata.combining(d))


#: Every precomposed Latin letter (Vietnamese's included) to its letter without marks, built
#: once: a table lookup per character instead of a decomposition per text.
_UNMARK = {
    cp: _base_letter(chr(cp))
    for cp in (*range(0x00C0, 0x0250), *range(0x1E00, 0x1F00))
    if _base_letter(chr(cp)) != chr(cp)
}
_UNMARK.update({ord("đ"): "d", ord("Đ"): "D"})


def strip_diacritics(text: str) -> str:
    """Vietnamese letters without their marks: "Bầu cử Đà Nẵng" -> "Bau cu Da Nang"."""
    text = text.translate(_UNMARK)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFD", text)  # combining marks typed apart
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def teencode() -> dict[str, str]:
    raw = yaml.safe_load((DATA / "teencode.yaml").read_text(encoding="utf-8"))
    return {strip_diacritics(str(k)).lower(): str(v) for k, v in raw.items()}


def tokens(text: str) -> list[str]:
    """Folded word tokens (syllables, for Vietnamese) of `text`, teencode expanded."""
    table = teencode()
    lower = text.lower()
    found: list[str] = _TOKEN.findall(lower if lower.isascii() else strip_diacritics(lower))
    if table.keys().isdisjoint(found):  # most texts: no teencode to expand
        return found
    out: list[str] = []
    for token in found:
        out.extend(table.get(token, token).split())
    return out


def fold(text: str) -> str:
    """Text as the detectors match it: lower case ASCII words separated by single spaces."""
    return " ".join(tokens(text))
