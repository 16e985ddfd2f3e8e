"""Every page, for every demo role and for visitors, rendered in Swedish and Danish through AppTest
on the seeded demo region: no English UI words, no raw codes (snake_case) and no untranslated
catalogue keys in anything the user can read (texts, labels, options, placeholders, help, table
headers and cells, HTML).

What the browser adds on top (the file uploader's own texts) is covered in tests/e2e.
"""

from __future__ import annotations

import ast
import html
import json
import re
import sqlite3
from pathlib import Path

import pytest
import streamlit as st
from google.protobuf.message import Message
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from components.navigation import PAGES, PUBLIC, pages_for
from db.demo import seed_demo
from db.engine import dispose_all, unpooled_engine
from locales import catalogue, translate
from settings import DEMO_PASSWORD

ROOT = Path(__file__).resolve().parents[1]
LANGS = ("sv", "da")
DEMO_USERS = {
    "connector": "demo-connector",
    "manager": "demo-manager",
    "partner": "demo-partner",
    "admin": "demo-admin",
    "volunteer": "demo-volunteer",
}

# Words that are English and never Swedish or Danish UI text (whole words, case-insensitive).
# Not listed because they are also Swedish/Danish words: in, is, for, under, man, hand, start.
ENGLISH = re.compile(
    r"\b(the|and|of|with|choose an option|choose options|please|select|upload|browse files|"
    r"drag and drop|click|download|submit|cancel|delete|search|loading|page not found|"
    r"none|nan|null|true|false|yes|no results|error|warning|you|your|this|which|"
    r"no options|add|edit|save|back|next|previous|show|hide|unknown)\b",
    re.IGNORECASE,
)
RAW_CODE = re.compile(r"(?<![\w./@:-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w/@(-])")
# A decimal point where Swedish and Danish write a comma ("0.5" for "0,5"); clock times such as
# "10.30" are written with a point in both languages.
ENGLISH_DECIMAL = re.compile(r"(?<![\w.,:/-])(?!\d{1,2}\.(?:00|15|30|45)\b)\d+\.\d+(?![\w.:/-])")
# Danish groups thousands with a point ("2.916", "1.234,5"): not a decimal point in Danish text.
DANISH_GROUPED = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?(?![\d.])")
KEY_LIKE = re.compile(r"(?<![\w.@/-])[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+(?![\w@/-])")
# Proper nouns and fixed identifiers that are the same in every language.
ALLOWED = {
    "Lotsa",
    "HSDS",
    "Open Referral",
    "OpenStreetMap",
    "Natural Earth",
    "SWEMWBS",
    "EQ-5D-5L",
    "PHQ-9",
    "GAD-7",
    "UCLA-3",
    "DJG-6",
    "ONS4",
    "HSDS 3.0",
    # The licence requires this notice as published, in English.
    "SWEMWBS © NHS Health Scotland, University of Warwick and University of Edinburgh, 2008, "
    "all rights reserved.",
    "University of Warwick",
}
# Findings on pages another engineer owns, reported to them rather than fixed here: (page, text).
OWNED_ELSEWHERE = {
    # Not a defect: the reference-data page manages codes, so its Code column and the code field's
    # example ("walk_well") show identifiers by design.
    ("admin_reference", "raw code"),
}
# Proto fields that are identifiers, not visible text.
SKIP_FIELDS = {
    "id",
    "tag",
    "anchor",
    "form_id",
    "key",
    "data",
    "spec",
    "json",
    "url",
    "page",
    "page_script_hash",
    "icon",
    "type",
    "autocomplete",
    "format",
    "query_string",
    "mapbox_token",
    "color",
    "width_config",
    "height_config",
    "args",
    "style",
    "theme",
    "selection_mode",
    "column_config",
    "default",
    "value",
    "raw_values",
}


def _proto_strings(message: Message, out: list[str]) -> None:
    for descriptor, value in message.ListFields():
        if descriptor.name in SKIP_FIELDS:
            continue
        items = value if descriptor.is_repeated else [value]
        for item in items:
            if isinstance(item, Message):
                _proto_strings(item, out)
            elif isinstance(item, str) and item.strip():
                out.append(item)


def _markdown_text(body: str) -> str:
    """Markdown without Streamlit's icon and colour directives (:material/warning:, :orange[...])."""
    body = re.sub(r":material/[a-z0-9_]+:", " ", body)
    return re.sub(r":(?:red|orange|green|blue|violet|gray|grey|rainbow|primary)(?:-background)?\[", "[", body)


