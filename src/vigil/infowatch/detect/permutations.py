"""Lookalikes of a domain, generated the way typosquatters make them (in the spirit of dnstwist,
written here): omission, insertion and replacement of keyboard neighbours, repetition,
transposition, vowel swap, bit flips, hyphenation, homoglyphs (as IDN), added words, other
public suffixes, the official domain inside a subdomain. Used to test and measure
`lookalike-domain`."""

from __future__ import annotations

from collections.abc import Iterator

import idna

from vigil.infowatch.detect.lookalike import rules
from vigil.infowatch.links import split_host

KEYBOARD = {
    "q": "wa", "w": "qase", "e": "wsdr", "r": "edft", "t": "rfgy", "y": "tghu", "u": "yhji",
    "i": "ujko", "o": "iklp", "p": "ol", "a": "qwsz", "s": "awedxz", "d": "serfcx",
    "f": "drtgvc", "g": "ftyhbv", "h": "gyujnb", "j": "huikmn", "k": "jiolm", "l": "kop",
    "z": "asx", "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
    "1": "2q", "2": "13w", "3": "24e", "4": "35r", "5": "46t", "6": "57y", "7": "68u",
    "8": "79i", "9": "80o", "0": "9p",
}  # fmt: skip
VOWELS = "aeiouy"
SUFFIXES = ("com", "net", "org", "vn", "com.vn", "net.vn", "top", "xyz", "online", "site", "info")
WORDS = ("xacminh", "online", "vn", "login", "support", "cskh", "capnhat", "khuyenmai", "app")
#: Unicode letters that look like Latin ones (a subset of the detector's table, reversed).
GLYPHS = {"a": "аɑ", "c": "с", "e": "е", "i": "і", "o": "оο", "p": "р", "x": "х", "y": "у",
          "s": "ѕ", "l": "ӏ", "d": "ԁ"}  # fmt: skip
_VALID = set("abcdefghijklmnopqrstuvwxyz0123456789-")


def _labels(name: str) -> Iterator[str]:
    n = len(name)
    for i in range(n):
        yield name[:i] + name[i + 1 :]  # omission
        yield name[:i] + name[i] + name[i:]  # repetition
        if i < n - 1:
            yield name[:i] + name[i + 1] + name[i] + name[i + 2 :]  # transposition
        for c in KEYBOARD.get(name[i], ""):
            yield name[:i] + c + name[i + 1 :]  # replacement
            yield name[:i] + c + name[i:]  # insertion before
            yield name[: i + 1] + c + name[i + 1 :]  # insertion after
        if name[i] in VOWELS:
            for v in VOWELS:
                yield name[:i] + v + name[i + 1 :]  # vowel swap
        for bit in range(8):
            flipped = chr(ord(name[i]) ^ (1 << bit))
            if flipped.isascii() and flipped.lower() == flipped and flipped in _VALID:
                yield name[:i] + flipped + name[i + 1 :]  # bitsquatting
        if i > 0:
            yield name[:i] + "-" + name[i:]  # hyphenation


def _valid(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and set(label) <= _VALID
        and not label.startswith("-")
        and not label.endswith("-")
    )


def permutations(domain: str) -> set[str]:
    """Lookalike domains of `domain` (the domain itself and other official ones not excluded)."""
    parts = split_host(domain)
    if parts is None:
        return set()
    name, suffix = parts.label, parts.suffix
    out = {f"{label}.{suffix}" for label in _labels(name) if _valid(label) and label != name}
    for i, c in enumerate(name):
        for glyph in GLYPHS.get(c, ""):
            try:
                out.add(
                    idna.encode(f"{name[:i]}{glyph}{name[i + 1 :]}.{suffix}", uts46=True).decode()
                )
            except idna.IDNAError:
                continue
    for word in WORDS:
        out |= {f"{name}-{word}.{suffix}", f"{name}{word}.com", f"{word}-{name}.{suffix}"}
    out |= {f"{name}.{s}" for s in SUFFIXES if s != suffix}
    out |= {f"{parts.host}.{w}.top" for w in WORDS[:3]}
    out |= {f"{name}.{w}.xyz" for w in WORDS[:2]}
    assert rules()  # the detector's data is loaded alongside
    return out
