"""User text rendered as Markdown stays text (issue 13): no LaTeX, colour, links, images or HTML
from names, titles and free text; links only http(s)/mailto/tel built from validated parts; the
probe's `x@y.z)![px](http://...)` is refused by the e-mail check and inert if already stored."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from sqlalchemy import update

from db.engine import write_session
from db.models import Contact, Service
from domain import validation as v
from domain.markdown_safety import JOINER, mailto_link, md, md_inline, tel_link, web_link
from locales import LANGUAGES, translate
from services import referrals as ref
from services.errors import ValidationError
from services.users import create_user
from tests.factories import make_world
from tests.test_referrals import app, build, texts

ROOT = Path(__file__).resolve().parents[1]
PROBE_EMAIL = "x@y.z)![px](http://203.0.113.9/px.png)"
HOSTILE = [
    "$x^2$ and $$\\int f$$",
    ":red[Alarm] :material/warning: :smile:",
    "[click me](http://evil.example)",
    "![px](http://evil.example/p.png)",
    "<img src=x onerror=alert(1)> <b>bold</b>",
    "# Heading\n---\n> quote\n- item\n1. one",
    "**bold** _it_ ~~strike~~ `code`",
    "see http://evil.example or www.evil.example or mail x@evil.example",
    PROBE_EMAIL,
    "Café Öresund & Co. (Malmö) — 50% off!",
]


def _tokens(markdown: str) -> list:
    parser = MarkdownIt("commonmark", {"linkify": False}).enable(["table", "strikethrough"])
    out = []
    for token in parser.parse(markdown):
        out.append(token)
        out += token.children or []
    return out


def _plain(markdown: str) -> str:
    return "".join(
        t.content
        if t.type in ("text", "code_inline")
        else "\n"
        if t.type in ("softbreak", "hardbreak")
        else ""
        for t in _tokens(markdown)
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_typed_with_no_markup(text):
    rendered = md(text)
    kinds = {t.type for t in _tokens(rendered)}
    assert kinds <= {"paragraph_open", "paragraph_close", "inline", "text", "hardbreak", "softbreak"}, kinds
    assert _plain(rendered).replace("\n", "").replace(JOINER, "") == text.replace("\n", "")
    # Streamlit's own extensions, which CommonMark does not know: every trigger character is escaped
    for trigger in "$[]<>*_~`|":
        assert trigger not in rendered.replace("\\" + trigger, "")
    # bare addresses cannot be auto-linked: the characters an autolink needs are escaped
    assert "http://" not in rendered and "www." not in rendered.lower()
    assert not re.search(
        r"(?<!\\)(:(?=[A-Za-z/])|&(?=[A-Za-z#])|@(?=\w))", rendered
    )  # no directive, entity, e-mail link


def test_block_markers_only_at_line_start_and_ordinary_text_unchanged():
    assert md("# Rubrik\n- punkt\n  > citat\n12. tolv\n===") == (
        "\\# Rubrik  \n\\- punkt  \n  \\> citat  \n12\\. tolv  \n\\==="
    )
    for plain in (
        "T-Connector",
        "VC-A",
        "040-12 34 56",
        "Vårdcentral A (Limhamn), 2.0",
        "50% off!",
        "kl. 14:00",
        "intresse: promenad",
        "Café & Co",
    ):
        assert md(plain) == plain


def test_inline_form_keeps_one_line():
    assert "\n" not in md_inline("a\nb\r\nc")
    assert md(None) == md_inline(None) == ""


def test_probe_email_is_refused_by_the_email_check_in_every_language():
    with pytest.raises(v.FieldError) as error:
        v.email(PROBE_EMAIL)
    assert error.value.key == "error.email_format"
    assert all(translate("error.email_format", lang) != "error.email_format" for lang in LANGUAGES)
    for good in ("anna@region.se", "karin.berg+lotsa@ga.example", "åsa@malmö.se", "o'neil@x.dk"):
        assert v.email(good) == good.lower()
    for bad in (
        "a@b",
        "a b@c.se",
        "<a@b.se>",
        "a@b.se)",
        "a@b.se]",
        'a"@b.se',
        "a@b.se?subject=x",
        "a@b,c.se",
    ):
        with pytest.raises(v.FieldError):
            v.email(bad)


def test_links_only_from_validated_parts():
    assert mailto_link("Anna@Region.se") == "[anna@region.se](<mailto:anna@region.se>)"
    inert = mailto_link(PROBE_EMAIL)
    assert not {"link_open", "image"} & {t.type for t in _tokens(inert)} and "mailto" not in inert
    assert tel_link("040-11 22 33") == "[040-11 22 33](<tel:040112233>)"
    assert tel_link("+46 40 11 22 33").endswith("(<tel:+46401122 33>)".replace(" ", ""))
    assert "tel:" not in tel_link("040)](javascript:alert(1)")
    assert web_link("Sajt", "https://ga.example/a)b>c") == "[Sajt](<https://ga.example/a%29b%3Ec>)"
    assert web_link("Sajt", "https://ga.example/a b") == "Sajt"  # not a valid address: no link
    for scheme in ("javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "ftp://x.se"):
        assert "](" not in web_link("x", scheme)


def test_admin_cannot_store_the_probe_email_on_a_user(db_url):
    world = make_world()
    with pytest.raises(ValidationError) as caught:
        create_user(
            world.principals["admin"],
            username="probe",
            display_name="Probe",
            role="volunteer",
            password="correct horse battery",
            email=PROBE_EMAIL,
        )
    assert "email" in caught.value.fields


def test_referral_page_shows_a_stored_probe_email_as_inert_text(sqlite_url):
    """Data already stored (an older import, a direct database edit) is still rendered inert."""
    rw = build()
    hostile_name = "Karin :red[Berg] $x^2$ ![px](http://203.0.113.9/n.png)"
    with write_session() as s:
        s.execute(
            update(Contact)
            .where(Contact.service_id == rw.service)
            .values(email=PROBE_EMAIL, name=hostile_name)
        )
        s.execute(
            update(Service).where(Service.id == rw.service).values(name="Promenad [x](http://evil.example)")
        )
    view = ref.create_referral(rw.p("connector"), patient_id=rw.patient, service_id=rw.service)
    at = app(rw, "connector", id=str(view.id))
    at.switch_page("app_pages/referral.py")
    at.run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert md(PROBE_EMAIL) in shown and md(hostile_name) in shown
    from components.sidebar import preload_html

    for markdown in [e.value for e in (*at.title, *at.subheader, *at.markdown, *at.caption)]:
        if markdown == preload_html():  # the sidebar's one constant element (no user text in it)
            continue
        kinds = {t.type for t in _tokens(markdown)}
        assert "image" not in kinds and "html_inline" not in kinds and "html_block" not in kinds, markdown
        links = [t.attrs.get("href") for t in _tokens(markdown) if t.type == "link_open"]
        assert all(str(h).startswith(("tel:", "mailto:", "http://", "https://", "/")) for h in links), links
        assert "203.0.113.9" not in " ".join(map(str, links))
        assert "$x^2$" not in markdown and ":red[" not in markdown


# --- Pages do not hand user strings to Markdown unescaped --------------------------------------------

RENDERERS = {
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "write",
    "info",
    "warning",
    "success",
    "error",
    "toast",
    "page_link",
    "expander",
    "button",
    "link_button",
    "popover",
    "metric",
    "tabs",
    "status",
}
# Attributes and keys that hold text someone typed (names, titles, free text, contact details, paths).
USER_TEXT = {
    "name",
    "display_name",
    "organization",
    "organization_name",
    "service_name",
    "contact_name",
    "contact_email",
    "contact_phone",
    "contact_title",
    "title",
    "description",
    "address",
    "note",
    "notes",
    "message",
    "first_name",
    "phone",
    "email",
    "username",
    "fees",
    "schedule_text",
    "submitter_name",
}
# Project text, not typed by users: instrument names and notes come from domain/instrument_defs.py.
TRUSTED = {("app_pages/screening.py", "d.name"), ("components/instrument_form.py", "d.note")}
SAFE_WRAPPERS = {"md", "md_inline", "escape_md", "mailto_link", "tel_link", "web_link", "_safe"}


def _is_safe_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in SAFE_WRAPPERS


def _user_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr in USER_TEXT
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value in USER_TEXT
    )


def _unescaped_user_text(tree: ast.AST) -> list[tuple[int, str]]:
    found = []

    def visit(node: ast.AST, wrapped: bool) -> None:
        if isinstance(node, ast.IfExp):  # the condition is not rendered
            visit(node.body, wrapped)
            visit(node.orelse, wrapped)
            return
        if isinstance(node, ast.GeneratorExp | ast.ListComp) and _is_safe_call(node.elt):
            return  # every element goes through a safe wrapper
        if isinstance(node, ast.Call) and _is_safe_call(node):
            wrapped = True
        if not wrapped and _user_text(node):
            found.append((node.lineno, ast.unparse(node)))
        for child in ast.iter_child_nodes(node):
            visit(child, wrapped)

    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in RENDERERS
        ):
            for arg in [
                *node.args,
                *(k.value for k in node.keywords if k.arg in (None, "label", "body", "value")),
            ]:
                visit(arg, False)
    return found


def test_scanner_sees_an_unescaped_name():
    bad = ast.parse(
        "st.title(item.name)\nst.markdown(f'**{row.organization}**')\nst.title(md_inline(item.name))"
    )
    assert [line for line, _ in _unescaped_user_text(bad)] == [1, 2]


def test_pages_and_components_escape_user_text_given_to_markdown():
    problems = []
    for path in sorted([*ROOT.glob("app_pages/*.py"), *ROOT.glob("components/*.py")]):
        for line, expr in _unescaped_user_text(ast.parse(path.read_text(encoding="utf-8"))):
            if (str(path.relative_to(ROOT)), expr) in TRUSTED:
                continue
            problems.append(f"{path.relative_to(ROOT)}:{line}: {expr}")
    assert not problems, "user text rendered as Markdown without md()/md_inline():\n" + "\n".join(problems)


def test_the_sidebar_preloads_the_chart_bundle_only_for_roles_with_charts(sqlite_url):
    """Centre outcomes' first visit waited 1.2 s for Streamlit's Plotly bundle; the sidebar lets the
    browser fetch it while the user reads the home page, and a manager's browser runs it when idle.
    Both elements are constants naming a file that exists in Streamlit's static folder; the preload is
    shown only to roles whose pages draw charts, the script only to managers."""
    from pathlib import Path

    import streamlit as st

    from components.sidebar import idle_import_html, preload_html
    from tests.test_pages import logged_in

    html = preload_html()
    name = html.split('href="./static/js/')[1].split('"')[0]
    assert (Path(st.__file__).parent / "static" / "static" / "js" / name).is_file()
    script = idle_import_html()  # the same constant address, nothing else in the script
    assert script == (
        '<script type="module">(window.requestIdleCallback || setTimeout)'
        f'(() => import("./static/js/{name}"));</script>'
    )
    w = make_world()
    for role, preload, runs in (
        ("manager", True, True),
        ("connector", True, False),
        ("partner", True, False),
        ("admin", False, False),
    ):
        at = logged_in(w, role).run()
        assert not at.exception, at.exception
        assert (html in [m.value for m in at.sidebar.markdown]) is preload, role
        scripts = [h.proto.body for h in at.sidebar.get("html") if h.proto.unsafe_allow_javascript]
        assert scripts == ([script] if runs else []), role
