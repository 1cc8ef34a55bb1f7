"""Text encodings of registry extracts: UTF-8, UTF-16 and the legacy Vietnamese TCVN3 and VNI.

Offices still export from software of the 1990s: TCVN3 (also called ABC; one byte a letter,
fonts named .VnTime) and VNI (VNI-Windows; a base letter followed by a byte for its marks, read
in a Western code page). Detection: a byte-order mark says UTF-16 or UTF-8; text that decodes
as UTF-8 is UTF-8; otherwise the bytes tell the two legacy encodings apart: TCVN3 puts most
Vietnamese letters in 0xA1-0xBF and as single bytes in 0xC6-0xFE, while VNI never uses
0xA1-0xBF and follows a vowel with a mark byte (0xC0-0xFF). Every result is NFC.

TCVN3 has no capital letters with tone marks (a capital font was used instead); such letters
arrive lower-case, and the importer capitalises names (`text.normalise_name`).
"""

from __future__ import annotations

import codecs
import unicodedata
from dataclasses import dataclass
from itertools import pairwise

from vigil.registry.errors import RegistryError

UTF8, UTF16, TCVN3, VNI = "utf-8", "utf-16", "tcvn3", "vni"

# TCVN3 (TCVN 5712:1993, VN3): byte -> letter.
_TCVN3 = {
    0xA1: "Ă", 0xA2: "Â", 0xA3: "Ê", 0xA4: "Ô", 0xA5: "Ơ", 0xA6: "Ư", 0xA7: "Đ",
    0xA8: "ă", 0xA9: "â", 0xAA: "ê", 0xAB: "ô", 0xAC: "ơ", 0xAD: "ư", 0xAE: "đ",
    0xB5: "à", 0xB6: "ả", 0xB7: "ã", 0xB8: "á", 0xB9: "ạ",
    0xBB: "ằ", 0xBC: "ẳ", 0xBD: "ẵ", 0xBE: "ắ", 0xC6: "ặ",
    0xC7: "ầ", 0xC8: "ẩ", 0xC9: "ẫ", 0xCA: "ấ", 0xCB: "ậ",
    0xCC: "è", 0xCE: "ẻ", 0xCF: "ẽ", 0xD0: "é", 0xD1: "ẹ",
    0xD2: "ề", 0xD3: "ể", 0xD4: "ễ", 0xD5: "ế", 0xD6: "ệ",
    0xD7: "ì", 0xD8: "ỉ", 0xDC: "ĩ", 0xDD: "í", 0xDE: "ị",
    0xDF: "ò", 0xE1: "ỏ", 0xE2: "õ", 0xE3: "ó", 0xE4: "ọ",
    0xE5: "ồ", 0xE6: "ổ", 0xE7: "ỗ", 0xE8: "ố", 0xE9: "ộ",
    0xEA: "ờ", 0xEB: "ở", 0xEC: "ỡ", 0xED: "ớ", 0xEE: "ợ",
    0xEF: "ù", 0xF1: "ủ", 0xF2: "ũ", 0xF3: "ú", 0xF4: "ụ",
    0xF5: "ừ", 0xF6: "ử", 0xF7: "ữ", 0xF8: "ứ", 0xF9: "ự",
    0xFA: "ỳ", 0xFB: "ỷ", 0xFC: "ỹ", 0xFD: "ý", 0xFE: "ỵ",
}  # fmt: skip
_TCVN3_DECODE = {byte: letter for byte, letter in _TCVN3.items()}
_TCVN3_ENCODE = {letter: byte for byte, letter in _TCVN3.items()}

# VNI: a letter's marks as the byte after it (lower-case marks / upper-case marks).
_VNI_TONES = {"\u0301": "ù", "\u0300": "ø", "\u0309": "û", "\u0303": "õ", "\u0323": "ï"}
_VNI_TONES_UPPER = {"\u0301": "Ù", "\u0300": "Ø", "\u0309": "Û", "\u0303": "Õ", "\u0323": "Ï"}
# Circumflex (â ê ô) and breve (ă) combined with a tone: one byte for both marks.
_VNI_HAT = {"": "â", "\u0301": "á", "\u0300": "à", "\u0309": "å", "\u0303": "ã", "\u0323": "ä"}
_VNI_BREVE = {"": "ê", "\u0301": "é", "\u0300": "è", "\u0309": "ú", "\u0303": "ü", "\u0323": "ë"}
# Letters of their own in VNI (one byte): ơ ư đ and the i's.
_VNI_SINGLE = {"ơ": "ô", "ư": "ö", "đ": "ñ", "Ơ": "Ô", "Ư": "Ö", "Đ": "Ñ"}
_VNI_I = {"í": "í", "ì": "ì", "ỉ": "æ", "ĩ": "ó", "ị": "ò",
          "Í": "Í", "Ì": "Ì", "Ỉ": "Æ", "Ĩ": "Ó", "Ị": "Ò"}  # fmt: skip


