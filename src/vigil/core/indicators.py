"""Indicators of compromise: shared reference data that `monitor` matches and `infowatch` reads.

An indicator's value is normalised when it is made (case, trailing dots, IDNA, defanging, IPv4
inside IPv6...), so two spellings of one address are one indicator and a lookup is a dict probe.
"""

from __future__ import annotations

import ipaddress
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

import idna

from vigil.core.clock import to_utc, utcnow
from vigil.core.errors import ValidationError
from vigil.core.severity import Severity


class IndicatorError(ValidationError):
    """An indicator value that cannot be normalised (not an address, not a hash...)."""

    code = "indicator"


class IndicatorKind(StrEnum):
    IP = "ip"
    CIDR = "cidr"
    DOMAIN = "domain"
    URL = "url"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    #: A literal file name or trailing path ("evil.exe", "temp/evil.exe"), case-insensitive.
    FILENAME = "filename"
    #: A regular expression over a whole file path (signature-base's filename IOCs).
    FILENAME_REGEX = "filename_regex"
    EMAIL = "email"


#: Longest value kept; the store's unique index must stay within PostgreSQL's B-tree row limit.
MAX_VALUE = 1000

HASH_KINDS = (IndicatorKind.MD5, IndicatorKind.SHA1, IndicatorKind.SHA256)
_HASH_BY_LENGTH = {32: IndicatorKind.MD5, 40: IndicatorKind.SHA1, 64: IndicatorKind.SHA256}

# --- normalisation ---------------------------------------------------------------------------

# Threat reports "defang" values so nobody clicks them; undo the common spellings.
_DEFANG = (
    ("[.]", "."),
    ("(.)", "."),
    ("{.}", "."),
    ("[dot]", "."),
    ("[:]", ":"),
    ("[://]", "://"),
    ("[@]", "@"),
    ("[at]", "@"),
)
_HXXP = re.compile(r"^h[x*]{2}p(s?)(?=[:\[])", re.IGNORECASE)
# Full-width and ideographic full stops separate labels like "." in IDNA (UTS 46).
_DOTS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})
_LABEL = re.compile(r"^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$")
_HEX = re.compile(r"^[0-9a-f]+$")


def refang(text: str) -> str:
    """'hxxp://evil[.]com' -> 'http://evil.com'."""
    out = text.strip()
    for old, new in _DEFANG:
        if old in out:
            out = out.replace(old, new)
    return _HXXP.sub(lambda m: "http" + m.group(1), out)


def normalise_ip(text: str) -> str:
    """One spelling per address; an IPv4 address carried in IPv6 (::ffff:a.b.c.d) is IPv4."""
    raw = refang(text)
    if raw.startswith("[") and raw.endswith("]"):
        raw = raw[1:-1]
    raw = raw.split("%", 1)[0]  # an IPv6 zone names the local interface, not the address
    try:
        address = ipaddress.ip_address(raw)
    except ValueError as e:
        raise IndicatorError(f"not an IP address: {text!r}") from e
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)


def normalise_cidr(text: str) -> str:
    """The network of a CIDR block; host bits are cleared ('10.1.2.3/8' -> '10.0.0.0/8')."""
    raw = refang(text)
    try:
        network = ipaddress.ip_network(raw, strict=False)
    except ValueError as e:
        raise IndicatorError(f"not a CIDR block: {text!r}") from e
    return str(network)


def normalise_domain(text: str, *, single_label: bool = False) -> str:
    """Lower case, no trailing dot, IDNA (punycode) labels; underscores are allowed (they occur)."""
    raw = refang(text).translate(_DOTS).rstrip(".")
    if raw.startswith("*."):
        raw = raw[2:]  # a wildcard means the domain and everything under it, which we do anyway
    if not raw or len(raw) > 253:
        raise IndicatorError(f"not a domain name: {text!r}")
    labels = []
    for label in raw.split("."):
        if not label.isascii():
            try:
                label = idna.encode(label, uts46=True).decode("ascii")
            except idna.IDNAError as e:
                raise IndicatorError(f"not a domain name: {text!r} ({e})") from e
        label = label.lower()
        if not _LABEL.match(label):
            raise IndicatorError(f"not a domain name: {text!r}")
        labels.append(label)
    if len(labels) < 2 and not single_label:
        raise IndicatorError(f"not a domain name (one label): {text!r}")
    if labels[-1].isdigit():
        raise IndicatorError(f"not a domain name (numeric top level): {text!r}")
    domain = ".".join(labels)
    if len(domain) > 253:
        raise IndicatorError(f"not a domain name (too long): {text!r}")
    return domain


_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}


def _normalise_host(host: str) -> str:
    try:
        address = normalise_ip(host)
    except IndicatorError:
        return normalise_domain(host, single_label=True)
    return f"[{address}]" if ":" in address else address


