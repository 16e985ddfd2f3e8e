"""Every demo role logs in through the real login form and opens each of its pages from the sidebar;
no page may show an exception or an error alert. Screenshots: artifacts/screenshots/<role>-<page>.png.

Also: a deep link without a session lands on the login page, and a wrong password shows the error
while the form keeps the typed username.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from components.navigation import pages_for
from locales import DEFAULT_LANGUAGE, translate
from settings import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.e2e.conftest import error_texts, screenshot, settle, shown

pytestmark = pytest.mark.browser

LOGIN_LANG = DEFAULT_LANGUAGE  # a new session starts in Swedish
SIDEBAR_LINK = '[data-testid="stSidebarNav"] [data-testid="stSidebarNavLink"]'


def open_login(page, url: str) -> None:
    page.goto(url)
    settle(page)
    page.get_by_label(translate("login.username", LOGIN_LANG), exact=True).wait_for(state="visible")


def submit_login(page, username: str, password: str) -> None:
    page.get_by_label(translate("login.username", LOGIN_LANG), exact=True).fill(username)
    page.get_by_label(translate("login.password", LOGIN_LANG), exact=True).fill(password)
    page.get_by_role("button", name=translate("login.submit", LOGIN_LANG), exact=True).click()
    settle(page)


def nav_link(page, title: str):
    """The sidebar link whose label is exactly `title` (the icon is a separate element)."""
    return page.locator(SIDEBAR_LINK).filter(has=page.get_by_text(title, exact=True))


@pytest.mark.parametrize(("username", "role"), DEMO_ACCOUNTS, ids=[role for _, role in DEMO_ACCOUNTS])
def test_each_role_opens_all_its_pages_without_errors(lotsa_server, tab, username, role):
    page = tab
    open_login(page, lotsa_server.base_url)
    submit_login(page, username, DEMO_PASSWORD)
    lang = lotsa_server.languages.get(username, LOGIN_LANG)  # the UI switches to the user's language
    logout = page.get_by_role("button", name=translate("sidebar.logout", lang))
    try:  # the login reruns the app twice (log in, then open the role's home); wait for the second
        logout.wait_for(state="visible", timeout=15_000)
    except PlaywrightTimeout:
        raise AssertionError(
            f"{username} is not logged in: {error_texts(page)}\n{lotsa_server.log_tail()}"
        ) from None
    assert not error_texts(page), error_texts(page)

    problems: dict[str, list[str]] = {}
    visited = []
    for spec in pages_for(role):
        if spec.hidden:  # no menu entry; reached from another page with its own parameters
            continue
        title = translate(f"page.{spec.key}", lang)
        link = nav_link(page, title)
        if link.count() != 1:
            problems[spec.key] = [f"{link.count()} sidebar links titled {title!r}"]
            continue
        link.click()
        settle(page)
        if link.get_attribute("aria-current") != "page":
            problems.setdefault(spec.key, []).append(f"the link {title!r} did not become the current page")
        errors = error_texts(page)
        if errors:
            problems.setdefault(spec.key, []).extend(errors)
        screenshot(page, f"{role}-{spec.key}")
        visited.append(spec.key)

    assert not problems, (
        f"{role}: pages with problems (visited {visited}): {problems}\n"
        f"server log (tracebacks are hidden in the browser):\n{lotsa_server.log_tail()}"
    )
    assert visited, f"{role} has no pages in the menu"


def test_deep_link_without_login_shows_the_login_page(lotsa_server, tab):
    page = tab
    open_login(page, f"{lotsa_server.base_url}/audit_log")
    shown(page.get_by_role("heading", name=translate("login.title", LOGIN_LANG)))
    # Nothing of the audit log: no link to it and none of its controls.
    assert nav_link(page, translate("page.audit_log", LOGIN_LANG)).count() == 0
    assert page.get_by_role("button", name=translate("sidebar.logout", LOGIN_LANG)).count() == 0
    assert not page.locator('[data-testid="stException"]').count()
    screenshot(page, "visitor-deep-link-audit_log")


def test_wrong_password_shows_the_error_and_keeps_the_username(lotsa_server, tab):
    page = tab
    username = DEMO_ACCOUNTS[0][0]
    open_login(page, lotsa_server.base_url)
    submit_login(page, username, DEMO_PASSWORD + "-wrong")
    alert = page.locator('[data-testid="stAlertContentError"]')
    assert alert.count() == 1, error_texts(page)
    assert translate("login.failed", LOGIN_LANG) in alert.inner_text()
    field = page.get_by_label(translate("login.username", LOGIN_LANG), exact=True)
    assert field.input_value() == username
    assert page.get_by_role("button", name=translate("sidebar.logout", LOGIN_LANG)).count() == 0
    assert not page.locator('[data-testid="stException"]').count()
    screenshot(page, "visitor-login-failed")
