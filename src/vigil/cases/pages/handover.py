"""The shift handover page: what came in, what is open or late, the notes, and the reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.cases.alert_row import without_dirs
from vigil.cases.handover import MAX_NOTE, add_handover_note, build_handover
from vigil.cases.pages.feedback import REFUSALS, refused
from vigil.core.access import Permission
from vigil.core.clock import parse_optional_time, to_local
from vigil.core.errors import ValidationError
from vigil.core.i18n import _
from vigil.store.models import User
from vigil.web import session as web_session
from vigil.web.deps import DeploymentDep, DutyManager, Viewer
from vigil.web.routes.pages_auth import safe_next
from vigil.web.templating import render

router = APIRouter(include_in_schema=False)

#: Rows per table on the page; the totals say when there are more (the alert queue has them).
TABLE_ROWS = 50
PAGE = "/duty/handover"


def _form_value(moment: datetime) -> str:
    """A naive-UTC moment as a datetime-local value in the province's time."""
    return to_local(moment).strftime("%Y-%m-%dT%H:%M")


def _full_names(session: Session, usernames: set[str]) -> dict[str, str]:
    rows = session.execute(
        select(User.username, User.full_name).where(User.username.in_(sorted(usernames)))
    )
    return {username: full or username for username, full in rows}


@router.get(PAGE, response_class=HTMLResponse)
def handover_page(
    request: Request,
    dep: DeploymentDep,
    user: Viewer,
    start: Annotated[str, Query(max_length=32)] = "",
    end: Annotated[str, Query(max_length=32)] = "",
) -> Response:
    """The current shift by default (the roster's, else the standard 07-15-23 shift)."""
    # The report brings matplotlib with it: imported when the page is asked for.
    from vigil.cases.reports.handover import MAX_PERIOD, shift_period

    actor = user.actor
    try:
        lo = parse_optional_time(start, "start")
        hi = parse_optional_time(end, "end")
        period_start, period_end = shift_period(dep, actor, lo, hi)
        if period_end - period_start > MAX_PERIOD:
            raise ValidationError(
                "a handover covers at most %(days)s days", params={"days": MAX_PERIOD.days}
            )
    except REFUSALS as e:
        if not (start or end):
            raise
        return refused(request, user.lang, e, PAGE)  # a period typed wrong: the current shift
    now = dep.now()
    with dep.store.reader() as session:
        try:
            h = build_handover(
                session, actor, dep.policy(period_start), period_start, period_end, now
            )
        except REFUSALS as e:  # a period that ends before it starts
            if not (start or end):
                raise
            return refused(request, user.lang, e, PAGE)
        people = {h.outgoing, *(n.author for n in h.notes)}
        if h.incoming:
            people.add(h.incoming)
        return render(
            request,
            "duty_handover.html",
            {
                "h": h,
                "rows": TABLE_ROWS,
                "without_dirs": without_dirs,
                "names": _full_names(session, people),
                "now": now,
                "start_value": _form_value(period_start),
                "end_value": _form_value(period_end),
                # What the report forms send back: the exact period shown, in local time.
                "report_start": to_local(period_start).replace(tzinfo=None).isoformat(),
                "report_end": to_local(period_end).replace(tzinfo=None).isoformat(),
                "today": to_local(now).date().isoformat(),
                "self_url": PAGE + "?" + urlencode({"start": start, "end": end})
                if start or end
                else PAGE,
                "can_note": actor.can(Permission.MANAGE_DUTY),
                "max_note": MAX_NOTE,
            },
        )


@router.post(PAGE + "/notes")
def note_submit(
    request: Request,
    dep: DeploymentDep,
    user: DutyManager,
    text: Annotated[str, Form(max_length=MAX_NOTE)] = "",
    next: Annotated[str, Form()] = PAGE,
) -> Response:
    try:
        with dep.store.session() as session:
            add_handover_note(session, user.actor, text, now=dep.now())
    except REFUSALS as e:
        return refused(request, user.lang, e, next)
    web_session.flash(request, "ok", _("Note added.", user.lang))
    return RedirectResponse(safe_next(next), status_code=303)