def _is_json(value: str) -> bool:
    """Column and chart configuration travels as JSON in the protos; it is not shown as text."""
    if not value.lstrip().startswith(("{", "[")):
        return False
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _frontend_defaults(proto: Message) -> list[str]:
    """English the browser fills in where the page left a text empty (Streamlit 1.67's
    frontend): a select box without a chosen value or options, a multiselect that is or can be
    emptied, shows "Choose an option" / "Choose options" / "No options to select"."""
    kind = type(proto).__name__
    if kind not in ("Selectbox", "MultiSelect") or proto.placeholder:
        return []
    if not proto.options:
        return ["No options to select"]
    if kind == "MultiSelect":
        return [f"Choose options (multiselect {proto.label!r})"]
    if not proto.HasField("default"):
        return [f"Choose an option (select box {proto.label!r})"]
    return []


def _html_text(body: str) -> str:
    body = re.sub(r"<style.*?</style>", " ", body, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def _config_texts(value: object, out: list[str]) -> None:
    """Labels and help inside a JSON configuration (column headers of a table)."""
    if isinstance(value, dict):
        for name, item in value.items():
            if name in ("label", "help", "title") and isinstance(item, str):
                out.append(item)
            else:
                _config_texts(item, out)
    elif isinstance(value, list):
        for item in value:
            _config_texts(item, out)


def _table_strings(node, out: list[str]) -> None:
    """A table's visible headers (a configured label replaces the column's name) and text cells."""
    frame = node.value
    config = json.loads(node.proto.columns or "{}") if hasattr(node.proto, "columns") else {}
    order = list(getattr(node.proto, "column_order", []))
    for column in frame.columns:
        settings = config.get(str(column), {})
        if settings.get("hidden") or (order and str(column) not in order):
            continue
        out.append(settings.get("label") or str(column))
        if frame[column].dtype == object:
            out.extend(str(v) for v in frame[column].dropna().head(50))
        elif frame[column].dtype.kind == "f":
            # The browser shows a float column with a decimal point whatever the language.
            out.extend(str(v) for v in frame[column].dropna().head(50) if not float(v).is_integer())


def _chart_strings(proto: Message, out: list[str]) -> None:
    """A Plotly chart's own texts (bar labels, annotations) and how it writes a number on hover
    and on its axes: Plotly uses a decimal point unless the layout's separators say otherwise."""
    spec = json.loads(proto.spec or "{}")
    layout = spec.get("layout", {})
    separators = layout.get("separators") or ".,"
    out.append(f"0{separators[0]}5")
    for trace in spec.get("data", []):
        texts = trace.get("text")
        out.extend(str(v) for v in (texts if isinstance(texts, list) else [texts]) if v not in (None, ""))
    out.extend(str(a.get("text")) for a in layout.get("annotations", []) if a.get("text"))


def visible_strings(at: AppTest) -> list[str]:
    """Every string the user can read on the page (best effort over the element protos)."""
    out: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if isinstance(proto, Message):
            kind = type(proto).__name__
            if kind == "Html":
                out.append(_html_text(proto.body))
            elif kind == "Markdown":
                out.append(_markdown_text(_html_text(proto.body)))
                out.append(proto.help)
            elif kind in ("Dataframe", "Table"):
                _table_strings(node, out)
            elif kind == "PlotlyChart":
                _chart_strings(proto, out)
            else:
                strings: list[str] = []
                _proto_strings(proto, strings)
                for text_ in strings:
                    if _is_json(text_):
                        _config_texts(json.loads(text_), out)
                    else:
                        out.append(text_)
            out.extend(_frontend_defaults(proto))
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    return [_markdown_text(s) for s in out if s and s.strip()]


def _key_prefixes() -> set[str]:
    return {key.split(".", 1)[0] for key in catalogue("sv")}


def problems(strings: list[str], lang: str = "sv") -> list[str]:
    keys = set(catalogue("sv"))
    prefixes = _key_prefixes()
    found = []
    for raw in strings:
        text_ = raw
        for name in sorted(ALLOWED, key=len, reverse=True):
            text_ = text_.replace(name, " ")
        text_ = re.sub(r"https?://\S+|\S+@\S+", " ", text_)  # addresses are not words
        dotted = [m for m in KEY_LIKE.findall(text_) if m.split(".", 1)[0] in prefixes]
        if text_.strip() in keys or dotted:
            found.append(f"untranslated key {dotted[:1] or text_.strip()!r} in {raw[:120]!r}")
            continue
        if match := ENGLISH.search(text_):
            found.append(f"English {match.group(0)!r} in {raw[:120]!r}")
        numbers = DANISH_GROUPED.sub(" ", text_) if lang == "da" else text_
        if match := ENGLISH_DECIMAL.search(numbers):
            found.append(f"decimal point {match.group(0)!r} in {raw[:120]!r}")
        if match := RAW_CODE.search(text_):
            found.append(f"raw code {match.group(0)!r} in {raw[:120]!r}")
    return sorted(set(found))


# The demo region, seeded once for the module ---------------------------------------------------


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory, sqlite_template) -> str:
    path = tmp_path_factory.mktemp("scan") / "demo.db"
    src, dst = sqlite3.connect(sqlite_template), sqlite3.connect(path)
    src.backup(dst)
    src.close()
    dst.close()
    url = f"sqlite:///{path}"
    with pytest.MonkeyPatch.context() as mp:
        from tests.conftest import TEST_KEY

        mp.setenv("LOTSA_SECRET_KEY", TEST_KEY)
        mp.setenv("LOTSA_DB_URL", url)
        assert seed_demo(url)
    dispose_all()
    return url


