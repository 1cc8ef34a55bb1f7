"""`false-claim`: a post that repeats a false claim about voting from the fact sheet.

Lexical and model-free: texts are folded (no diacritics, teencode expanded), then read two ways
that catch different paraphrases: words (syllables and syllable bigrams, which approximate
Vietnamese compound words) scored with BM25, and character 4-grams scored with TF-IDF cosine
(robust to spelling, missing spaces and inflection in English). Each of a fact's false claims
and its own text is a document; a post is a false claim when its best claim scores at least
`threshold` and beats the fact's own wording by `margin` (restating the truth is no claim).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from vigil.infowatch.text import tokens

#: Syllables that say nothing about which fact a text is about (Vietnamese and English).
STOPWORDS = frozenset(
    [
        "la",
        "va",
        "cua",
        "co",
        "cac",
        "nhung",
        "mot",
        "duoc",
        "cho",
        "trong",
        "voi",
        "thi",
        "ma",
        "o",
        "de",
        "nay",
        "do",
        "nhe",
        "nha",
        "roi",
        "a",
        "oi",
        "the",
        "a",
        "an",
        "of",
        "to",
        "in",
        "is",
        "are",
        "be",
        "and",
        "or",
        "for",
        "on",
        "at",
        "it",
        "this",
        "that",
        "with",
        "as",
        "by",
        "from",
    ]
)


def word_features(folded_tokens: Sequence[str]) -> Counter[str]:
    kept = [t for t in folded_tokens if t not in STOPWORDS]
    features: Counter[str] = Counter(kept)
    features.update(f"{a}_{b}" for a, b in itertools.pairwise(folded_tokens))
    return features


def char_features(folded_tokens: Sequence[str], n: int = 4) -> Counter[str]:
    text = " " + " ".join(folded_tokens) + " "
    return Counter(text[i : i + n] for i in range(len(text) - n + 1))


class Bm25:
    """Okapi BM25 over bags of features with an inverted index (few documents, many queries)."""

    def __init__(self, docs: Sequence[Counter[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.n = len(docs)
        self.lengths = [sum(d.values()) for d in docs]
        self.avg = (sum(self.lengths) / self.n) if self.n else 1.0
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        self.idf = {t: math.log(1 + (self.n - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, d in enumerate(docs):
            norm = k1 * (1 - b + b * self.lengths[i] / self.avg)
            for t, tf in d.items():
                self.postings[t].append((i, self.idf[t] * tf * (k1 + 1) / (tf + norm)))
        self.self_scores = [self.scores(d).get(i, 0.0) or 1.0 for i, d in enumerate(docs)]

    def scores(self, query: Counter[str] | Iterable[str]) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for t in set(query):
            for i, w in self.postings.get(t, ()):
                out[i] += w
        return out


#: 1 + log(tf) of the small term counts, computed once.
_SUBLINEAR = [0.0] + [1 + math.log(tf) for tf in range(1, 64)]


def _sublinear(tf: int) -> float:
    return _SUBLINEAR[tf] if tf < len(_SUBLINEAR) else 1 + math.log(tf)


class Tfidf:
    """TF-IDF (sublinear tf) cosine of a query against a few documents."""

    def __init__(self, docs: Sequence[Counter[str]]) -> None:
        n = len(docs)
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        self.idf = {t: math.log((1 + n) / (1 + f)) + 1 for t, f in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, d in enumerate(docs):
            weights = {t: (1 + math.log(tf)) * self.idf[t] for t, tf in d.items()}
            norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for t, w in weights.items():
                self.postings[t].append((i, w / norm))

    def scores(self, query: Counter[str]) -> dict[int, float]:
        # The same arithmetic in the same order as the plain formulas, each term computed once:
        # weight (1 + log tf) * idf of the known n-grams; norm over all, unknown ones at the
        # idf of an n-gram seen in no document.
        unknown = math.log(len(self.idf) + 1) + 1
        weights: dict[str, float] = {}
        squares: list[float] = []
        for t, tf in query.items():
            sub = _sublinear(tf)
            idf = self.idf.get(t)
            if idf is None:
                squares.append((sub * unknown) ** 2)
            else:
                weights[t] = w = sub * idf
                squares.append(w**2)
        norm = math.sqrt(sum(squares)) or 1.0
        out: dict[int, float] = defaultdict(float)
        for t, w in weights.items():
            for i, dw in self.postings[t]:
                out[i] += w * dw / norm
        return out


@dataclass(frozen=True)
class FactDoc:
    fact_id: str
    text: str
    is_claim: bool


@dataclass(frozen=True)
class ClaimMatch:
    fact_id: str
    score: float
    claim: str
    truth_score: float


class ClaimMatcher:
    """The fact sheet indexed for matching; `match` ranks facts, `false_claim` decides."""

    def __init__(
        self,
        facts: Iterable[tuple[str, str, Sequence[str]]],
        *,
        threshold: float = 0.34,
        margin: float = 0.02,
        word_weight: float = 0.5,
    ) -> None:
        self.docs: list[FactDoc] = []
        for fact_id, text, claims in facts:
            self.docs.append(FactDoc(fact_id, text, False))
            self.docs.extend(FactDoc(fact_id, c, True) for c in claims)
        folded = [tokens(d.text) for d in self.docs]
        self.words = Bm25([word_features(t) for t in folded])
        self.chars = Tfidf([char_features(t) for t in folded])
        self.threshold, self.margin, self.word_weight = threshold, margin, word_weight
        self.vocabulary = frozenset(self.words.postings)
        # The vocabulary as the syllables and syllable pairs it was built from, so a post's
        # features outside it, which score nothing, are never built.
        self._syllables = frozenset(t for f in folded for t in f if t not in STOPWORDS)
        self._pairs = {p: f"{p[0]}_{p[1]}" for f in folded for p in itertools.pairwise(f)}

    def known_words(self, folded: Sequence[str]) -> list[str]:
        """The word features of a folded text that are in the vocabulary (with repeats): the
        same keys as `word_features(folded)` has in common with it."""
        found = [t for t in folded if t in self._syllables]
        pairs = self._pairs
        found.extend(pairs[p] for p in itertools.pairwise(folded) if p in pairs)
        return found

    def doc_scores(
        self, text: str, folded: list[str] | None = None, *, quick: bool = False
    ) -> dict[int, float]:
        folded = tokens(text) if folded is None else folded
        words = self.known_words(folded)
        if not words:
            return {}
        by_word = self.words.scores(words)
        # A text whose words barely touch any claim is not read letter by letter (most posts).
        best = max((s / self.words.self_scores[i] for i, s in by_word.items()), default=0.0)
        if quick and best < 0.2:
            return {}
        by_char = self.chars.scores(char_features(folded))
        scores: dict[int, float] = {}
        for i in set(by_word) | set(by_char):
            w = min(by_word.get(i, 0.0) / self.words.self_scores[i], 1.0)
            scores[i] = self.word_weight * w + (1 - self.word_weight) * by_char.get(i, 0.0)
        return scores

    def match(self, text: str, top: int = 5) -> list[tuple[str, float]]:
        """Facts ranked by their best document (claim or own text), best first."""
        best: dict[str, float] = {}
        for i, score in self.doc_scores(text).items():
            fact = self.docs[i].fact_id
            best[fact] = max(best.get(fact, 0.0), score)
        ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
        return [(f, round(s, 4)) for f, s in ranked[:top]]

    def false_claim(self, text: str, folded: list[str] | None = None) -> ClaimMatch | None:
        """The fact whose false claim this text repeats, if any."""
        scores = self.doc_scores(text, folded, quick=True)
        if not scores:
            return None
        claim_i = max(
            (i for i in scores if self.docs[i].is_claim), key=scores.__getitem__, default=None
        )
        if claim_i is None or scores[claim_i] < self.threshold:
            return None
        fact = self.docs[claim_i].fact_id
        truth = max(
            (
                s
                for i, s in scores.items()
                if self.docs[i].fact_id == fact and not self.docs[i].is_claim
            ),
            default=0.0,
        )
        if scores[claim_i] < truth + self.margin:
            return None
        return ClaimMatch(fact, round(scores[claim_i], 4), self.docs[claim_i].text, round(truth, 4))
