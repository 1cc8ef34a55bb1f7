"""`lookalike-domain`: a domain that imitates an official one.

Every official domain gives brand names: its registrable name ("vietcombank" of
vietcombank.com.vn), the name of an official host under it joined ("baucubinhson" of
baucu.binhson.gov.vn) and its aliases ("vcb"). A candidate's registrable name (from the
public-suffix list bundled in tldextract) is reduced to a skeleton: punycode decoded, letters of
other scripts and look-alike digits mapped to the Latin letter they imitate ("rn" read as "m"),
diacritics and hyphens dropped. Then, in order: the same skeleton on another name (homoglyph,
IDN) or another suffix; the brand with added words around it ("-xacminh", "online", "vn"); the
official domain inside a subdomain ("vietcombank.com.vn.verify.top"); a typo (Damerau-Levenshtein
distance 1, or 2 for long names). The words, letters and scores are in `data/lookalike.yaml`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import idna
import yaml
from rapidfuzz.distance import DamerauLevenshtein

from vigil.infowatch.links import split_host
from vigil.infowatch.text import strip_diacritics

RULES = Path(__file__).parents[1] / "data" / "lookalike.yaml"


@cache
def rules() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Verdict:
    """A domain found imitating an official one, and how."""

    input: str
    domain: str
    lookalike_of: str
    technique: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "input": self.input,
            "domain": self.domain,
            "lookalike_of": self.lookalike_of,
            "technique": self.technique,
            "score": self.score,
        }


@dataclass(frozen=True)
class Brand:
    name: str  # skeleton, no hyphens
    official: str  # the official domain (registrable or host) it stands for
    suffix: str
    alias: bool


def decode_label(label: str) -> tuple[str, bool]:
    """A label as Unicode (punycode decoded), and whether it was internationalised."""
    if label.startswith("xn--"):
        try:
            return idna.decode(label), True
        except idna.IDNAError:
            try:
                return label.encode("ascii").decode("punycode"), True
            except UnicodeError:
                return label, True
    return label, not label.isascii()


def skeleton(label: str, pairs: bool = True) -> str:
    """What a name looks like: homoglyphs mapped, diacritics dropped, "rn" read as "m"."""
    table: dict[str, str] = rules()["homoglyphs"]
    text = unicodedata.normalize("NFKC", label.lower())
    text = "".join(table.get(c, c) for c in text)
    text = strip_diacritics(text).lower()
    for pair, letter in rules()["pairs"].items() if pairs else ():
        text = text.replace(pair, letter)
    return "".join(c for c in text if c.isascii() and (c.isalnum() or c == "-"))


def _segments(rest: str, words: frozenset[str]) -> bool:
    """Whether `rest` is made only of added words, digits and hyphens."""
    rest = rest.strip("-")
    if not rest:
        return True
    reachable = [True] + [False] * len(rest)
    for end in range(1, len(rest) + 1):
        for start in range(end):
            if not reachable[start]:
                continue
            piece = rest[start:end].strip("-")
            if not piece or piece in words or piece.isdigit():
                reachable[end] = True
                break
    return reachable[-1]


class LookalikeMatcher:
    """Checks domains against the official ones it was built with."""

    def __init__(self, official_domains: Iterable[str], aliases: dict[str, tuple[str, ...]]):
        self.officials: set[str] = set()
        self.brands: list[Brand] = []
        self.words = frozenset(str(w) for w in rules()["added_words"])
        self.risky = frozenset(str(s) for s in rules()["risky_suffixes"])
        self.scores: dict[str, float] = rules()["scores"]
        seen: set[tuple[str, str]] = set()
        for domain in official_domains:
            parts = split_host(domain)
            if parts is None:
                continue
            self.officials.add(parts.domain)
            self.officials.add(parts.host)
            names = [(parts.label, parts.domain, False)]
            sub = parts.host[: -len(parts.domain)].rstrip(".")
            if sub and sub != "www":
                names.append((sub.replace(".", "") + parts.label, parts.host, False))
            names += [(a, parts.domain, True) for a in aliases.get(domain, ())]
            for name, official, alias in names:
                key = skeleton(name).replace("-", "")
                if len(key) >= 2 and (key, official) not in seen:
                    seen.add((key, official))
                    self.brands.append(Brand(key, official, parts.suffix, alias))
        # Longest names first: "baucubinhson" before "binhson" when both fit.
        self.brands.sort(key=lambda b: (-len(b.name), b.alias, b.official))
        self._exact = {b.name: b for b in reversed(self.brands) if not b.alias}

    def is_official(self, host: str) -> bool:
        parts = split_host(host)
        return parts is not None and (
            parts.domain in self.officials or parts.host in self.officials
        )

    @lru_cache(maxsize=200_000)  # noqa: B019  # one matcher per run; domains repeat a lot
    def check(self, text: str) -> Verdict | None:
        """The official domain `text` (a domain, host or URL) imitates, or None."""
        host = text.strip().split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        parts = split_host(host)
        if parts is None or parts.domain in self.officials:
            return None
        label, idn = decode_label(parts.label)
        # Read with "rn" as "m" and without: a real "m" typed as "rn" and a letter typo
        # that happens to make "rn" are both lookalikes.
        names = dict.fromkeys(skeleton(label, pairs).replace("-", "") for pairs in (True, False))
        found = None
        for name in names:
            found = found or self._same(parts.label, label, name, parts.suffix, idn)
        for name in names:
            found = found or self._added(name)
        found = found or self._inside(parts.host, parts.domain)
        for name in names:
            found = found or self._typo(name, parts.suffix)
        if found is None:
            return None
        brand, technique = found
        score = self.scores[technique] + (
            self.scores["risky_suffix_bonus"] if parts.suffix in self.risky else 0.0
        )
        return Verdict(text, parts.domain, brand.official, technique, round(min(score, 1.0), 3))

    def _same(
        self, raw: str, label: str, name: str, suffix: str, idn: bool
    ) -> tuple[Brand, str] | None:
        brand = self._exact.get(name)
        if brand is None:
            return None
        if idn:
            return brand, "idn"
        if raw.replace("-", "") == brand.name and raw != brand.name:
            return brand, "hyphenation"
        if raw.replace("-", "") != brand.name:
            return brand, "homoglyph"
        return brand, "other-suffix"

    def _added(self, name: str) -> tuple[Brand, str] | None:
        for brand in self.brands:
            if len(brand.name) < 3 or brand.name == name:
                continue
            at = name.find(brand.name)
            while at >= 0:
                before, after = name[:at], name[at + len(brand.name) :]
                if _segments(before, self.words) and _segments(after, self.words):
                    return brand, "added-word"
                at = name.find(brand.name, at + 1)
        return None

    def _inside(self, host: str, domain: str) -> tuple[Brand, str] | None:
        sub = host[: -len(domain)].rstrip(".")
        if not sub:
            return None
        labels = {skeleton(p).replace("-", "") for p in sub.split(".")}
        for brand in self.brands:
            if not brand.alias and (f"{brand.official}." in f"{sub}." or brand.name in labels):
                return brand, "subdomain"
        return None

    def _typo(self, name: str, suffix: str) -> tuple[Brand, str] | None:
        typo = rules()["typo"]
        best: tuple[int, Brand] | None = None
        for brand in self.brands:
            if brand.alias or abs(len(brand.name) - len(name)) > typo["distance_long"]:
                continue
            long_name = len(brand.name) >= typo["long_name"]
            allowed = typo["distance_long"] if long_name else 1
            if len(brand.name) < typo["min_length_any_suffix"] and suffix != brand.suffix:
                continue
            distance = DamerauLevenshtein.distance(name, brand.name, score_cutoff=allowed)
            if 0 < distance <= allowed and (best is None or distance < best[0]):
                best = (distance, brand)
        if best is None:
            return None
        return best[1], "typo" if best[0] == 1 else "typo-2"
