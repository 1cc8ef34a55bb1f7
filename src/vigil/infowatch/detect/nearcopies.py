"""Near-identical texts among many posts: datasketch's MinHash LSH, computed for all posts at once.

`MinHash.bulk` and `MinHashLSH` spend most of their time in per-post Python (one object, one
hash of every shingle, one dictionary insert and one query per band and post). Here the same
numbers are computed in bulk: each distinct shingle hashed once with datasketch's own hash
function, its permutations applied with numpy over all posts, the bands grouped with numpy. The
signatures are checked against `MinHash.bulk` on the first posts (datasketch is used instead when
they differ, e.g. another scheme in a future version), and the candidates of a post are gathered
exactly as `MinHashLSH.query` gathers them (band by band into a set), so the pairs found, and
the order they are found in, are datasketch's.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import numpy as np
from datasketch import MinHash, MinHashLSH

#: Posts whose shingles are permuted at once (bounds the memory of one step: chunk x shingles x
#: permutations x 4 bytes).
CHUNK = 4096
#: Signatures compared with datasketch's own before the bulk ones are trusted.
CHECKED = 64

_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)


def shingle_lists(texts: Sequence[list[str]], n: int) -> list[list[str]]:
    """Word n-grams of each text, as datasketch is given them (joined by one space)."""
    return [
        [" ".join(g) for g in zip(*(words[k:] for k in range(n)), strict=False)] for words in texts
    ]


def _fmix32(hv: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = (np.uint32(v) for v in _FMIX32)
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    return np.asarray(hv ^ (hv >> s3))


def _permuted(template: MinHash, hv: np.ndarray) -> np.ndarray | None:
    """Every permutation of each hash value (rows: values), or None for an unknown scheme."""
    a, b = template.permutations
    scheme = getattr(template, "scheme", "legacy")
    if scheme == "affine32":
        with np.errstate(over="ignore"):
            return np.asarray(_fmix32(hv.astype(np.uint32))[:, None] * a + b)
    if scheme == "legacy":
        prime, top = np.uint64((1 << 61) - 1), np.uint64((1 << 32) - 1)
        with np.errstate(over="ignore"):
            return np.asarray(((hv.astype(np.uint64)[:, None] * a + b) % prime) & top)
    return None


def signatures(shingles: Sequence[list[str]], num_perm: int) -> np.ndarray:
    """The MinHash values of each list of shingles (one row each), value for value those of
    `MinHash.bulk([[s.encode() ...]], num_perm=num_perm)`."""
    template = MinHash(num_perm=num_perm)
    if not all(shingles):  # an empty list keeps the initial values
        filled = [k for k, one in enumerate(shingles) if one]
        found = signatures([shingles[k] for k in filled], num_perm)
        out = np.tile(template.hashvalues, (len(shingles), 1)).astype(found.dtype)
        out[filled] = found
        return out
    index: dict[str, int] = {}
    codes = [index.setdefault(s, len(index)) for one in shingles for s in one]
    hv = np.fromiter((template.hashfunc(s.encode()) for s in index), np.uint64, len(index))
    starts = np.zeros(len(shingles) + 1, dtype=np.int64)
    np.cumsum([len(one) for one in shingles], out=starts[1:])
    flat = np.asarray(codes, dtype=np.int64)
    rows: list[np.ndarray] = []
    for lo in range(0, len(shingles), CHUNK):
        hi = min(lo + CHUNK, len(shingles))
        permuted = _permuted(template, hv[flat[starts[lo] : starts[hi]]])
        if permuted is None:
            return _datasketch(shingles, num_perm)
        mins = np.minimum.reduceat(permuted, starts[lo:hi] - starts[lo], axis=0)
        rows.append(np.minimum(mins, template.hashvalues))
    out = np.concatenate(rows) if rows else np.empty((0, num_perm), dtype=np.uint64)
    check = _datasketch(shingles[:CHECKED], num_perm)
    if check.dtype != out.dtype or not np.array_equal(check, out[: len(check)]):
        return _datasketch(shingles, num_perm)
    return out


def _datasketch(shingles: Sequence[list[str]], num_perm: int) -> np.ndarray:
    found = MinHash.bulk([[s.encode() for s in one] for one in shingles], num_perm=num_perm)
    if not found:
        return np.empty((0, num_perm), dtype=np.uint64)
    return np.vstack([m.hashvalues for m in found])


def _buckets(band: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A bucket number for each row of `band` (equal rows, equal numbers) and the rows ordered
    by bucket, each bucket's rows in their own order."""
    columns: list[np.ndarray] = [band[:, k].astype(np.uint64) for k in range(band.shape[1])]
    if band.dtype.itemsize <= 4:  # two 32-bit values in one key
        if len(columns) % 2:
            columns.append(np.zeros_like(columns[0]))
        high = np.uint64(32)
        columns = [(columns[k] << high) | columns[k + 1] for k in range(0, len(columns), 2)]
    order = np.lexsort(columns[::-1])  # stable: a bucket's rows stay in their order
    ranked = [c[order] for c in columns]
    changes = np.zeros(len(order), dtype=np.int64)
    for c in ranked:
        changes[1:] |= c[1:] != c[:-1]
    small = np.int32 if len(order) < 2**31 else np.int64  # half the memory at a million posts
    labels = np.empty(len(order), dtype=small)
    labels[order] = np.cumsum(changes)
    return labels, order.astype(small)


