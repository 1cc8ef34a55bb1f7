"""`impersonation`: an account or page off the watchlist that passes for an official one.

Its display name (folded, word order ignored), its handle, or its profile picture (perceptual
hash, Hamming distance) is close to an official account's. Only accounts so close are named; an
ordinary account is never scored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import imagehash
from rapidfuzz import fuzz

from vigil.infowatch.text import fold

_NON_ALNUM = re.compile(r"[^a-z0-9]")

#: Thresholds (0-100 for names and handles, bits for a 64-bit perceptual hash).
NAME_CLOSE = 90.0
HANDLE_CLOSE = 88.0
IMAGE_SAME = 4
IMAGE_CLOSE = 10
NAME_WITH_IMAGE = 60.0


@dataclass(frozen=True)
class Official:
    platform: str
    handle: str
    name: str
    image_hash: str
    owner: str


@dataclass(frozen=True)
class Account:
    platform: str
    account_id: str
    handle: str
    display_name: str
    avatar_hash: str


@dataclass(frozen=True)
class Impersonation:
    account: Account
    official: Official
    score: float
    name_similarity: float
    handle_similarity: float
    image_distance: int | None
    signals: tuple[str, ...]


def _compact(handle: str) -> str:
    return _NON_ALNUM.sub("", fold(handle).replace(" ", ""))


def image_distance(a: str, b: str) -> int | None:
    if not a or not b:
        return None
    try:
        return int(imagehash.hex_to_hash(a) - imagehash.hex_to_hash(b))
    except (ValueError, TypeError):
        return None


class ImpersonationMatcher:
    def __init__(self, officials: Iterable[Official]) -> None:
        self.officials = list(officials)
        self._handles = {(o.platform, o.handle.lower()) for o in self.officials}
        self._folded = [(o, fold(o.name), _compact(o.handle)) for o in self.officials]

    def check(self, account: Account) -> Impersonation | None:
        if (account.platform, account.handle.lower()) in self._handles:
            return None
        name = fold(account.display_name)
        handle = _compact(account.handle)
        best: Impersonation | None = None
        for official, official_name, official_handle in self._folded:
            name_sim = fuzz.token_sort_ratio(name, official_name) if name and official_name else 0.0
            handle_sim = fuzz.ratio(handle, official_handle) if handle and official_handle else 0.0
            distance = image_distance(account.avatar_hash, official.image_hash)
            signals = []
            if name_sim >= NAME_CLOSE:
                signals.append("name")
            if handle_sim >= HANDLE_CLOSE:
                signals.append("handle")
            if distance is not None and (
                distance <= IMAGE_SAME
                or (distance <= IMAGE_CLOSE and max(name_sim, handle_sim) >= NAME_WITH_IMAGE)
            ):
                signals.append("picture")
            if not signals:
                continue
            image_score = 0.0 if distance is None else 1.0 - distance / 64.0
            score = round(
                max(name_sim / 100, handle_sim / 100, image_score if "picture" in signals else 0.0),
                3,
            )
            if best is None or score > best.score:
                best = Impersonation(
                    account, official, score, name_sim, handle_sim, distance, tuple(signals)
                )
        return best