def _vni_letter(ch: str) -> str:
    """One NFC letter in VNI, as text in the Windows-1252 view of its bytes."""
    if ch in _VNI_I:
        return _VNI_I[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    tone = next((m for m in marks if m in _VNI_TONES), "")
    shape = next((m for m in marks if m in ("\u0302", "\u0306", "\u031b")), "")
    upper = base.isupper()
    if shape == "\u031b":  # horn: ơ ư are letters of their own
        own = _VNI_SINGLE[unicodedata.normalize("NFC", base + shape)]
        return own + ((_VNI_TONES_UPPER if upper else _VNI_TONES)[tone] if tone else "")
    if shape:
        table = _VNI_HAT if shape == "\u0302" else _VNI_BREVE
        mark = table[tone]
        return base + (mark.upper() if upper else mark)
    if tone:
        return base + (_VNI_TONES_UPPER if upper else _VNI_TONES)[tone]
    return _VNI_SINGLE.get(ch, ch)


def _vni_decode_table() -> dict[str, str]:
    """VNI sequences (1252 view) -> NFC letters, longest first when matching."""
    table: dict[str, str] = {}
    for code in range(0x00C0, 0x1EFA):
        ch = chr(code)
        vowel = ch.isalpha() and unicodedata.normalize("NFD", ch)[0] in "aeiouyAEIOUYdD"
        if not vowel and ch not in _VNI_SINGLE:
            continue
        try:
            encoded = _vni_letter(ch)
        except (KeyError, IndexError):
            continue
        if encoded != ch and encoded.encode("cp1252", "strict"):
            table.setdefault(encoded, ch)
    return table


_VNI_DECODE = _vni_decode_table()
_VNI_KEYS = sorted(_VNI_DECODE, key=len, reverse=True)


def encode_tcvn3(text: str) -> bytes:
    """TCVN3 bytes of `text` (capitals with tone marks written lower-case, as TCVN3 does)."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        if ch in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[ch])
        elif ch.lower() in _TCVN3_ENCODE:
            out.append(_TCVN3_ENCODE[ch.lower()])
        elif ord(ch) < 0x80:
            out.append(ord(ch))
        else:
            raise RegistryError(f"{ch!r} cannot be written in TCVN3")
    return bytes(out)


def decode_tcvn3(data: bytes) -> str:
    return unicodedata.normalize(
        "NFC", "".join(_TCVN3_DECODE.get(b, chr(b)) if b >= 0x80 else chr(b) for b in data)
    )


def encode_vni(text: str) -> bytes:
    encoded = "".join(_vni_letter(ch) if ord(ch) >= 0x80 else ch for ch in nfc_text(text))
    return encoded.encode("cp1252")


def decode_vni(data: bytes) -> str:
    text = data.decode("cp1252", errors="replace")
    out, i = [], 0
    while i < len(text):
        for key in _VNI_KEYS[:]:
            if text.startswith(key, i):
                out.append(_VNI_DECODE[key])
                i += len(key)
                break
        else:
            out.append(text[i])
            i += 1
    return unicodedata.normalize("NFC", "".join(out))


def nfc_text(text: str) -> str:
    return unicodedata.normalize("NFC", text)


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str


def _legacy_scores(data: bytes) -> tuple[int, int]:
    tcvn = sum(1 for b in data if 0xA1 <= b <= 0xBF)
    vowels = b"aeiouyAEIOUY"
    vni = sum(1 for a, b in pairwise(data) if a in vowels and 0xC0 <= b <= 0xFF)
    return tcvn, vni


def decode(data: bytes, source: str = "") -> Decoded:
    """The text of an extract, NFC, and which encoding it was in."""
    for bom, name in ((codecs.BOM_UTF8, UTF8), (codecs.BOM_UTF16_LE, UTF16),
                      (codecs.BOM_UTF16_BE, UTF16)):  # fmt: skip
        if data.startswith(bom):
            codec = "utf-8-sig" if name == UTF8 else "utf-16"
            try:
                return Decoded(nfc_text(data.decode(codec)), name)
            except UnicodeDecodeError as e:
                raise RegistryError(f"{source}: broken {name} at byte {e.start}") from e
    try:
        return Decoded(nfc_text(data.decode("utf-8")), UTF8)
    except UnicodeDecodeError:
        pass
    tcvn, vni = _legacy_scores(data)
    if tcvn == 0 and vni == 0:
        raise RegistryError(
            f"{source}: not UTF-8, UTF-16, TCVN3 or VNI text; save it as UTF-8 and import again"
        )
    if tcvn >= vni:
        return Decoded(decode_tcvn3(data), TCVN3)
    return Decoded(decode_vni(data), VNI)