@pytest.fixture
def demo(demo_template, monkeypatch) -> dict:
    """The demo database for this test, and the ids the hidden pages need."""
    monkeypatch.setenv("LOTSA_DB_URL", demo_template)
    st.cache_data.clear()
    st.cache_resource.clear()
    engine = unpooled_engine(demo_template)
    with engine.connect() as conn:
        users = dict(conn.execute(text("SELECT username, id FROM app_user")).fetchall())
        connector = users["demo-connector"]
        follow_up_id, patient_id = conn.execute(
            text(
                "SELECT f.id, f.patient_id FROM follow_up f "
                "JOIN user_centre uc ON uc.centre_id = f.centre_id WHERE uc.user_id = :u "
                "AND EXISTS (SELECT 1 FROM referral r WHERE r.patient_id = f.patient_id) "
                "ORDER BY f.id LIMIT 1"
            ),
            {"u": connector},
        ).one()
        referral_id = conn.execute(
            text("SELECT id FROM referral WHERE patient_id = :p ORDER BY id LIMIT 1"), {"p": patient_id}
        ).scalar_one()
        service = conn.execute(
            text(
                "SELECT s.id FROM service s "
                "JOIN user_organization uo ON uo.organization_id = s.organization_id "
                "JOIN app_user u ON u.id = uo.user_id "
                "WHERE u.username = 'demo-partner' ORDER BY s.id LIMIT 1"
            )
        ).first()
    engine.dispose()
    return {
        "users": users,
        "params": {
            "patient": {"patient": patient_id},
            "screening": {"patient": patient_id},
            "matching": {"patient": patient_id},
            "care": {"patient": patient_id},
            "referral": {"id": referral_id},
            "follow_up": {"id": follow_up_id},
            "activity": {"id": service[0]},
            "activity_edit": {"id": service[0]},
            "suggest": {},
        },
    }


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


def _is_login_page(at: AppTest, lang: str) -> bool:
    return any(title.value == translate("login.title", lang) for title in at.title)


def _logged_in_state(username: str, lang: str) -> dict:
    """Log in through the form, like a user (independent of how the session is kept), and return
    the session's login state to start each page's fresh AppTest from."""
    at = _app()
    at.session_state["lang"] = lang
    at.run()
    by_label = {w.label: w for w in at.text_input}
    by_label[translate("login.username", lang)].input(username)
    by_label[translate("login.password", lang)].input(DEMO_PASSWORD)
    next(b for b in at.button if b.label == translate("login.submit", lang)).click().run()
    assert not _is_login_page(at, lang), f"{username} could not log in"
    return {key: value for key, value in at.session_state.items() if key.startswith("auth_")}


# A number written as text for people ("0,52", "1 234", "38 %"): a CSV download has numbers instead.
FORMATTED_NUMBER = re.compile(
    r"^[−-]?\d+(?:[\u00a0\u202f ]\d{3})*(?:,\d+)?\s?%$|^[−-]?\d+(?:[\u00a0\u202f]\d{3})*,\d+$"
)


# Two numbers in one cell ("0.10 … 0.94", "+0,1 … +0,9", "10–20 %"): an interval belongs in two columns.
NUMBER_RANGE = re.compile(r"^[−+-]?\d[\d.,\u00a0\u202f]*\s*(?:…|–)\s*[−+-]?\d[\d.,\u00a0\u202f]*\s?%?$")