def normalise_url(text: str) -> str:
    """Scheme and host in lower case, host normalised, default port and fragment dropped."""
    raw = refang(text)
    if "://" not in raw:
        raw = "http://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as e:
        raise IndicatorError(f"not a URL: {text!r} ({e})") from e
    host = parts.hostname
    if not parts.scheme or not host or any(c.isspace() for c in raw):
        raise IndicatorError(f"not a URL: {text!r}")
    scheme = parts.scheme.lower()
    netloc = _normalise_host(host)
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc += f":{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def normalise_hash(text: str, kind: IndicatorKind | None = None) -> str:
    value = text.strip().lower()
    expected = _HASH_BY_LENGTH.get(len(value))
    if expected is None or not _HEX.match(value) or (kind is not None and kind != expected):
        raise IndicatorError(f"not a {kind or 'file hash'}: {text!r}")
    return value


def hash_kind(value: str) -> IndicatorKind | None:
    """md5, sha1 or sha256 by length, for a hexadecimal value; None for anything else."""
    value = value.strip().lower()
    kind = _HASH_BY_LENGTH.get(len(value))
    return kind if kind is not None and _HEX.match(value) else None


def normalise_email(text: str) -> str:
    raw = refang(text)
    local, at, domain = raw.rpartition("@")
    if not at or not local or any(c.isspace() for c in local):
        raise IndicatorError(f"not an e-mail address: {text!r}")
    return f"{local.lower()}@{normalise_domain(domain)}"


def normalise_filename(text: str) -> str:
    """Lower case with '/' separators: Windows names are case-insensitive and most IOCs are."""
    value = text.strip().replace("\\", "/").lower().rstrip("/")
    if not value:
        raise IndicatorError(f"not a file name: {text!r}")
    return value


def normalise_filename_regex(text: str) -> str:
    value = text.strip()
    try:
        re.compile(value)
    except re.error as e:
        raise IndicatorError(f"not a regular expression: {text!r} ({e})") from e
    if not value:
        raise IndicatorError("empty regular expression")
    return value


_NORMALISERS: dict[IndicatorKind, Callable[[str], str]] = {
    IndicatorKind.IP: normalise_ip,
    IndicatorKind.CIDR: normalise_cidr,
    IndicatorKind.DOMAIN: normalise_domain,
    IndicatorKind.URL: normalise_url,
    IndicatorKind.MD5: lambda v: normalise_hash(v, IndicatorKind.MD5),
    IndicatorKind.SHA1: lambda v: normalise_hash(v, IndicatorKind.SHA1),
    IndicatorKind.SHA256: lambda v: normalise_hash(v, IndicatorKind.SHA256),
    IndicatorKind.FILENAME: normalise_filename,
    IndicatorKind.FILENAME_REGEX: normalise_filename_regex,
    IndicatorKind.EMAIL: normalise_email,
}


def normalise(kind: IndicatorKind | str, value: str) -> str:
    """The one spelling of `value` as an indicator of `kind`; IndicatorError if it is not one."""
    try:
        kind = IndicatorKind(kind)
    except ValueError as e:
        raise IndicatorError(f"unknown indicator kind {kind!r}") from e
    return _NORMALISERS[kind](value)


# Extensions of files that are not top-level domains, so "evil.exe" is taken as a file name.
_FILE_EXTENSIONS = frozenset(
    (  # noqa: SIM905 - a word list reads better than 43 quoted items
        "exe dll sys bat cmd ps1 psm1 vbs vbe js jse wsf hta scr lnk msi tmp dat bin log txt doc "
        "docx xls xlsx xlsm docm ppt pptx rtf pdf iso img jar py sh elf so ko php asp aspx jsp"
    ).split()
)


def guess_kind(value: str) -> IndicatorKind:
    """What a bare value looks like: URL, e-mail, IP, CIDR, hash, domain, else a file name."""
    raw = refang(value)
    if "://" in raw:
        return IndicatorKind.URL
    kind = hash_kind(raw)
    if kind is not None:
        return kind
    if raw.rpartition(".")[2].lower() in _FILE_EXTENSIONS and "/" not in raw:
        return IndicatorKind.FILENAME
    for candidate in (
        IndicatorKind.IP,
        IndicatorKind.CIDR,
        IndicatorKind.EMAIL,
        IndicatorKind.DOMAIN,
    ):
        if candidate is IndicatorKind.EMAIL and "@" not in raw:
            continue
        try:
            _NORMALISERS[candidate](raw)
        except IndicatorError:
            continue
        return candidate
    if "/" in raw and not raw.startswith("/"):
        try:
            normalise_url(raw)
        except IndicatorError:
            pass
        else:
            if "." in raw.split("/", 1)[0]:
                return IndicatorKind.URL
    return IndicatorKind.FILENAME


