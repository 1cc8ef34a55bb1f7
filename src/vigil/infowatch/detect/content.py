"""The content detectors on one text: scam, links to lookalike or listed domains, false claims.

Used by the detectors over stored posts and by `vigil infowatch check` (texts a hotline officer
pastes, checked without being stored): one path, the same verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vigil.core.indicators import IndicatorMatcher
from vigil.infowatch.detect.claims import ClaimMatch, ClaimMatcher
from vigil.infowatch.detect.lookalike import LookalikeMatcher, Verdict
from vigil.infowatch.detect.scam import ScamScore, is_scam, score_scam
from vigil.infowatch.links import Link, extract_links, parse_link
from vigil.infowatch.text import tokens


@dataclass
class ContentResult:
    scam: ScamScore
    scam_flagged: bool
    lookalikes: list[tuple[Link, Verdict]]
    listed: list[str]
    claim: ClaimMatch | None

    @property
    def flagged(self) -> bool:
        return self.scam_flagged or bool(self.lookalikes) or self.claim is not None

    def verdicts(self) -> list[dict[str, Any]]:
        """What `check --json` prints for one input."""
        out: list[dict[str, Any]] = []
        if self.scam_flagged:
            out.append(
                {
                    "rule": "scam",
                    "score": self.scam.score,
                    "reason": "; ".join(self.scam.reasons_en)
                    or "links to lookalike or listed domains",
                    "reason_vi": "; ".join(self.scam.reasons_vi),
                    "patterns": self.scam.patterns,
                }
            )
        for link, verdict in self.lookalikes:
            out.append(
                {
                    "rule": "lookalike-domain",
                    "score": verdict.score,
                    "reason": f"{verdict.domain} imitates {verdict.lookalike_of} "
                    f"({verdict.technique})",
                    "domain": verdict.domain,
                    "lookalike_of": verdict.lookalike_of,
                    "technique": verdict.technique,
                    "url": link.url,
                }
            )
        for value in self.listed:
            out.append(
                {
                    "rule": "listed-indicator",
                    "score": 1.0,
                    "reason": f"{value} is a listed indicator of compromise",
                    "domain": value,
                    "lookalike_of": None,
                }
            )
        if self.claim is not None:
            out.append(
                {
                    "rule": "false-claim",
                    "score": self.claim.score,
                    "reason": f"repeats a false claim about fact {self.claim.fact_id}",
                    "fact_id": self.claim.fact_id,
                    "claim": self.claim.claim,
                }
            )
        return out


class ContentChecker:
    def __init__(
        self,
        lookalike: LookalikeMatcher,
        claims: ClaimMatcher | None = None,
        indicators: IndicatorMatcher | None = None,
    ) -> None:
        self.lookalike = lookalike
        self.claims = claims
        self.indicators = indicators

    def _listed(self, link: Link) -> bool:
        if self.indicators is None or len(self.indicators) == 0:
            return False
        return bool(
            self.indicators.lookup_url(link.url) or self.indicators.lookup_domain(link.host)
        )

    def check(self, text: str, urls: list[str] | None = None) -> ContentResult:
        links = (
            [link for u in urls if (link := parse_link(u))]
            if urls is not None
            else extract_links(text)
        )
        lookalikes = [(link, v) for link in links if (v := self.lookalike.check(link.host))]
        listed = [link.host for link in links if self._listed(link)]
        words = tokens(text)
        scam = score_scam(" ".join(words), [v.domain for _, v in lookalikes], listed)
        claim = self.claims.false_claim(text, words) if self.claims is not None else None
        return ContentResult(scam, is_scam(scam), lookalikes, listed, claim)
