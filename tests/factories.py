"""A small world for tests: two municipalities, centres A and B, one organisation, one user per
role (a volunteer has no centre or organisation). Inserted directly (setup, not the behaviour under test)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select

from db.engine import write_session
from db.models import HealthCentre, Municipality, Organization, User, UserCentre, UserOrganization
from domain.security import hash_password
from services.auth import principal_for
from services.principal import Principal

PASSWORD = "correct horse battery"
_HASH = hash_password(PASSWORD)


@dataclass
class World:
    centre_a: int
    centre_b: int
    org: int
    other_org: int
    principals: dict[str, Principal]


def make_user(
    session, username: str, role: str, *, centres=(), orgs=(), active=True, email: str | None = None
) -> User:
    user = User(
        username=username,
        display_name=username.title(),
        role=role,
        password_hash=_HASH,
        is_active=active,
        email=email,
    )
    session.add(user)
    session.flush()
    for cid in centres:
        session.add(UserCentre(user_id=user.id, centre_id=cid))
    for oid in orgs:
        session.add(UserOrganization(user_id=user.id, organization_id=oid))
    session.flush()
    return user


def make_world() -> World:
    with write_session() as s:
        if s.exec(select(Municipality)).first() is None:
            s.add(
                Municipality(
                    code="1280",
                    name="Malmö",
                    country="SE",
                    region_name="Skåne",
                    latitude=55.605,
                    longitude=13.0038,
                )
            )
            s.add(
                Municipality(
                    code="1281",
                    name="Lund",
                    country="SE",
                    region_name="Skåne",
                    latitude=55.7047,
                    longitude=13.191,
                )
            )
            s.flush()
        m1, m2 = s.exec(select(Municipality).order_by(Municipality.id)).all()[:2]
        a = HealthCentre(
            code="VC-A", name="Vårdcentral A", municipality_id=m1.id, latitude=55.6, longitude=13.0
        )
        b = HealthCentre(
            code="VC-B", name="Vårdcentral B", municipality_id=m2.id, latitude=55.7, longitude=13.2
        )
        org = Organization(name="Föreningen Gå Tillsammans", municipality_id=m1.id)
        other = Organization(name="Språkcaféet Lund", municipality_id=m2.id)
        s.add_all([a, b, org, other])
        s.flush()
        users = {
            "admin": make_user(s, "t-admin", "admin"),
            "manager": make_user(s, "t-manager", "manager", centres=[a.id]),
            "connector": make_user(s, "t-connector", "connector", centres=[a.id]),
            "connector_b": make_user(s, "t-connector-b", "connector", centres=[b.id]),
            "partner": make_user(s, "t-partner", "partner", orgs=[org.id]),
            "volunteer": make_user(s, "t-volunteer", "volunteer"),
        }
        principals = {k: principal_for(s, u) for k, u in users.items()}
        return World(centre_a=a.id, centre_b=b.id, org=org.id, other_org=other.id, principals=principals)