# --- the indicator -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Indicator:
    """One indicator from one source; identity is (kind, value, source)."""

    kind: IndicatorKind
    value: str
    source: str
    confidence: int = 50
    valid_from: datetime | None = None
    #: After this moment the indicator has expired and no longer matches.
    valid_until: datetime | None = None
    tags: tuple[str, ...] = ()
    description: str = ""
    external_id: str = ""
    #: filename_regex only: a path that also matches this expression is a known false positive.
    exclude: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", IndicatorKind(self.kind))
        object.__setattr__(self, "value", normalise(self.kind, self.value))
        if len(self.value) > MAX_VALUE:
            raise IndicatorError(f"indicator value longer than {MAX_VALUE} characters")
        if not self.source.strip() or len(self.source) > 200:
            raise IndicatorError(f"indicator source must be 1-200 characters: {self.source!r}")
        if len(self.external_id) > 200:
            raise IndicatorError(f"external id longer than 200 characters: {self.external_id!r}")
        if not 0 <= self.confidence <= 100:
            raise IndicatorError(f"confidence {self.confidence} is outside 0-100")
        for name in ("valid_from", "valid_until"):
            moment = getattr(self, name)
            if moment is not None:
                object.__setattr__(self, name, to_utc(moment))
        if self.exclude:
            normalise_filename_regex(self.exclude)
        object.__setattr__(
            self, "tags", tuple(dict.fromkeys(t.strip() for t in self.tags if t.strip()))
        )

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind.value, self.value, self.source)

    def active_at(self, at: datetime) -> bool:
        at = to_utc(at)
        if self.valid_from is not None and at < self.valid_from:
            return False
        return self.valid_until is None or at < self.valid_until


# How bad a hit is: a file's exact hash names one file; an address or domain may be shared.
_BASE_SEVERITY = {
    IndicatorKind.MD5: Severity.HIGH,
    IndicatorKind.SHA1: Severity.HIGH,
    IndicatorKind.SHA256: Severity.HIGH,
    IndicatorKind.URL: Severity.HIGH,
    IndicatorKind.IP: Severity.MEDIUM,
    IndicatorKind.CIDR: Severity.LOW,
    IndicatorKind.DOMAIN: Severity.MEDIUM,
    IndicatorKind.EMAIL: Severity.MEDIUM,
    IndicatorKind.FILENAME: Severity.MEDIUM,
    IndicatorKind.FILENAME_REGEX: Severity.MEDIUM,
}


def severity_of(indicator: Indicator) -> Severity:
    """The kind's base severity, one step up at confidence >= 90 and one down below 40."""
    base = int(_BASE_SEVERITY[indicator.kind])
    if indicator.confidence >= 90:
        base += 1
    elif indicator.confidence < 40:
        base -= 1
    return Severity(min(max(base, Severity.INFO), Severity.CRITICAL))


# --- matching ----------------------------------------------------------------------------------

#: What a looked-up value is taken as; URL and e-mail lookups also try their host.
QUERY_FAMILIES = ("ip", "domain", "url", "hash", "email", "filename")


@dataclass
class _Networks:
    """CIDR blocks and addresses of one IP version, bucketed by prefix length.

    CIDR blocks either nest or are disjoint, so the blocks holding an address are found by
    masking it once per prefix length in use (at most 33 or 129 dict probes), whatever the
    number of blocks.
    """

    bits: int
    by_prefix: dict[int, dict[int, list[Indicator]]] = field(default_factory=dict)
    prefixes: tuple[int, ...] = ()

    def add(
        self, network: ipaddress.IPv4Network | ipaddress.IPv6Network, indicator: Indicator
    ) -> None:
        bucket = self.by_prefix.setdefault(network.prefixlen, {})
        bucket.setdefault(int(network.network_address), []).append(indicator)

    def freeze(self) -> None:
        self.prefixes = tuple(sorted(self.by_prefix, reverse=True))

    def lookup(self, address: int) -> list[Indicator]:
        found: list[Indicator] = []
        full = (1 << self.bits) - 1
        for prefix in self.prefixes:
            mask = full ^ ((1 << (self.bits - prefix)) - 1)
            hit = self.by_prefix[prefix].get(address & mask)
            if hit:
                found.extend(hit)
        return found


