"""The report engine: Jinja templates with gettext, HTML to PDF with WeasyPrint, files on disk.

Nothing here touches the network: a report is built from the store, its charts are inline SVG, its
fonts come from the system (fontconfig), and the PDF renderer may read only data: URLs and files
under the template folders.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit
from urllib.request import url2pathname

from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from vigil.core.clock import to_local
from vigil.core.errors import ReportError, ValidationError
from vigil.core.i18n import LANGUAGES, _, translations
from vigil.core.severity import Severity

TEMPLATES = Path(__file__).parent / "templates"

#: Printed on every page; English msgids, translated through the room's catalog.
CLASSIFICATION = "RESTRICTED — INTERNAL USE"
#: The page counter pattern; {page} and {pages} become CSS counters in the page footer.
PAGE_COUNTER = "Page {page} of {pages}"

_DATE_FORMATS: dict[str, tuple[str, str, str]] = {
    # (date, date and time, time)
    "vi": ("%d/%m/%Y", "%d/%m/%Y %H:%M", "%H:%M"),
    "en": ("%Y-%m-%d", "%Y-%m-%d %H:%M", "%H:%M"),
}


@dataclass(frozen=True)
class Report:
    """One rendered report, before it is written anywhere."""

    kind: str  # names the file: handover, daily
    title: str
    lang: str
    period_start: datetime  # naive UTC
    period_end: datetime
    html: str


def check_lang(lang: str) -> str:
    if lang not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        raise ValidationError(f"unknown report language {lang!r}; use one of {known}")
    return lang


# --- template environment ---------------------------------------------------------------------


def css_string(value: object) -> Markup:
    """A CSS string literal for text that lands inside <style> (running headers, page footers).

    Quotes, backslashes, control characters and '<' are hex-escaped, so no text from the store can
    end the string or the style element.
    """
    out = []
    for ch in str(value):
        if ch in '"\\<' or ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return Markup('"' + "".join(out) + '"')  # noqa: S704 - every character above is escaped for CSS


def page_counter_css(pattern: str) -> Markup:
    """'Trang {page}/{pages}' as the CSS value `"Trang " counter(page) "/" counter(pages)`."""
    parts: list[str] = []
    for piece in re.split(r"(\{pages?\})", pattern):
        if piece == "{page}":
            parts.append("counter(page)")
        elif piece == "{pages}":
            parts.append("counter(pages)")
        elif piece:
            parts.append(str(css_string(piece)))
    return Markup(" ".join(parts))  # noqa: S704 - built from css_string pieces and fixed tokens


def _filters(lang: str) -> dict[str, Any]:
    day_fmt, stamp_fmt, time_fmt = _DATE_FORMATS[lang]

    def local_datetime(value: datetime | None) -> str:
        return "" if value is None else to_local(value).strftime(stamp_fmt)

    def local_time(value: datetime | None) -> str:
        return "" if value is None else to_local(value).strftime(time_fmt)

    def local_date(value: datetime | date | None) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = to_local(value).date()
        return value.strftime(day_fmt)

    def severity(value: int | Severity) -> str:
        return _(Severity.parse(value).label, lang)

    def number(value: int | float) -> str:
        return format_decimal(value, locale=lang)

    return {
        "local_datetime": local_datetime,
        "local_time": local_time,
        "local_date": local_date,
        "severity": severity,
        "severity_class": lambda value: Severity.parse(value).label,
        "number": number,
        "css_string": css_string,
    }


@cache
def environment(lang: str, extra_dirs: tuple[Path, ...] = ()) -> Environment:
    """One Jinja environment per language: the i18n extension bound to that language's catalog.

    `extra_dirs` lets another room render its own report templates on the shared base.
    """
    check_lang(lang)
    env = Environment(
        loader=FileSystemLoader([*extra_dirs, TEMPLATES]),
        autoescape=select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The i18n extension adds this method at run time; Environment's type does not declare it.
    cast(Any, env).install_gettext_translations(translations(lang), newstyle=True)
    env.filters.update(_filters(lang))
    return env


def render_html(
    template: str,
    context: Mapping[str, Any],
    lang: str,
    *,
    extra_dirs: Iterable[Path] = (),
) -> str:
    """Render a report template; the context must give `title`, `province` and `generated_at`."""
    env = environment(check_lang(lang), tuple(extra_dirs))
    missing = {"title", "province", "generated_at"} - set(context)
    if missing:
        raise ReportError(f"template {template}: context lacks {', '.join(sorted(missing))}")
    full: dict[str, Any] = {
        "lang": lang,
        "classification": _(CLASSIFICATION, lang),
        "page_counter": page_counter_css(_(PAGE_COUNTER, lang)),
        **context,
    }
    return env.get_template(template).render(full)


# --- PDF ----------------------------------------------------------------------------------------


def _local_only_fetcher(roots: Iterable[Path]) -> Any:
    from weasyprint.urls import URLFetcher

    allowed = tuple(root.resolve() for root in roots)

    class LocalOnlyFetcher(URLFetcher):  # type: ignore[misc]  # weasyprint ships no type hints
        """Reads data: URLs and files under the allowed folders; refuses everything else."""

        def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if any(path.is_relative_to(root) for root in allowed):
                    return super().fetch(url, headers)
            raise ReportError(
                f"refused to fetch {url}: a report reads only data: URLs and its own files"
            )

    # fail_on_errors: a report with a missing or refused resource is a bug, not a warning in a log.
    return LocalOnlyFetcher(
        allowed_protocols=("data", "file"), allow_redirects=False, fail_on_errors=True
    )


def render_pdf(html: str, base_url: Path | None = None) -> bytes:
    """Lay out the HTML on A4 pages and return the PDF; fonts embedded (subset) by WeasyPrint."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    base = (base_url or TEMPLATES).resolve()
    fetcher = _local_only_fetcher([TEMPLATES, base])
    try:
        pdf = HTML(string=html, base_url=base.as_uri() + "/", url_fetcher=fetcher).write_pdf()
    except FatalURLFetchingError as e:
        cause = e.__cause__ if isinstance(e.__cause__, ReportError) else e
        raise ReportError(str(cause)) from e
    if not isinstance(pdf, bytes):  # write_pdf returns bytes when no target is given
        raise ReportError("the PDF renderer returned no document")
    return pdf


