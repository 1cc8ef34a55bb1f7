"""The information watch's bulk paths give exactly what the plain ones give: MinHash signatures
and LSH candidates equal to datasketch's, the pattern gate never skipping a pattern that
matches, the campaign detector's pairs in datasketch's order."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.infowatch.demo.stream import CLAIMS, FALSE_POSTS, SCAMS
from vigil.infowatch.detect import behaviour
from vigil.infowatch.detect.behaviour import behaviour_rules, find_campaigns
from vigil.infowatch.detect.claims import ClaimMatcher, word_features
from vigil.infowatch.detect.gate import PatternGate, regex_starts
from vigil.infowatch.detect.nearcopies import (
    Bands,
    _datasketch,
    seconds_since,
    shingle_lists,
    signatures,
)
from vigil.infowatch.detect.scam import scam_rules
from vigil.infowatch.text import fold

WORDS = [
    "hom",
    "nay",
    "troi",
    "dep",
    "di",
    "cho",
    "mua",
    "rau",
    "ca",
    "thit",
    "ban",
    "be",
    "cafe",
    "sang",
    "chieu",
    "toi",
    "phim",
]


def _texts(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    base = [fold(t.format(lookalike="vcb-online.com")) for t in SCAMS]
    out = []
    for _ in range(n):
        if rng.random() < 0.3:
            words = rng.choice(base).split()
            words[rng.randrange(len(words))] = rng.choice(WORDS)
        else:
            words = [rng.choice(WORDS) for _ in range(rng.randint(8, 25))]
        out.append(words)
    return out


@pytest.mark.parametrize(("shingle", "num_perm"), [(2, 64), (3, 128), (1, 16)])
def test_signatures_equal_datasketch(shingle: int, num_perm: int) -> None:
    shingles = shingle_lists(_texts(600, shingle), shingle)
    assert np.array_equal(signatures(shingles, num_perm), _datasketch(shingles, num_perm))


def test_signatures_of_empty_lists_equal_datasketch() -> None:
    shingles = [[], ["a b"], [], ["b c", "c d"]]
    assert np.array_equal(signatures(shingles, 32), _datasketch(shingles, 32))
    assert np.array_equal(signatures([[]], 32), _datasketch([[]], 32))


def test_shingles_as_datasketch_is_given_them() -> None:
    assert shingle_lists([["a", "b", "c"]], 2) == [["a b", "b c"]]
    assert shingle_lists([["a", "b", "c"]], 3) == [["a b c"]]


def test_bands_query_equals_minhashlsh_query() -> None:
    """Same candidates, same order, for every post (the order decides the graph's node order)."""
    shingles = shingle_lists(_texts(800, 9), 2)
    sig = signatures(shingles, 64)
    keys = list(range(5, 5 + 3 * len(shingles), 3))
    bands = Bands(sig, keys, 0.5)
    found = _datasketch(shingles, 64)
    lsh = MinHashLSH(threshold=0.5, num_perm=64)
    hashes = [MinHash(num_perm=64, hashvalues=h, scheme=MinHash(num_perm=64).scheme) for h in found]
    for key, h in zip(keys, hashes, strict=True):
        lsh.insert(key, h)
    for position, h in enumerate(hashes):
        assert list(bands.query(position)) == lsh.query(h)
    mates = set(bands.later_mates(None, 0.0).tolist())
    for position, h in enumerate(hashes):
        later = [k for k in lsh.query(h) if k > keys[position]]
        assert (position in mates) == bool(later)


def test_seconds_since_needs_order() -> None:
    t = datetime(2027, 3, 4, 8)
    assert seconds_since([t, t + timedelta(seconds=90)]).tolist() == [0.0, 90.0]  # type: ignore[union-attr]
    assert seconds_since([t, t - timedelta(seconds=1)]) is None


def _one_by_one(rows: list[dict[str, Any]], cfg: dict[str, Any], edges: Any) -> None:
    """The near-duplicate pairs as datasketch finds them post by post (the plain way)."""
    window = timedelta(minutes=cfg["window_minutes"])
    kept = [i for i, r in enumerate(rows) if len(fold(r["text"]).split()) >= cfg["min_tokens"]]
    shingles = shingle_lists([fold(rows[i]["text"]).split() for i in kept], cfg["shingle"])
    hashes = MinHash.bulk([[s.encode() for s in one] for one in shingles], num_perm=cfg["num_perm"])
    lsh = MinHashLSH(threshold=cfg["lsh_threshold"], num_perm=cfg["num_perm"])
    for i, h in zip(kept, hashes, strict=True):
        lsh.insert(i, h)
    for i, h in zip(kept, hashes, strict=True):
        for j in lsh.query(h):
            a, b = rows[i], rows[j]
            if (
                j > i
                and a["account_id"] != b["account_id"]
                and abs(a["created_at"] - b["created_at"]) <= window
            ):
                edges.add(a["account_id"], b["account_id"], "near-duplicate", (i, j))


def test_campaigns_found_in_bulk_as_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream with copies pushed by groups of accounts (some large enough to be split into
    communities): the campaigns, accounts, posts, signals and edges are those found with
    datasketch's index post by post."""
    rng = random.Random(3)
    start = datetime(2027, 3, 4)
    rows = []
    for i, words in enumerate(_texts(3000, 4)):
        rows.append(
            {
                "platform": "facebook",
                "post_id": f"p{i}",
                "account_id": f"g{i % 5}_{rng.randint(0, 15)}" if i % 3 == 0 else f"u{i}",
                "text": " ".join(words),
                "created_at": start + timedelta(seconds=20 * i),
                "links": [],
                "account_created_at": None,
            }
        )
    bulk = [c.as_dict() for c in find_campaigns(rows)]
    monkeypatch.setattr(behaviour, "_near_duplicates", _one_by_one)
    plain = [c.as_dict() for c in find_campaigns(rows)]
    assert len(bulk) >= 3
    assert max(len(c["accounts"]) for c in bulk) > 3 * behaviour_rules()["campaign"]["min_accounts"]
    assert bulk == plain
    assert [list(c["signals"]) for c in bulk] == [list(c["signals"]) for c in plain]


def test_gate_derives_the_starts_of_a_pattern() -> None:
    assert regex_starts("(mat |le )?phi (bau cu|cu tri)") == {
        "mat phi bau cu",
        "mat phi cu tri",
        "le phi bau cu",
        "le phi cu tri",
        "phi bau cu",
        "phi cu tri",
    }
    assert regex_starts(r"vay (tien )?\d+") == {"vay tien ", "vay "}
    assert regex_starts(r"\d+ trieu") is None  # no plain text to start with
    assert regex_starts("(a|b*)c") is None


@pytest.mark.parametrize("automaton", [True, False])
def test_gate_skips_no_pattern_that_matches(automaton: bool) -> None:
    regexes = [p.regex.pattern for p in scam_rules().patterns] + [r"\d+ trieu"]
    gate = PatternGate(regexes, automaton=automaton)
    compiled = [re.compile(r) for r in regexes]
    texts = [fold(t.format(lookalike="x.com")) for t in SCAMS] + [fold(t) for _, t in FALSE_POSTS]
    texts += [" ".join(w) for w in _texts(300, 1)] + ["", "re", "vay 30 trieu ngay"]
    for text in texts:
        matching = [k for k, r in enumerate(compiled) if r.search(text)]
        candidates = gate.candidates(text)
        assert set(matching) <= set(candidates), text
        assert candidates == sorted(candidates)
    assert len(regexes) - 1 in gate.candidates("hom nay")  # the pattern without a start


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(sorted(set(" ".join(fold(t) for t in SCAMS).split()))), max_size=30)
)
def test_gate_on_any_mix_of_scam_words(words: list[str]) -> None:
    rules = scam_rules()
    text = " ".join(words)
    matching = [k for k, p in enumerate(rules.patterns) if p.regex.search(text)]
    assert set(matching) <= set(rules.gate.candidates(text))


CLAIM_WORDS = sorted({w for _, t in FALSE_POSTS for w in fold(t).split()} | {"la", "va", "pho"})


@cache
def _claims() -> ClaimMatcher:
    return ClaimMatcher((k, k, v) for k, v in CLAIMS.items())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(CLAIM_WORDS), max_size=40))
def test_claim_matcher_builds_only_the_features_that_score(words: list[str]) -> None:
    matcher = _claims()
    assert set(matcher.known_words(words)) == matcher.vocabulary & set(word_features(words))


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_clean_quick_path_as_the_character_filter(text: str) -> None:
    import unicodedata

    from vigil.infowatch.text import clean, nfc, repair_mojibake

    kept = nfc(repair_mojibake(nfc(text)))
    plain = "".join(c for c in kept if c in "\n\t" or unicodedata.category(c)[0] != "C")
    assert clean(text) == plain
