"""`vigil detect` for the information watch: every detector over the stored posts.

The content detectors (scam, lookalike links, false claims) and impersonation read the batches
they have not read yet; their marks are saved with the findings (`Detection.save_progress`).
The behaviour detectors (coordinated campaigns, narrative spikes) read the recent window of
every batch, since a campaign spans batches; their findings are stable, so reading again
changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.core.finding import Finding
from vigil.core.severity import Severity
from vigil.infowatch.detect.context import WatchContext, watch_context
from vigil.infowatch.detect.impersonation import Account
from vigil.infowatch.detect.posts import batch_paths, post_key, read_batches, unique_posts
from vigil.infowatch.models import ScannedBatch
from vigil.plugins import Detection

if TYPE_CHECKING:
    from vigil.deployment import Deployment

CAPABILITY = "infowatch"
EXCERPT = 400


def _post_evidence(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "post": post_key(row),
        "platform": row["platform"],
        "account_id": row["account_id"],
        "handle": row["handle"],
        "display_name": row["display_name"],
        "url": row["url"],
        "text": row["text"][:EXCERPT],
        "created_at": row["created_at"].isoformat(),
        "lang": row["lang"],
        "links": row["links"][:10],
    }


def content_findings(ctx: WatchContext, rows: list[dict[str, Any]]) -> list[Finding]:
    """Scam and false-claim findings per post, lookalike findings per imitating domain."""
    findings: list[Finding] = []
    lookalike_posts: dict[str, list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    for row in rows:
        result = ctx.content.check(row["text"], list(row["links"]))
        for _link, verdict in result.lookalikes:
            lookalike_posts[verdict.domain].append((row, verdict))
        if result.scam_flagged:
            findings.append(scam_finding(ctx, row, result.scam))
        if result.claim is not None:
            findings.append(claim_finding(ctx, row, result.claim))
    for domain, hits in lookalike_posts.items():
        findings.append(lookalike_finding(ctx, domain, hits))
    return findings


def scam_finding(ctx: WatchContext, row: dict[str, Any], scam: Any) -> Finding:
    who = row["handle"] or row["account_id"]
    return Finding(
        capability=CAPABILITY,
        rule="scam",
        severity=Severity.HIGH,
        unit=ctx.root_unit,
        subject=post_key(row),
        title=f"Scam post by {who}: {'; '.join(scam.reasons_en) or 'links to lookalike domains'}",
        title_vi=f"Bài lừa đảo của {who}: "
        f"{'; '.join(scam.reasons_vi) or 'dẫn tới tên miền giả mạo'}",
        evidence={
            **_post_evidence(row),
            "score": scam.score,
            "patterns": scam.patterns,
            "response": "Warn the public (advisory), ask the platform to remove the post, "
            "block the links, open a case if money was lost.",
        },
        observed_at=row["created_at"],
    )


def claim_finding(ctx: WatchContext, row: dict[str, Any], claim: Any) -> Finding:
    return Finding(
        capability=CAPABILITY,
        rule="false-claim",
        severity=Severity.MEDIUM,
        unit=ctx.root_unit,
        subject=post_key(row),
        title=f"False claim about voting (fact {claim.fact_id})",
        title_vi=f"Thông tin sai về bầu cử (sự thật {claim.fact_id})",
        evidence={
            **_post_evidence(row),
            "fact_id": claim.fact_id,
            "claim": claim.claim,
            "score": claim.score,
            "truth_score": claim.truth_score,
            "response": f"Answer with the official fact {claim.fact_id} (advisory).",
        },
        observed_at=row["created_at"],
    )


def lookalike_finding(
    ctx: WatchContext, domain: str, hits: list[tuple[dict[str, Any], Any]]
) -> Finding:
    verdict = hits[0][1]
    owner = next((e.owner for e in ctx.entries if e.value == verdict.lookalike_of), "")
    return Finding(
        capability=CAPABILITY,
        rule="lookalike-domain",
        severity=Severity.HIGH,
        unit=ctx.unit_of(owner),
        subject=domain,
        title=f"{domain} imitates {verdict.lookalike_of} ({verdict.technique})",
        title_vi=f"{domain} giả mạo {verdict.lookalike_of} ({verdict.technique})",
        evidence={
            "domain": domain,
            "lookalike_of": verdict.lookalike_of,
            "technique": verdict.technique,
            "score": verdict.score,
            "posts": [post_key(row) for row, _ in hits[:50]],
            "accounts": sorted({row["account_id"] for row, _ in hits})[:50],
            "response": "Ask the registrar and the platforms to take the domain down; add it to "
            "the blocklist; warn the public.",
        },
        observed_at=max(row["created_at"] for row, _ in hits),
        occurrences=tuple(sorted({post_key(row) for row, _ in hits})),
    )


def impersonation_findings(ctx: WatchContext, rows: list[dict[str, Any]]) -> list[Finding]:
    accounts: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        if row["kind"] != "report" and row["handle"]:
            accounts[(row["platform"], row["handle"])].append(row)
    findings = []
    for (platform, handle), posts in accounts.items():
        last = posts[-1]
        account = Account(
            platform, last["account_id"], handle, last["display_name"], last["avatar_hash"] or ""
        )
        found = ctx.impersonation.check(account)
        if found is None:
            continue
        official = found.official
        shown = last["display_name"] or handle
        official_shown = official.name or official.handle
        findings.append(
            Finding(
                capability=CAPABILITY,
                rule="impersonation",
                severity=Severity.HIGH,
                unit=ctx.unit_of(official.owner),
                subject=f"{platform}:{handle}",
                title=f"{shown} impersonates the official {official_shown}",
                title_vi=f"{shown} mạo danh trang chính thức {official_shown}",
                evidence={
                    "account_id": account.account_id,
                    "handle": handle,
                    "display_name": account.display_name,
                    "avatar_hash": account.avatar_hash,
                    "official_handle": official.handle,
                    "official_name": official.name,
                    "official_image_hash": official.image_hash,
                    "signals": list(found.signals),
                    "name_similarity": round(found.name_similarity, 1),
                    "handle_similarity": round(found.handle_similarity, 1),
                    "image_distance": found.image_distance,
                    "score": found.score,
                    "posts": [post_key(p) for p in posts[:20]],
                    "response": "Report the account to the platform for impersonation; warn the "
                    "public which page is the official one.",
                },
                observed_at=last["created_at"],
            )
        )
    return findings


def detect_stored(deployment: Deployment) -> Detection:
    """Every detector; the batches read by the content detectors are marked with the findings."""
    from vigil.infowatch.detect.behaviour import behaviour_findings

    paths = batch_paths(deployment)
    with deployment.store.reader() as session:
        done = set(session.scalars(select(ScannedBatch.batch)))
    new = {b: p for b, p in paths.items() if b not in done}
    ctx = watch_context(deployment)
    rows = unique_posts(read_batches(new.values())) if new else []
    findings = content_findings(ctx, rows) + impersonation_findings(ctx, rows)
    findings += behaviour_findings(deployment, ctx, paths)
    now = deployment.now()

    def save(session: Session) -> None:
        for batch in new:
            session.merge(ScannedBatch(batch=batch, scanned_at=now, posts=len(rows)))

    return Detection(findings, save)
