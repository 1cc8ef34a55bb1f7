"""The registry's pages: scorecards per commune, the duplicate review queue, household review
coverage. Personal data is masked; deciding and marking need the data officer's permission."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from vigil.core.access import Permission
from vigil.registry.datasets import HOUSEHOLDS
from vigil.registry.models import RegistryHouseholdReview
from vigil.registry.review.decisions import decide_pair, duplicate_queue, mark_reviewed
from vigil.registry.review.scorecard import WORDS, commune_scores
from vigil.reports.download import ReportFormat, download
from vigil.web.deps import DeploymentDep, Viewer, WebUser, require

router = APIRouter(include_in_schema=False)
DataOfficer = Annotated[WebUser, Depends(require(Permission.MANAGE_DATA))]
Commune = Annotated[str, Query(max_length=32)]


@router.get("/registry", response_class=HTMLResponse)
def scorecards_page(request: Request, dep: DeploymentDep, user: Viewer) -> Response:
    from vigil.web.templating import render

    with dep.store.session() as session:
        scores = commune_scores(session, dep, user.actor)
    return render(request, "registry_scorecards.html", {"scores": scores, "words": WORDS})


@router.get("/registry/communes/{commune}", response_class=HTMLResponse)
def scorecard_page(request: Request, dep: DeploymentDep, user: Viewer, commune: str) -> Response:
    from vigil.web.templating import render

    user.actor.require_unit(commune)
    with dep.store.session() as session:
        found = commune_scores(session, dep, user.actor, only=commune)
        pairs = duplicate_queue(session, user.actor, commune)
    return render(
        request,
        "registry_scorecard.html",
        {
            "score": found[0] if found else None,
            "words": WORDS,
            "commune": commune,
            "pending": sum(1 for p in pairs if p.decision is None),
        },
    )


@router.get("/registry/duplicates", response_class=HTMLResponse)
def duplicates_page(
    request: Request, dep: DeploymentDep, user: Viewer, commune: Commune = ""
) -> Response:
    from vigil.web.templating import render

    with dep.store.reader() as session:
        pairs = duplicate_queue(session, user.actor, commune or None)
    return render(request, "registry_duplicates.html", {"pairs": pairs, "commune": commune})


@router.post("/registry/duplicates/decide")
def decide(
    dep: DeploymentDep,
    user: DataOfficer,
    left: Annotated[str, Form(max_length=64)],
    right: Annotated[str, Form(max_length=64)],
    decision: Annotated[str, Form(max_length=16)],
    commune: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    with dep.store.session() as session:
        decide_pair(session, user.actor, left, right, decision)
    target = f"/registry/duplicates?commune={commune}" if commune else "/registry/duplicates"
    return RedirectResponse(target, status_code=303)


@router.get("/registry/households", response_class=HTMLResponse)
def households_page(
    request: Request, dep: DeploymentDep, user: Viewer, commune: Commune
) -> Response:
    from vigil.web.templating import render

    user.actor.require_unit(commune)
    with dep.store.session() as session:
        [score] = commune_scores(session, dep, user.actor, only=commune)
        done = set(
            session.scalars(
                select(RegistryHouseholdReview.household_id).where(
                    RegistryHouseholdReview.commune == commune
                )
            )
        )
    rows = []
    if dep.lake.files(HOUSEHOLDS):
        rows = dep.lake.query(
            "SELECT household_id, village, members FROM population_households "
            "WHERE commune = $c ORDER BY household_id",
            {"c": commune},
            datasets=[HOUSEHOLDS],
        ).to_pylist()
    waiting = [r for r in rows if r["household_id"] not in done][:50]
    return render(
        request,
        "registry_households.html",
        {"score": score, "commune": commune, "waiting": waiting},
    )


@router.post("/registry/households/review")
def review_household(
    dep: DeploymentDep,
    user: DataOfficer,
    household_id: Annotated[str, Form(max_length=64)],
    commune: Annotated[str, Form(max_length=32)],
) -> Response:
    with dep.store.session() as session:
        mark_reviewed(session, user.actor, household_id, commune)
    return RedirectResponse(f"/registry/households?commune={commune}", status_code=303)


@router.post("/reports/registry")
def download_report(
    dep: DeploymentDep,
    user: Viewer,
    commune: Annotated[str, Form(max_length=32)] = "",
    fmt: Annotated[ReportFormat, Form(alias="format")] = "pdf",
    lang: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    """The data-quality report of a commune (or of every commune the user sees), PDF or HTML."""
    from vigil.registry.report import registry_report

    report = registry_report(dep, user.actor, lang or user.lang, commune or None)
    return download(dep, user.actor, report, fmt)
