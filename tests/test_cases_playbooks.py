"""Playbooks: the built-in set, validation errors that name file and line, suggestions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vigil.cases.playbooks import (
    PLAYBOOK_DIR,
    PlaybookError,
    load_playbook,
    load_playbooks,
    suggest_playbook,
)
from vigil.core.severity import Severity

VIETNAMESE = set("ăâđêôơưáàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")

GOOD = """\
key: {key}
title_en: Test playbook
title_vi: Quy trình thử
severity: high
applies_to: ["monitor:*test*"]
steps:
  - title_en: First
    title_vi: Bước một
  - title_en: Second
    title_vi: Bước hai
"""


@dataclass
class FakeFinding:
    capability: str
    rule: str
    evidence: dict[str, Any] = field(default_factory=dict)


def test_built_in_playbooks_are_complete_and_bilingual() -> None:
    playbooks = load_playbooks()
    assert set(playbooks) == {
        "account_takeover",
        "ransomware_voter_list",
        "portal_defacement_ddos",
        "personal_data_leak",
        "phishing_staff",
        "malware_host",
        "voting_disinformation",
    }
    assert {k: len(p.steps) for k, p in playbooks.items()} == {
        "account_takeover": 8,
        "malware_host": 8,
        "personal_data_leak": 8,
        "phishing_staff": 8,
        "portal_defacement_ddos": 8,
        "ransomware_voter_list": 9,
        "voting_disinformation": 7,
    }
    assert playbooks["ransomware_voter_list"].severity is Severity.CRITICAL
    for pb in playbooks.values():
        assert pb.title_vi != pb.title_en
        for step in pb.steps:
            assert step.title_en[0].isupper() and step.title_en.endswith(".")
            assert step.title_vi.endswith(".")
            assert VIETNAMESE & set(step.title_vi.lower()), step.title_vi
        assert len({s.title_en for s in pb.steps}) == len(pb.steps)


def test_bad_yaml_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("key: broken\ntitle_en: [unclosed\nsteps: []\n", encoding="utf-8")
    with pytest.raises(PlaybookError) as err:
        load_playbooks(tmp_path)
    assert str(err.value).startswith(f"{path}:3: not valid YAML")


def test_shape_errors_name_field_and_line(tmp_path: Path) -> None:
    path = tmp_path / "missing.yaml"
    path.write_text(
        GOOD.format(key="missing").replace("    title_vi: Bước hai\n", ""), encoding="utf-8"
    )
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    assert str(err.value) == f"{path}:9: steps.1.title_vi: Field required"

    path = tmp_path / "sev.yaml"
    path.write_text(
        GOOD.format(key="sev").replace("severity: high", "severity: urgent"), encoding="utf-8"
    )
    with pytest.raises(PlaybookError, match=r"sev\.yaml:4: severity: .*unknown severity 'urgent'"):
        load_playbook(path)

    path = tmp_path / "other.yaml"
    path.write_text(GOOD.format(key="not_other"), encoding="utf-8")
    with pytest.raises(
        PlaybookError, match=r"other\.yaml:1: key 'not_other' must equal the file name"
    ):
        load_playbook(path)

    path = tmp_path / "pattern.yaml"
    path.write_text(
        GOOD.format(key="pattern").replace('"monitor:*test*"', '"*test*"'), encoding="utf-8"
    )
    with pytest.raises(PlaybookError, match=r"pattern\.yaml:5: applies_to: .*capability:rule"):
        load_playbook(path)

    # A step waits only for an earlier one; the error names the file and the steps' line.
    path = tmp_path / "order.yaml"
    path.write_text(
        GOOD.format(key="order").replace(
            "    title_vi: Bước một\n", "    title_vi: Bước một\n    after: [2]\n"
        ),
        encoding="utf-8",
    )
    with pytest.raises(
        PlaybookError,
        match=r"order\.yaml:7: steps: .*step 1 waits for step 2, which is not an earlier",
    ):
        load_playbook(path)
    path.write_text(GOOD.format(key="order") + "    after: [1, 1]\n", encoding="utf-8")
    assert [st.after for st in load_playbook(path).steps] == [(), (1,)]

    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(PlaybookError, match=r"list\.yaml:1: a playbook must be a YAML mapping"):
        load_playbook(path)


def test_suggestions_follow_patterns_and_tags() -> None:
    playbooks = load_playbooks()
    cases = [
        (FakeFinding("monitor", "sigma-ransom-note-dropped"), "ransomware_voter_list"),
        (
            FakeFinding("monitor", "sigma-4711", {"tags": ["attack.impact", "attack.t1486"]}),
            "ransomware_voter_list",
        ),
        (FakeFinding("monitor", "sigma-4712", {"tags": ["attack.t1566.001"]}), "phishing_staff"),
        (FakeFinding("infowatch", "impersonation-of-official-page"), "account_takeover"),
        (FakeFinding("infowatch", "lookalike-domain"), "phishing_staff"),
        (FakeFinding("infowatch", "false-claim-polling-hours"), "voting_disinformation"),
        (FakeFinding("monitor", "yara-spyware-agent"), "malware_host"),
        (FakeFinding("monitor", "Portal-DDoS-Burst"), "portal_defacement_ddos"),
        (FakeFinding("registry", "bulk-export-of-records"), "personal_data_leak"),
        (FakeFinding("registry", "duplicate-person"), None),
        # Nothing fits the rule or its tags: the capability decides (issue 9).
        (FakeFinding("monitor", "sigma-4713", {"tags": "not-a-list"}), "malware_host"),
    ]
    assert [suggest_playbook(f, playbooks) for f, _ in cases] == [expected for _, expected in cases]


def test_the_more_specific_pattern_wins(tmp_path: Path) -> None:
    (tmp_path / "wide.yaml").write_text(
        GOOD.format(key="wide").replace('"monitor:*test*"', '"*:*test*"'), "utf-8"
    )
    (tmp_path / "narrow.yaml").write_text(
        GOOD.format(key="narrow")
        .replace('"monitor:*test*"', '"monitor:*test-host*"')
        .replace("high", "low"),
        "utf-8",
    )
    playbooks = load_playbooks(tmp_path)
    assert suggest_playbook(FakeFinding("monitor", "a-test-host-rule"), playbooks) == "narrow"
    assert suggest_playbook(FakeFinding("monitor", "a-test-rule"), playbooks) == "wide"


def test_built_in_folder_is_next_to_the_module() -> None:
    assert PLAYBOOK_DIR.name == "playbooks" and (PLAYBOOK_DIR / "phishing_staff.yaml").is_file()


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=300))
def test_any_text_is_a_playbook_or_a_playbook_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_playbook(path)
    except PlaybookError as e:
        assert str(e).startswith(str(path))


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["key", "title_en", "title_vi", "severity", "applies_to", "steps", "extra"]
        ),
        st.one_of(
            st.none(),
            st.integers(),
            st.text(max_size=20),
            st.lists(st.text(max_size=10), max_size=3),
        ),
    )
)
def test_wrong_shapes_are_refused_cleanly(
    tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any]
) -> None:
    import yaml

    path = tmp_path_factory.mktemp("shape") / "fuzz.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(PlaybookError) as err:
        load_playbook(path)
    assert str(err.value).startswith(str(path))


def test_a_sigma_finding_resolves_to_a_playbook_by_tactic_then_capability() -> None:
    """A Sigma rule's id is a UUID no pattern names: its ATT&CK tactic, and failing that its
    capability, choose the playbook (issue 9: 'suggested for the alert' gave none)."""
    from types import SimpleNamespace

    from vigil.cases.playbooks import suggest_playbook

    uuid = "5a0b3c4d-0000-4000-8000-000000000001"
    spray = SimpleNamespace(
        capability="monitor",
        rule=uuid,
        evidence={"tags": ["attack.credential-access", "attack.t1110.003x"]},
    )
    assert suggest_playbook(spray) == "account_takeover"
    wiper = SimpleNamespace(
        capability="monitor", rule=uuid, evidence={"attack": {"tactics": ["impact"]}}
    )
    assert suggest_playbook(wiper) == "ransomware_voter_list"
    bare = SimpleNamespace(capability="monitor", rule=uuid, evidence={})
    assert suggest_playbook(bare) == "malware_host"
    claim = SimpleNamespace(capability="infowatch", rule="x-unknown", evidence={})
    assert suggest_playbook(claim) == "voting_disinformation"
    # The rule's own pattern still wins over its tactic.
    defaced = SimpleNamespace(
        capability="monitor", rule="web-defacement", evidence={"tags": ["attack.impact"]}
    )
    assert suggest_playbook(defaced) == "portal_defacement_ddos"
    assert suggest_playbook(SimpleNamespace(capability="inspect", rule="x", evidence={})) is None