def _csv_problems(downloads: list[tuple]) -> list[str]:
    found = []
    for header, rows in downloads:
        for row in rows:
            for column, cell in zip(header, row, strict=False):
                if isinstance(cell, str) and FORMATTED_NUMBER.match(cell.strip()):
                    found.append(f"CSV text number {cell!r} in column {column!r}")
                elif isinstance(cell, str) and NUMBER_RANGE.match(cell.strip()):
                    found.append(f"CSV numbers in one text cell {cell!r} in column {column!r}")
    return sorted(set(found))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("role", [*DEMO_USERS, None], ids=lambda r: r or PUBLIC)
def test_no_page_shows_english_or_raw_codes(demo, role, lang, monkeypatch):
    import components.dashboard as dashboard

    downloads: list[tuple] = []
    real_csv = dashboard.csv_bytes
    monkeypatch.setattr(
        dashboard,
        "csv_bytes",
        lambda header, rows: downloads.append((header, rows)) or real_csv(header, rows),
    )
    login = _logged_in_state(DEMO_USERS[role], lang) if role else {}
    report = []
    for spec in pages_for(role):
        downloads.clear()
        # A fresh AppTest per page: AppTest replays the previous page's widget states otherwise.
        at = _app()
        for key, value in login.items():
            at.session_state[key] = value
        at.session_state["lang"] = lang
        for name, value in demo["params"].get(spec.key, {}).items():
            at.query_params[name] = str(value)
        at.switch_page(spec.path)
        at.run()
        assert not at.exception, (spec.key, at.exception)
        assert not _is_login_page(at, lang), spec.key
        report += [
            f"{spec.key}: {problem}"
            for problem in problems(visible_strings(at), lang) + _csv_problems(downloads)
            if not any(spec.key == page and problem.startswith(kind) for page, kind in OWNED_ELSEWHERE)
        ]
    assert not report, "\n".join(report)


def test_the_scan_catches_english_and_codes():
    assert problems(["Choose an option"]) and problems(["Status: social_prescribing"])
    assert problems(["page.directory"]) and problems(["Se directory.empty_filtered nu"])
    assert _csv_problems([(["a", "b", "c"], [["38 %", "0,52", f"1{chr(0xA0)}234,5"]])]) and not _csv_problems(
        [(["a", "b"], [[38, "<5"], ["–", "Malmö 2"]])]
    )
    assert _csv_problems([(["a"], [["0.10 … 0.94"]])]) and _csv_problems([(["a"], [["+0,1 … +0,9"]])])
    assert not _csv_problems([(["a"], [["2026-01-01 – 2026-03-31"]])])
    assert problems(["Medel 0.98"]) and problems(["0.5 km"])
    assert problems(["2.916"], "sv") and not problems(["2.916", "1.234,5"], "da")
    assert problems(["0.5"], "da") and problems(["12.5"], "da")
    assert not problems(["Välj ett alternativ", "PHQ-9 och GAD-7", "Malmö stad", "lotsa@example.se"])
    assert not problems(["Medel 0,98", "tisdagar 10–11.30", "HSDS 3.0", "SE-1280-LIM", "R-000403"])


def test_every_page_is_scanned():
    scanned = {spec.key for role in (*DEMO_USERS, None) for spec in pages_for(role)}
    assert scanned == {spec.key for spec in PAGES}


def _literal_audit_codes() -> tuple[set[str], set[str]]:
    """Audit actions and outcomes written as literals in the code: `action=` keywords and the
    positional arguments of audit.record / record_now."""
    actions: set[str] = set()
    outcomes: set[str] = set()

    def literal(node) -> str | None:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    for folder in ("services", "components", "app_pages"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                for keyword in node.keywords:
                    if keyword.arg == "action" and literal(keyword.value):
                        actions.add(literal(keyword.value))
                position = {"record": 2, "record_now": 1}.get(name)
                if position is not None and len(node.args) > position + 1:
                    actions.add(literal(node.args[position]) or "")
                    outcomes.add(literal(node.args[position + 1]) or "")
    return {a for a in actions if "." in a or a in ("login", "logout")}, outcomes - {""}


def test_every_audit_action_and_outcome_has_words():
    """The audit log and a patient's access extract show actions and outcomes in words."""
    actions, outcomes = _literal_audit_codes()
    assert "patient.read" in actions and "denied" in outcomes
    sv = catalogue("sv")
    assert sorted(a for a in actions if f"audit.action.{a}" not in sv) == []
    assert sorted(o for o in outcomes if f"audit.result.{o}" not in sv) == []