class Bands:
    """The LSH buckets of every band (datasketch's bands for `threshold` and `num_perm`)."""

    def __init__(self, signatures: np.ndarray, keys: Sequence[int], threshold: float) -> None:
        lsh = MinHashLSH(threshold=threshold, num_perm=signatures.shape[1])
        self.keys = np.asarray(keys, dtype=np.int64)
        self.labels: list[np.ndarray] = []
        self.members: list[np.ndarray] = []
        self.starts: list[np.ndarray] = []
        self._sets: dict[tuple[int, int], set[int]] = {}
        for start, end in lsh.hashranges:
            labels, order = _buckets(signatures[:, start:end])
            self.labels.append(labels)
            self.members.append(order)
            self.starts.append(np.concatenate([[0], np.cumsum(np.bincount(labels))]))

    def later_mates(self, times: np.ndarray | None, window: float) -> np.ndarray:
        """Positions that share a bucket with a later position (within `window` seconds of it
        when `times`, non-decreasing, are given): every post whose query can yield a pair."""
        found = np.zeros(len(self.keys), dtype=bool)
        for labels, order in zip(self.labels, self.members, strict=True):
            same = labels[order[1:]] == labels[order[:-1]]
            if times is not None:
                same &= times[order[1:]] - times[order[:-1]] <= window
            found[order[:-1][same]] = True
        return np.flatnonzero(found)

    def _bucket(self, band: int, label: int) -> set[int]:
        found = self._sets.get((band, label))
        if found is None:
            lo, hi = self.starts[band][label], self.starts[band][label + 1]
            found = self._sets[(band, label)] = set(self.keys[self.members[band][lo:hi]].tolist())
        return found

    def query(self, position: int) -> Iterator[int]:
        """The keys sharing a bucket with the post at `position`, in `MinHashLSH.query`'s order."""
        candidates: set[int] = set()
        for band, labels in enumerate(self.labels):
            for key in self._bucket(band, int(labels[position])):
                candidates.add(key)
        return iter(list(candidates))


def seconds_since(times: Sequence[datetime]) -> np.ndarray | None:
    """Times as seconds after the first, or None when they are not in order."""
    if not times:
        return None
    first = times[0]
    out = np.fromiter(((t - first) / timedelta(seconds=1) for t in times), np.float64, len(times))
    return out if bool(np.all(out[1:] >= out[:-1])) else None
