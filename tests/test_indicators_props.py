"""Property tests: indicator normalisation, the matcher against brute force, the IOC line parser."""

from __future__ import annotations

import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.core.indicators import (
    Indicator,
    IndicatorError,
    IndicatorKind,
    IndicatorMatcher,
    normalise_domain,
    normalise_email,
    normalise_ip,
    normalise_url,
)
from vigil.monitor.detect.indicators.feeds import parse_sigbase_line

K = IndicatorKind
LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
TLD = st.from_regex(r"[a-z]{2,6}", fullmatch=True)
DOMAIN = st.builds(
    lambda labels, tld: ".".join([*labels, tld]), st.lists(LABEL, min_size=1, max_size=4), TLD
)
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _random_case(text: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if flip else c for c, flip in zip(text, flips + [False] * len(text), strict=False)
    )


@FAST
@given(DOMAIN, st.lists(st.booleans(), max_size=80), st.integers(0, 2))
def test_domain_spellings_normalise_to_one(domain: str, flips: list[bool], dots: int) -> None:
    assert normalise_domain(_random_case(domain, flips) + "." * dots) == domain


@FAST
@given(st.text(max_size=60))
def test_domain_normalisation_is_idempotent_or_refuses(text: str) -> None:
    try:
        normal = normalise_domain(text)
    except IndicatorError:
        return
    assert normalise_domain(normal) == normal
    assert normal == normal.lower() and normal.isascii() and not normal.endswith(".")


@FAST
@given(DOMAIN, st.lists(LABEL, min_size=1, max_size=3), LABEL)
def test_subdomains_match_and_lookalikes_do_not(domain: str, prefix: list[str], glued: str) -> None:
    indicator = Indicator(K.DOMAIN, domain, "prop")
    matcher = IndicatorMatcher([indicator])
    assert matcher.lookup_domain(".".join([*prefix, domain]).upper()) == [indicator]
    assert matcher.lookup_domain(glued + domain) == []
    assert matcher.lookup_domain(domain + ".zz") == []


@FAST
@given(st.integers(0, 2**32 - 1))
def test_ipv4_spellings_normalise_to_one(n: int) -> None:
    dotted = str(ipaddress.IPv4Address(n))
    assert normalise_ip(dotted) == dotted
    assert normalise_ip(f"::ffff:{dotted}") == dotted
    assert normalise_ip(dotted.replace(".", "[.]")) == dotted
    assert normalise_ip(f" {dotted} ") == dotted


@FAST
@given(st.integers(0, 2**128 - 1))
def test_ipv6_normalisation_is_idempotent(n: int) -> None:
    address = ipaddress.IPv6Address(n)
    normal = normalise_ip(address.exploded.upper())
    assert normalise_ip(normal) == normal
    expected = str(address.ipv4_mapped) if address.ipv4_mapped else str(address)
    assert normal == expected


@FAST
@given(st.text(max_size=40))
def test_ip_normalisation_is_idempotent_or_refuses(text: str) -> None:
    try:
        normal = normalise_ip(text)
    except IndicatorError:
        return
    assert normalise_ip(normal) == normal


NETWORK = st.builds(
    lambda n, prefix: ipaddress.IPv4Network((n, prefix), strict=False),
    st.integers(0, 2**32 - 1),
    st.integers(0, 32),
)


@FAST
@given(st.lists(NETWORK, min_size=1, max_size=30), st.lists(st.integers(0, 2**32 - 1), max_size=30))
def test_cidr_lookup_equals_brute_force(
    networks: list[ipaddress.IPv4Network], probes: list[int]
) -> None:
    indicators = [Indicator(K.CIDR, str(net), f"src{i}") for i, net in enumerate(networks)]
    matcher = IndicatorMatcher(indicators)
    # Probe inside every network too, not only at random.
    addresses = [ipaddress.IPv4Address(p) for p in probes] + [
        net.network_address for net in networks
    ]
    for address in addresses:
        expected = {
            ind.key for ind, net in zip(indicators, networks, strict=True) if address in net
        }
        assert {ind.key for ind in matcher.lookup_ip(str(address))} == expected


@FAST
@given(st.text(max_size=80))
def test_url_and_email_normalisation_is_idempotent_or_refuses(text: str) -> None:
    for normaliser in (normalise_url, normalise_email):
        try:
            normal = normaliser(text)
        except IndicatorError:
            continue
        assert normaliser(normal) == normal


@FAST
@given(st.sampled_from(["hash", "c2", "filename"]), st.text(max_size=120))
def test_ioc_line_parser_never_fails_otherwise(list_type: str, text: str) -> None:
    try:
        parsed = parse_sigbase_line(list_type, text)
    except IndicatorError:
        return
    if parsed is None:
        assert not text.strip() or text.strip().startswith("#")
    else:  # what the parser returns is already normalised and makes a valid indicator
        assert (
            Indicator(parsed.kind, parsed.value, "prop", exclude=parsed.exclude).value
            == parsed.value
        )


HEX = st.sampled_from([32, 40, 64]).flatmap(
    lambda n: st.text("0123456789abcdefABCDEF", min_size=n, max_size=n)
)
COMMENT = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=40)


@FAST
@given(HEX, COMMENT)
def test_ioc_hash_lines_parse_exactly(digest: str, comment: str) -> None:
    line = f"{digest};{comment}" if comment else digest
    parsed = parse_sigbase_line("hash", line + "\n")
    assert parsed is not None
    assert parsed.value == digest.lower()
    assert parsed.kind is {32: K.MD5, 40: K.SHA1, 64: K.SHA256}[len(digest)]
    assert parsed.comment == comment.strip()  # everything after the first ';', even more ';'s


@FAST
@given(st.integers(0, 2**32 - 1), st.none() | st.integers(0, 100))
def test_ioc_c2_lines_parse_exactly(n: int, score: int | None) -> None:
    address = str(ipaddress.IPv4Address(n))
    parsed = parse_sigbase_line("c2", address if score is None else f"{address};{score}")
    assert parsed is not None
    assert (parsed.kind, parsed.value) == (K.IP, address)
    assert parsed.confidence == (80 if score is None else score)


@FAST
@given(st.integers(101, 10**6) | st.integers(-(10**6), -1))
def test_ioc_scores_outside_range_are_refused(score: int) -> None:
    for list_type, value in (("c2", "evil.example"), ("filename", r"\\evil\.exe")):
        try:
            parse_sigbase_line(list_type, f"{value};{score}")
        except IndicatorError as e:
            assert "outside 0-100" in e.message
        else:
            raise AssertionError("a score outside 0-100 was accepted")


@FAST
@given(st.text(max_size=8).filter(lambda s: s.strip() == s and s != "" and not s.startswith("#")))
def test_comment_and_blank_lines_are_not_indicators(text: str) -> None:
    assert parse_sigbase_line("hash", "# " + text) is None
    assert parse_sigbase_line("c2", "   ") is None
