"""Login mapping and per-user preferences: OpenID Connect identities map to users by e-mail,
the language choice is remembered per user, and a changed password is the only one that works."""

from __future__ import annotations

import pytest
from sqlmodel import select

from db.engine import read_session, write_session
from db.models import AuditEvent, User
from services.auth import authenticate, change_password, load_principal, principal_for_email, set_language
from services.errors import LoginFailed, ValidationError
from tests.factories import PASSWORD, make_user, make_world


def test_oidc_identity_maps_to_user_by_email(db_url):
    world = make_world()
    with write_session() as s:
        make_user(s, "sso-connector", "connector", centres=[world.centre_a], email="anna@region.se")
    principal = principal_for_email("Anna@Region.se ")
    assert principal is not None and principal.username == "sso-connector"
    assert principal.centre_ids == {world.centre_a}


def test_unknown_or_disabled_oidc_identity_gets_nothing(db_url):
    with write_session() as s:
        make_user(s, "gone", "manager", email="gone@region.se", active=False)
    assert principal_for_email("stranger@example.org") is None
    assert principal_for_email("gone@region.se") is None
    assert principal_for_email(None) is None
    with read_session() as s:
        outcomes = s.exec(select(AuditEvent.outcome).where(AuditEvent.action == "login.oidc")).all()
    assert outcomes == ["failed", "failed"]


def test_language_choice_is_remembered_per_user(db_url):
    world = make_world()
    set_language(world.principals["partner"], "da")
    assert authenticate("t-partner", PASSWORD).language == "da"
    assert load_principal(world.principals["partner"].user_id).language == "da"
    with pytest.raises(ValidationError):
        set_language(world.principals["partner"], "xx")


def test_change_password(db_url):
    world = make_world()
    me = world.principals["manager"]
    with pytest.raises(ValidationError) as bad:
        change_password(me, current="wrong", new="short", repeat="different")
    assert set(bad.value.fields) == {"current", "password", "repeat"}
    change_password(me, current=PASSWORD, new="a brand new passphrase", repeat="a brand new passphrase")
    with pytest.raises(LoginFailed):
        authenticate("t-manager", PASSWORD)
    assert authenticate("t-manager", "a brand new passphrase").role == "manager"
    with read_session() as s:
        assert s.exec(select(User.password_changed_at).where(User.username == "t-manager")).one() is not None