class IndicatorMatcher:
    """Looks values up in a set of indicators in time independent of the set's size."""

    def __init__(self, indicators: Iterable[Indicator]) -> None:
        self._networks = {4: _Networks(32), 6: _Networks(128)}
        self._exact: dict[str, dict[str, list[Indicator]]] = {
            "domain": defaultdict(list),
            "url": defaultdict(list),
            "hash": defaultdict(list),
            "email": defaultdict(list),
            "filename": defaultdict(list),
        }
        self._regexes: list[tuple[re.Pattern[str], re.Pattern[str] | None, Indicator]] = []
        self.size = 0
        for ind in indicators:
            self._add(ind)
            self.size += 1
        for networks in self._networks.values():
            networks.freeze()

    def __len__(self) -> int:
        return self.size

    def _add(self, ind: Indicator) -> None:
        kind = ind.kind
        if kind in (IndicatorKind.IP, IndicatorKind.CIDR):
            network = ipaddress.ip_network(ind.value, strict=False)
            self._networks[network.version].add(network, ind)
        elif kind in HASH_KINDS:
            self._exact["hash"][ind.value].append(ind)
        elif kind is IndicatorKind.FILENAME_REGEX:
            exclude = re.compile(ind.exclude) if ind.exclude else None
            self._regexes.append((re.compile(ind.value), exclude, ind))
        else:
            self._exact[kind.value][ind.value].append(ind)

    @property
    def has_filenames(self) -> bool:
        return bool(self._exact["filename"] or self._regexes)

    def hash_kinds(self) -> set[IndicatorKind]:
        """Which file hashes are worth computing for this set."""
        return {ind.kind for found in self._exact["hash"].values() for ind in found}

    # Each lookup takes a raw value and returns every indicator that covers it, in any time.

    def lookup_ip(self, value: str) -> list[Indicator]:
        try:
            address = ipaddress.ip_address(normalise_ip(value))
        except IndicatorError:
            return []
        return self._networks[address.version].lookup(int(address))

    def lookup_domain(self, value: str) -> list[Indicator]:
        """The domain and every parent: 'a.b.evil.com' is covered by an indicator 'evil.com'."""
        try:
            domain = normalise_domain(value, single_label=True)
        except IndicatorError:
            return []
        table = self._exact["domain"]
        found: list[Indicator] = []
        while True:
            found.extend(table.get(domain, ()))
            _, dot, domain = domain.partition(".")
            if not dot:
                return found

    def lookup_host(self, host: str) -> list[Indicator]:
        return self.lookup_ip(host) or self.lookup_domain(host)

    def lookup_url(self, value: str) -> list[Indicator]:
        try:
            url = normalise_url(value)
        except IndicatorError:
            return []
        found = list(self._exact["url"].get(url, ()))
        host = urlsplit(url).hostname or ""
        return found + self.lookup_host(host)

    def lookup_hash(self, value: str) -> list[Indicator]:
        return list(self._exact["hash"].get(value.strip().lower(), ()))

    def lookup_email(self, value: str) -> list[Indicator]:
        try:
            email = normalise_email(value)
        except IndicatorError:
            return []
        return list(self._exact["email"].get(email, ())) + self.lookup_domain(
            email.rsplit("@", 1)[1]
        )

    def lookup_filename(self, path: str) -> list[Indicator]:
        """A literal name matches the path's last components; a regex searches the whole path."""
        found: list[Indicator] = []
        table = self._exact["filename"]
        if table:
            parts = normalise_filename(path).split("/") if path.strip() else []
            for start in range(len(parts) - 1, -1, -1):
                found.extend(table.get("/".join(parts[start:]), ()))
        for pattern, exclude, ind in self._regexes:
            if pattern.search(path) and not (exclude and exclude.search(path)):
                found.append(ind)
        return found

    def lookup(self, value: str, family: str | None = None) -> list[Indicator]:
        """Indicators covering `value`, taken as `family` (one of QUERY_FAMILIES) or guessed."""
        if family is None:
            kind = guess_kind(value)
            family = {
                IndicatorKind.CIDR: "ip",
                IndicatorKind.MD5: "hash",
                IndicatorKind.SHA1: "hash",
                IndicatorKind.SHA256: "hash",
                IndicatorKind.FILENAME_REGEX: "filename",
            }.get(kind, kind.value)
        if family == "ip" and "/" in value:
            # A block queried as a value: indicators covering its first address.
            try:
                value = str(ipaddress.ip_network(refang(value), strict=False).network_address)
            except ValueError:
                return []
        lookups: dict[str, Callable[[str], list[Indicator]]] = {
            "ip": self.lookup_ip,
            "domain": self.lookup_domain,
            "url": self.lookup_url,
            "hash": self.lookup_hash,
            "email": self.lookup_email,
            "filename": self.lookup_filename,
        }
        if family not in lookups:
            raise IndicatorError(f"unknown lookup family {family!r}; use one of {QUERY_FAMILIES}")
        return lookups[family](value)

    def match(
        self, value: str, family: str | None = None, at: datetime | None = None
    ) -> list[Indicator]:
        """Like lookup, without indicators that are expired or not yet valid at `at` (now)."""
        moment = to_utc(at) if at is not None else utcnow()
        return [ind for ind in self.lookup(value, family) if ind.active_at(moment)]
