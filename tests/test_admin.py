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


def _open_tab(at: AppTest, key: str) -> AppTest:
    """Open a tab of the users page (only the open tab runs)."""
    at.session_state["users_tab"] = translate(key, "sv")
    return at.run()


def test_create_user_form_reports_errors_and_keeps_input(world):
    at = _open_tab(page(world, "admin", "app_pages/admin_users.py"), "admin.tab_create")
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
    at = _open_tab(page(world, "admin", "app_pages/admin_users.py"), "admin.tab_edit")
    target = world.principals["partner"]
    at.selectbox(key="edit_user_id").select(target.user_id).run()
    at.button(key="disable_user").click().run()
    assert load_principal(target.user_id) is not None  # nothing happens before confirming
    at.button(key="user_active_yes").click().run()
    assert not at.exception
    assert load_principal(target.user_id) is None


def _many_users(world, n: int) -> None:
    from db.engine import write_session
    from db.models import UserCentre

    with write_session() as s:
        for i in range(n):
            user = User(username=f"bulk{i:03d}", display_name=f"Bulk {i}", role="connector")
            s.add(user)
            s.flush()
            s.add(UserCentre(user_id=user.id, centre_id=world.centre_a))
        s.add(User(username="asa.ek", display_name="Åsa Ek", role="volunteer", email="ASA@example.org"))


def test_user_search_pages_and_counts_in_sql(db_url):
    from services.users import search_users

    world = make_world()
    admin = world.principals["admin"]
    before = len(list_users(admin))
    _many_users(world, 30)
    first = search_users(admin, page_size=25)
    assert len(first.rows) == 25 and first.total == first.all_users == before + 31
    assert [r.username for r in first.rows] == sorted(r.username for r in list_users(admin))[:25]
    rest = search_users(admin, page=1, page_size=25)
    assert len(rest.rows) == before + 6 and {r.id for r in rest.rows}.isdisjoint(r.id for r in first.rows)
    bulk = search_users(admin, text="BULK", page_size=10)
    assert bulk.total == 30 and len(bulk.rows) == 10 and bulk.all_users == before + 31
    row = bulk.rows[0]
    assert row.centre_ids == (world.centre_a,) and set(bulk.centres) == {world.centre_a}
    assert bulk.organizations == {}
    for text in ("åsa", "ÅSA", "Åsa ek", "asa@EXAMPLE", "asa.ek"):
        assert [r.username for r in search_users(admin, text=text).rows] == ["asa.ek"], text
    assert search_users(admin, text="bulk", roles=("volunteer",)).total == 0
    assert search_users(admin, roles=("volunteer",)).total == sum(
        r.role == "volunteer" for r in list_users(admin)
    )
    assert search_users(admin, text="%").total == 0 and search_users(admin, text="_").total == 0
    with pytest.raises(AccessDenied):
        search_users(world.principals["manager"])


def test_users_page_lists_one_page_and_offers_scopes_only_in_the_forms(world):
    """Issue 14: the list tab shows 25 accounts and pages on; the centres and organisations (thousands
    at national size) are offered only in the new-user and edit tabs."""
    _many_users(world, 30)
    at = page(world, "admin", "app_pages/admin_users.py")
    assert not at.exception
    assert not [m for m in at.multiselect if m.label == translate("admin.centres", "sv")]
    assert len(at.dataframe[0].value) == 25
    total = len(list_users(world.principals["admin"]))
    assert translate("admin.count", "sv", shown=total, total=total) in [c.value for c in at.caption]
    at.button(key="users_next").click().run()
    assert len(at.dataframe[0].value) == total - 25
    assert at.button(key="users_next").disabled
    _by_label(at.text_input, "admin.search").input("åsa").run()
    assert list(at.dataframe[0].value.iloc[:, 0]) == ["asa.ek"]
    assert translate("admin.count", "sv", shown=1, total=total) in [c.value for c in at.caption]
    at = _open_tab(at, "admin.tab_edit")
    assert not at.exception
    assert [m for m in at.multiselect if m.label == translate("admin.centres", "sv")]
    at.text_input(key="edit_user_query").input("asa").run()
    assert at.selectbox(key="edit_user_id").options == ["asa.ek · Åsa Ek"]


def test_scope_options_are_cached_until_a_centre_or_organisation_changes(db_url):
    from sqlalchemy import event, text

    from db.engine import get_engine, write_session
    from services.users import scope_options

    world = make_world()
    admin = world.principals["admin"]
    first = scope_options(admin)
    sent: list[str] = []
    engine = get_engine()
    listener = lambda *a: sent.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        assert scope_options(admin) == first
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert not [q for q in sent if "health_centre" in q or "FROM organization" in q], sent
    with write_session() as s:
        s.execute(text("UPDATE health_centre SET name = 'Nytt namn' WHERE id = :i"), {"i": world.centre_a})
    assert scope_options(admin).centres[world.centre_a] == "Nytt namn"
    with pytest.raises(AccessDenied):
        scope_options(world.principals["manager"])


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
