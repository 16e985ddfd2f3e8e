"""User administration, the audit log and the account page: services on SQLite and Postgres,
pages through AppTest as a user would click them."""

from __future__ import annotations

import csv
import io
import time
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from db.engine import read_session
from db.models import AuditEvent, User
from domain.csv_safety import safe_cell, to_csv
from locales import translate
from services import audit
from services.auth import authenticate, load_principal
from services.errors import AccessDenied, LoginFailed, ValidationError
from services.users import create_user, list_users, set_active, update_user
from tests.factories import PASSWORD, make_world

ROOT = Path(__file__).resolve().parents[1]
NEW_PASSWORD = "a long new passphrase"


def _events(action: str) -> list[AuditEvent]:
    with read_session() as s:
        return list(s.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


# --- services, on both databases -------------------------------------------------------------------


def test_create_user_validates_every_field_and_writes_nothing(db_url):
    world = make_world()
    admin = world.principals["admin"]
    before = len(list_users(admin))
    with pytest.raises(ValidationError) as caught:
        create_user(
            admin,
            username="Bad Name!",
            display_name="",
            email="not-an-email",
            role="connector",
            password="short",
            centre_ids=[],
        )
    assert set(caught.value.fields) == {"username", "display_name", "email", "password", "centre_ids"}
    assert len(list_users(admin)) == before
    with pytest.raises(ValidationError) as caught:
        create_user(
            admin,
            username="t-manager",
            display_name="X",
            role="partner",
            password=NEW_PASSWORD,
            organization_ids=[999_999],
        )
    assert caught.value.fields["username"][0] == "error.username_taken"
    assert caught.value.fields["organization_ids"][0] == "error.invalid_choice"


def test_create_update_disable_and_enable_a_user(db_url):
    world = make_world()
    admin = world.principals["admin"]
    uid = create_user(
        admin,
        username="Anna.Berg",
        display_name="Anna Berg",
        role="connector",
        password=NEW_PASSWORD,
        centre_ids=[world.centre_a],
        email="Anna@Example.org",
    )
    principal = authenticate("anna.berg", NEW_PASSWORD)
    assert principal.user_id == uid and principal.centre_ids == {world.centre_a}
    update_user(
        admin,
        uid,
        role="manager",
        display_name="Anna B",
        email="anna@example.org",
        centre_ids=[world.centre_b],
    )
    reloaded = load_principal(uid)
    assert reloaded.role == "manager" and reloaded.centre_ids == {world.centre_b}
    set_active(admin, uid, False)
    assert load_principal(uid) is None
    with pytest.raises(LoginFailed):
        authenticate("anna.berg", NEW_PASSWORD)
    set_active(admin, uid, True)
    assert load_principal(uid) is not None
    actions = [e.action for e in _events("user.update")] + [e.action for e in _events("user.disable")]
    assert actions == ["user.update", "user.disable"]


def test_admin_cannot_lock_themselves_out(db_url):
    world = make_world()
    admin = world.principals["admin"]
    with pytest.raises(ValidationError):
        set_active(admin, admin.user_id, False)
    with pytest.raises(ValidationError):
        update_user(
            admin, admin.user_id, role="connector", display_name="x", email=None, centre_ids=[world.centre_a]
        )
    assert load_principal(admin.user_id).role == "admin"


@pytest.mark.parametrize("role", ["manager", "connector", "partner"])
def test_non_admins_are_denied_and_audited(db_url, role):
    world = make_world()
    with pytest.raises(AccessDenied):
        list_users(world.principals[role])
    with pytest.raises(AccessDenied):
        audit.search_events(world.principals[role])
    denied = [e for e in _events("user.list") if e.outcome == "denied"]
    assert [e.username for e in denied] == [world.principals[role].username]


def test_audit_export_is_formula_safe_and_audited(db_url):
    world = make_world()
    audit.record_now(None, "login", "failed", username='=HYPERLINK("http://x")')
    text, n = audit.export_events(world.principals["admin"], action="login")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["at", "username", "role"]
    assert n == len(rows) - 1 >= 1
    assert all(not cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    assert '\'=HYPERLINK("http://x")' in [row[1] for row in rows]
    assert _events("audit.export")


def test_audit_search_filters_and_pages(db_url):
    world = make_world()
    for i in range(130):
        audit.record_now(world.principals["connector"], "patient.read", "ok", patient_pseudonym=f"P{i:05d}")
    first, total = audit.search_events(world.principals["admin"], action="patient.", username="t-connector")
    second, _ = audit.search_events(
        world.principals["admin"], action="patient.", username="t-connector", page=1
    )
    assert total == 130 and len(first) == 100 and len(second) == 30
    assert {e.id for e in first}.isdisjoint({e.id for e in second})
    one, n = audit.search_events(world.principals["admin"], patient_pseudonym="p00007")
    assert n == 1 and one[0].patient_pseudonym == "P00007"


def test_safe_cell_leaves_numbers_and_plain_text():
    assert safe_cell(-3) == -3
    assert safe_cell("Gå tillsammans") == "Gå tillsammans"
    assert safe_cell("@SUM(A1)") == "'@SUM(A1)"
    assert to_csv(["a"], [["+46 70"]]).endswith("'+46 70\r\n")


# --- pages ------------------------------------------------------------------------------------------


@pytest.fixture
def world(sqlite_url):
    st.cache_data.clear()
    return make_world()


def page(world, role: str, path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = world.principals[role].user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page(path)
    return at.run()


def _by_label(widgets, key: str):
    label = translate(key, "sv")
    return next(w for w in widgets if w.label == label)


def test_create_user_form_reports_errors_and_keeps_input(world):
    at = page(world, "admin", "app_pages/admin_users.py")
    assert not at.exception
    _by_label(at.text_input, "admin.username").input("Fel Namn")
    _by_label(at.text_input, "admin.display_name").input("Lisa Lots")
    _by_label(at.text_input, "admin.password").input("kort")
    at.button(key="FormSubmitter:create_user-" + translate("admin.create", "sv")).click().run()
    errors = "\n".join(e.value for e in at.error)
    assert translate("error.username_format", "sv") in errors
    assert translate("error.password_short", "sv", n=12) in errors
    assert translate("error.scope_centre_required", "sv") in errors
    assert _by_label(at.text_input, "admin.username").value == "Fel Namn"
    assert _by_label(at.text_input, "admin.display_name").value == "Lisa Lots"

    _by_label(at.text_input, "admin.username").input("lisa.lots")
    _by_label(at.text_input, "admin.password").input(NEW_PASSWORD)
    _by_label(at.multiselect, "admin.centres").select(world.centre_a)
    at.button(key="FormSubmitter:create_user-" + translate("admin.create", "sv")).click().run()
    assert not at.error
    assert translate("admin.created", "sv", username="lisa.lots") in [s.value for s in at.success]
    assert authenticate("lisa.lots", NEW_PASSWORD).centre_ids == {world.centre_a}


def test_disable_asks_for_confirmation(world):
    at = page(world, "admin", "app_pages/admin_users.py")
    target = world.principals["partner"]
    at.selectbox(key="edit_user_id").select(target.user_id).run()
    at.button(key="disable_user").click().run()
    assert load_principal(target.user_id) is not None  # nothing happens before confirming
    at.button(key="user_active_yes").click().run()
    assert not at.exception
    assert load_principal(target.user_id) is None


def test_audit_log_page_lists_and_filters(world):
    audit.record_now(world.principals["connector"], "patient.read", "ok", patient_pseudonym="P12345")
    audit.record_now(world.principals["connector"], "login", "ok")
    at = page(world, "admin", "app_pages/audit_log.py")
    assert not at.exception
    frame = at.dataframe[0].value
    assert "P12345" in set(frame[translate("audit.patient", "sv")])
    # Actions and outcomes in words, not codes; the action filter offers named groups.
    assert translate("audit.action.patient.read", "sv") in set(frame[translate("audit.action", "sv")])
    assert "patient.read" not in set(frame[translate("audit.action", "sv")])
    assert translate("audit.result.ok", "sv") in set(frame[translate("audit.outcome", "sv")])
    at.selectbox(key="audit_action").select("login")
    at.button(key="FormSubmitter:audit_filters-" + translate("audit.apply", "sv")).click().run()
    shown = at.dataframe[0].value
    assert "P12345" not in set(shown[translate("audit.patient", "sv")])
    assert set(shown[translate("audit.action", "sv")]) == {translate("audit.action.login", "sv")}
    at.selectbox(key="audit_action").select("")
    at.text_input(key="audit_user").input("nobody-at-all")
    at.button(key="FormSubmitter:audit_filters-" + translate("audit.apply", "sv")).click().run()
    assert translate("audit.empty", "sv") in [i.value for i in at.info]


def test_account_language_is_remembered(world):
    at = page(world, "connector", "app_pages/account.py")
    assert not at.exception
    at.radio(key="account_language").set_value("da").run()
    assert not at.exception
    with read_session() as s:
        assert s.get(User, world.principals["connector"].user_id).language == "da"
    assert translate("page.account", "da") in [t.value for t in at.title]


def test_account_password_change(world):
    at = page(world, "connector", "app_pages/account.py")
    submit = "FormSubmitter:change_password-" + translate("account.change_password", "sv")
    _by_label(at.text_input, "account.current_password").input("wrong password here")
    _by_label(at.text_input, "account.new_password").input(NEW_PASSWORD)
    _by_label(at.text_input, "account.repeat_password").input(NEW_PASSWORD)
    at.button(key=submit).click().run()
    assert translate("error.password_wrong", "sv") in at.error[0].value
    assert [e.outcome for e in _events("account.password_change")] == ["failed"]
    _by_label(at.text_input, "account.current_password").input(PASSWORD)
    at.button(key=submit).click().run()
    assert not at.error
    assert authenticate("t-connector", NEW_PASSWORD).username == "t-connector"
