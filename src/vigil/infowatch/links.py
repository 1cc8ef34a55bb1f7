"""Links in a text: found (with or without a scheme, defanged or not), normalised, and split
into their registrable domain with the public-suffix list bundled in `tldextract` (never
fetched: `suffix_list_urls=()`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import tldextract

from vigil.core.indicators import IndicatorError, normalise_domain, normalise_url, refang

# A candidate: a URL with a scheme, or host-like text (labels of letters, digits, hyphens, and
# letters of any script for internationalised names) followed by an optional path.
_CANDIDATE = re.compile(
    r"(?:h[xt]{2}ps?|https?)(?:://|\[://\])[^\s<>\"'()]+"
    r"|(?<![@\w.-])(?:[\w-]+(?:\.|\[\.\]|\(\.\)))+[\w-]{2,63}(?:/[^\s<>\"'()]*)?",
    re.IGNORECASE | re.UNICODE,
)
_TRAILING = ".,;:!?)]}»”’"


@cache
def extractor() -> tldextract.TLDExtract:
    """The public-suffix splitter, from the snapshot shipped inside tldextract (no network)."""
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=False
    )


@dataclass(frozen=True)
class Link:
    """A normalised URL and the registered domain it points into."""

    url: str
    host: str
    #: e.g. "vietcombank.com.vn" for "https://ib.vietcombank.com.vn/x"
    domain: str
    #: The label before the public suffix ("vietcombank") and the suffix ("com.vn").
    label: str
    suffix: str


def split_host(host: str) -> Link | None:
    """The registrable parts of a host name, or None when it has no known public suffix."""
    try:
        host = normalise_domain(host)
    except IndicatorError:
        return None
    parts = extractor()(host)
    if not parts.suffix or not parts.domain:
        return None
    return Link(
        f"http://{host}/", host, f"{parts.domain}.{parts.suffix}", parts.domain, parts.suffix
    )


def parse_link(text: str) -> Link | None:
    """One URL or host name, normalised; None when it is neither."""
    raw = refang(text.strip().rstrip(_TRAILING))
    if not raw:
        return None
    try:
        url = normalise_url(raw)
    except IndicatorError:
        return None
    host = url.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
    found = split_host(host)
    if found is None:
        return None
    return Link(url, found.host, found.domain, found.label, found.suffix)


def extract_links(text: str) -> list[Link]:
    """Every link in a text, in order, each once."""
    seen: dict[str, Link] = {}
    for match in _CANDIDATE.finditer(text):
        link = parse_link(match.group(0))
        if link is not None and link.url not in seen:
            seen[link.url] = link
    return list(seen.values())