# --- files --------------------------------------------------------------------------------------


def report_stem(name: str, when: datetime) -> str:
    """`handover-20260201-0700`: the kind and the local start of the period it covers."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", name):
        raise ValidationError(f"invalid report name {name!r}")
    return f"{name}-{to_local(when).strftime('%Y%m%d-%H%M')}"


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(
    directory: Path,
    name: str,
    html: str | None,
    pdf: bytes | None,
    *,
    when: datetime,
) -> list[Path]:
    """Write the HTML and/or PDF of one report into `directory` (normally <data>/reports).

    Files are named by kind and period; a report already written for the same period is kept and
    the new one gets a -2, -3... suffix, because a handed-over report is a record, not a cache.
    """
    if html is None and pdf is None:
        raise ReportError("nothing to write: neither HTML nor PDF given")
    directory.mkdir(parents=True, exist_ok=True)
    bodies = {".html": None if html is None else html.encode("utf-8"), ".pdf": pdf}
    stem = report_stem(name, when)
    candidate, n = stem, 1
    while any((directory / f"{candidate}{ext}").exists() for ext in bodies):
        n += 1
        candidate = f"{stem}-{n}"
    written = []
    for ext, body in bodies.items():
        if body is not None:
            path = directory / f"{candidate}{ext}"
            _atomic_write(path, body)
            written.append(path)
    return written


def write_file(path: Path, data: str | bytes) -> Path:
    """Write one report file where the user asked (--out)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, data.encode("utf-8") if isinstance(data, str) else data)
    return path
