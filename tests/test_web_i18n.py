"""Every string the frame shows exists in Vietnamese, with diacritics, in web/locales/vi.po."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

import vigil.web
from vigil.core.access import Role
from vigil.core.i18n import _, translations
from vigil.plugins import template_folders
from vigil.web.templating import FRAME_NAV, build_environment

WEB = Path(vigil.web.__file__).parent
VI_PO = WEB / "locales" / "vi.po"


def extracted() -> dict[str, str]:
    """msgid -> where it is used, from the templates and the Python code of the frame."""
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {
        "**/templates/**.html": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}
    }
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(WEB), method_map, options_map=options
    ):
        msgid = message if isinstance(message, str) else message[0]
        found.setdefault(msgid, f"{filename}:{lineno}")
    return found


def catalog() -> dict[str, str | tuple[str, ...]]:
    with VI_PO.open("rb") as fh:
        cat = read_po(fh, locale="vi")
    out: dict[str, str | tuple[str, ...]] = {}
    for message in cat:
        if not message.id:
            continue
        key = message.id if isinstance(message.id, str) else message.id[0]
        out[key] = message.string
    return out


def test_every_extracted_message_has_a_vietnamese_translation() -> None:
    messages = extracted()
    assert len(messages) > 60  # the extraction really saw the templates
    cat = catalog()
    missing = {m: where for m, where in messages.items() if not cat.get(m)}
    assert missing == {}


def test_roles_and_nav_are_translated() -> None:
    cat = catalog()
    for role in Role:
        assert cat.get(role.value), role
    assert _("duty_officer", "vi") == "cán bộ trực ban"
    for item in FRAME_NAV:
        assert _(item.label_key, "vi") != item.label_key, item.label_key


def test_translations_carry_diacritics_and_keep_placeholders() -> None:
    cat = catalog()
    vietnamese_letters = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")
    accented = [
        s for s in cat.values() if isinstance(s, str) and set(s.lower()) & vietnamese_letters
    ]
    assert len(accented) > 0.8 * len(cat)
    placeholders = re.compile(r"%\(\w+\)s")
    for msgid, text in cat.items():
        for translated in text if isinstance(text, tuple) else (text,):
            assert set(placeholders.findall(msgid)) <= set(placeholders.findall(translated)), msgid


def test_plural_forms_work_in_both_languages() -> None:
    env = build_environment()
    template = env.from_string('{{ ngettext("%(num)s case", "%(num)s cases", n) }}')
    assert template.render(lang="en", n=1) == "1 case"
    assert template.render(lang="en", n=3) == "3 cases"
    assert template.render(lang="vi", n=3) == "3 vụ việc"
    assert translations("vi").gettext("Audit log") == "Nhật ký kiểm toán"


def test_every_template_compiles() -> None:
    """The frame's templates and every room's (vigil_templates), in one environment."""
    env = build_environment(template_folders())
    names = env.list_templates(extensions=["html"])
    assert {"base.html", "dashboard.html", "alerts.html", "case.html", "duty.html"} <= set(names)
    for name in names:
        env.get_template(name)
