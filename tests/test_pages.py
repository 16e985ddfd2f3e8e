"""Every page for every role through Streamlit's AppTest, starting from app.py like a browser.

A fresh session sees only the login page; each role reaches exactly its pages; a page outside a
role is unreachable, also by deep link before the first run; timeouts and disabled accounts end
the session at the next interaction.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from components.navigation import PAGES, PUBLIC, pages_for
from locales import translate
from services.users import set_active
from tests.factories import PASSWORD, make_world

ROLES = ("admin", "manager", "connector", "partner", "volunteer")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def world(sqlite_url):
    st.cache_data.clear()
    st.cache_resource.clear()
    return make_world()


def app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)


def logged_in(world, role: str) -> AppTest:
    at = app()
    principal = world.principals[role]
    now = time.time()
    at.session_state["auth_user_id"] = principal.user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for e in (*at.title, *at.header, *at.subheader, *at.markdown, *at.caption)]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return "\n".join(str(p) for p in parts)


def is_login_page(at: AppTest) -> bool:
    return any(title.value == translate("login.title", "sv") for title in at.title)


def test_fresh_session_sees_only_login(world):
    at = app().run()
    assert not at.exception
    assert is_login_page(at)
    assert len(at.text_input) == 2


@pytest.mark.parametrize("spec", [p for p in PAGES if PUBLIC not in p.roles], ids=lambda s: s.key)
def test_deep_link_before_first_run_shows_login(world, spec):
    at = app()
    at.switch_page(spec.path)
    at.run()
    assert not at.exception
    assert is_login_page(at)


@pytest.mark.parametrize("spec", [p for p in PAGES if PUBLIC in p.roles], ids=lambda s: s.key)
def test_deep_link_to_a_public_page_renders_it_for_a_visitor(world, spec):
    at = app()
    at.switch_page(spec.path)
    at.run()
    assert not at.exception, at.exception
    assert not is_login_page(at)
    assert translate("error.access_denied", "sv") not in texts(at)


def test_login_form_logs_in_and_shows_home(world):
    at = app().run()
    at.text_input[0].input("t-connector")
    at.text_input[1].input(PASSWORD)
    at.button[0].click().run()
    assert not at.exception
    assert not is_login_page(at)
    assert translate("home.hello", "sv", name="T-Connector") in texts(at)


def test_wrong_password_shows_one_message_and_keeps_username(world):
    at = app().run()
    at.text_input[0].input("t-connector")
    at.text_input[1].input("wrong password!")
    at.button[0].click().run()
    assert [e.value for e in at.error] == [translate("login.failed", "sv")]
    assert at.text_input[0].value == "t-connector"


@pytest.mark.parametrize("role", ROLES)
def test_every_allowed_page_renders_for_role(world, role):
    for spec in pages_for(role):
        at = logged_in(world, role)
        at.switch_page(spec.path)
        at.run()
        assert not at.exception, (role, spec.key, at.exception)
        assert translate("error.access_denied", "sv") not in texts(at), (role, spec.key)
        assert not is_login_page(at)


@pytest.mark.parametrize("role", ROLES)
def test_pages_outside_role_are_unreachable(world, role):
    forbidden = [spec for spec in PAGES if role not in spec.roles]
    assert forbidden or role == "admin"
    for spec in forbidden:
        at = logged_in(world, role)
        at.switch_page(spec.path)
        at.run()
        assert not at.exception
        # Navigation does not contain the page, so Streamlit shows the role's home instead.
        assert translate("home.hello", "sv", name=world.principals[role].display_name) in texts(at), spec.key


def test_idle_timeout_returns_to_login(world):
    at = logged_in(world, "connector")
    at.session_state["auth_last_seen"] = time.time() - 31 * 60
    at.run()
    assert is_login_page(at)
    assert translate("login.idle_timeout", "sv") in texts(at)


def test_absolute_timeout_returns_to_login(world):
    at = logged_in(world, "connector")
    at.session_state["auth_login_at"] = time.time() - 12 * 3600 - 1
    at.run()
    assert is_login_page(at)
    assert translate("login.absolute_timeout", "sv") in texts(at)


def test_disabled_user_loses_access_at_next_interaction(world):
    at = logged_in(world, "connector").run()
    assert not is_login_page(at)
    set_active(world.principals["admin"], world.principals["connector"].user_id, False)
    at.run()
    assert is_login_page(at)
    assert translate("login.account_disabled", "sv") in texts(at)


def test_logout_returns_to_login(world):
    at = logged_in(world, "manager").run()
    at.sidebar.button[0].click().run()
    assert is_login_page(at)
    assert translate("login.logged_out", "sv") in texts(at)


def test_demo_notice_only_in_demo_mode(world, monkeypatch):
    at = app().run()
    assert translate("login.demo_title", "sv") not in texts(at)
    monkeypatch.setenv("LOTSA_DEMO", "1")
    at = app().run()
    assert translate("login.demo_title", "sv") in texts(at)


def test_language_follows_user_choice(world):
    at = logged_in(world, "partner")
    at.session_state["lang"] = "en"
    at.run()
    assert translate("home.hello", "en", name="T-Partner") in texts(at)
