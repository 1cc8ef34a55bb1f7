"""Incident-response plans (Markdown, DOCX or PDF) checked for what they must hold.

Required: a section on roles with 24/7 contacts (a phone number and "24/7"), detection,
containment, eradication, recovery and communication, each as a heading (in English or
Vietnamese, with or without diacritics); every election scenario of the playbook library named
somewhere in the plan; and the date of the last exercise (a line about the exercise carrying a
date), which must fall within the last year.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from vigil.inspect.errors import EvidenceError
from vigil.inspect.evidence.verdict import Verdict, fold
from vigil.plugins import Scenario

#: Section -> words that name it in a heading (folded: lower case, no diacritics).
SECTIONS: dict[str, tuple[str, ...]] = {
    "roles": ("roles", "responsibilities", "vai tro", "phan cong", "trach nhiem"),
    "detection": ("detection", "phat hien"),
    "containment": ("containment", "ngan chan", "khoanh vung"),
    "eradication": ("eradication", "loai bo", "diet tru"),
    "recovery": ("recovery", "khoi phuc"),
    "communication": ("communication", "truyen thong", "thong bao", "lien lac"),
}
EXERCISE_WORDS = ("exercise", "dien tap", "tabletop")
EXERCISE_MAX_AGE = timedelta(days=366)
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)[\d .-]{8,13}\d")
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_DMY = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\b")


@dataclass
class PlanText:
    headings: list[str]
    lines: list[str]


def _docx(path: Path) -> PlanText:
    try:
        import docx  # python-docx
    except ImportError as e:  # pragma: no cover - a declared dependency
        raise EvidenceError("reading DOCX needs python-docx") from e
    try:
        document = docx.Document(str(path))
    except Exception as e:
        raise EvidenceError(f"{path}: not a readable DOCX file: {e}") from e
    headings, lines = [], []
    for para in document.paragraphs:
        text = para.text.strip()
        if not text:
            continue
        lines.append(text)
        style = (para.style.name if para.style is not None else "") or ""
        if style.startswith(("Heading", "Title")):
            headings.append(text)
    for table in document.tables:
        for row in table.rows:
            lines.append(" | ".join(cell.text.strip() for cell in row.cells))
    return PlanText(headings, lines)


def _pdf(path: Path) -> PlanText:
    try:
        done = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"], capture_output=True, timeout=120, check=False
        )
    except FileNotFoundError as e:
        raise EvidenceError("reading PDF needs pdftotext (Debian package poppler-utils)") from e
    if done.returncode != 0:
        raise EvidenceError(
            f"{path}: not a readable PDF: {done.stderr.decode(errors='replace')[:200]}"
        )
    lines = [ln.strip() for ln in done.stdout.decode("utf-8", errors="replace").splitlines()]
    lines = [ln for ln in lines if ln]
    # A PDF has no headings as such: a short line not ending a sentence stands for one.
    headings = [ln for ln in lines if len(ln.split()) <= 10 and not ln.endswith((".", ","))]
    return PlanText(headings, lines)


def _markdown(path: Path) -> PlanText:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise EvidenceError(f"{path}: not UTF-8 text (byte {e.start})") from e
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    headings = [ln.lstrip("#").strip() for ln in lines if ln.startswith("#")]
    return PlanText(headings, lines)


def read_plan(path: Path) -> PlanText:
    suffix = path.suffix.lower()
    if not path.is_file():
        raise EvidenceError(f"{path}: no such file")
    if suffix == ".docx":
        return _docx(path)
    if suffix == ".pdf":
        return _pdf(path)
    if suffix in (".md", ".markdown", ".txt"):
        return _markdown(path)
    raise EvidenceError(f"{path}: an incident-response plan is Markdown, DOCX or PDF")


def _dates(line: str) -> Iterable[date]:
    for y, m, d in _ISO.findall(line):
        try:
            yield date(int(y), int(m), int(d))
        except ValueError:
            continue
    for d, m, y in _DMY.findall(line):
        try:
            yield date(int(y), int(m), int(d))
        except ValueError:
            continue


def last_exercise(plan: PlanText) -> date | None:
    found = [
        d for ln in plan.lines if any(w in fold(ln) for w in EXERCISE_WORDS) for d in _dates(ln)
    ]
    return max(found) if found else None


def check_plan_sections(plan: PlanText, scenarios: Iterable[Scenario]) -> Verdict:
    v = Verdict("irplan", "pass")
    headings = [fold(h) for h in plan.headings]
    for section, words in SECTIONS.items():
        if not any(w in h for h in headings for w in words):
            v.short(f"missing-{section}", f"no section on {section}")
    body = fold("\n".join(plan.lines))
    if "24/7" not in body and "24/24" not in body:
        v.short("no-24-7", "no 24/7 contact")
    if not _PHONE.search(body):
        v.short("no-phone", "no contact phone number")
    missing = [
        s.key for s in scenarios if fold(s.title_en) not in body and fold(s.title_vi) not in body
    ]
    for key in missing:
        v.short(f"missing-scenario-{key}", f"the scenario {key!r} is not covered")
    v.detail["scenarios_missing"] = missing
    v.status = "fail" if v.codes else "pass"
    return v


def check_plan_exercise(plan: PlanText, now: datetime) -> Verdict:
    v = Verdict("irplan-exercise", "pass")
    when = last_exercise(plan)
    v.detail["last_exercise"] = when.isoformat() if when else None
    if when is None:
        v.short("no-exercise-date", "the plan gives no date of its last exercise")
    elif now.date() - when > EXERCISE_MAX_AGE:
        v.short("exercise-stale", f"last exercised on {when.isoformat()}, over a year ago")
    v.status = "fail" if v.codes else "pass"
    return v


def check_plan(path: Path, scenarios: Iterable[Scenario], now: datetime) -> list[Verdict]:
    plan = read_plan(path)
    return [check_plan_sections(plan, scenarios), check_plan_exercise(plan, now)]
