"""Issue 5, "done when": no manager or partner view shows a count of 1-4 people, on the demo data or on
a planted small centre.

Every outcome page each demo manager and partner can open is rendered through AppTest on the demo
region, plus every page as a manager of the demo's small centre alone (Vårdcentralen Dalby, 40
patients) and as a manager of a centre planted with three patients. Everything the page shows as a
number is collected: metric values, every dataframe cell and the numbers a chart draws or prints
(bar lengths, text labels). Counts of people reach the page as integers or digit strings; none may
be 1-4. Rates ("7 %"), means and limits are decimals and are not counts; the chart axes and limits
are not data.

A check that finds nothing is easy to write, so the test also proves it can fail: it plants an
unprotected count of 3 in a copy of one page's figures and expects the scan to report it.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import streamlit as st
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from components.navigation import pages_for
from db.demo import seed_demo
from db.engine import read_session, write_session
from db.models import HealthCentre, Patient, User, UserCentre
from domain.security import hash_password
from locales import translate
from settings import DEMO_ACCOUNTS
from tests.conftest import TEST_KEY

ROOT = Path(__file__).resolve().parents[1]
OUTCOME_PAGES = {
    p.key: p.path for p in pages_for("manager") + pages_for("partner") if p.section == "outcomes"
}
DIGITS = re.compile(r"^\s*(\d+)\s*$")
# Columns and chart traces that count activities or places, not people (the gap analysis's supply).
NOT_PEOPLE = {translate("gaps.activities", "sv"), translate("gaps.free_places", "sv")}


def small_counts(values) -> list[object]:
    """The values that read as a whole count of 1-4 (ints, integral floats from count columns are
    not produced by the services, so only ints and digit strings count)."""
    found = []
    for value in values:
        if isinstance(value, bool):
            continue
        if isinstance(value, int) or (hasattr(value, "dtype") and getattr(value.dtype, "kind", "") in "iu"):
            if 1 <= int(value) <= 4:
                found.append(value)
        elif isinstance(value, str):
            match = DIGITS.match(value)
            if match and 1 <= int(match.group(1)) <= 4:
                found.append(value)
    return found


def shown_values(at: AppTest) -> dict[str, list[object]]:
    """Where each shown number came from -> the values."""
    out: dict[str, list[object]] = {}
    for metric in at.metric:
        out.setdefault(f"metric {metric.label}", []).append(metric.value)
    for i, frame in enumerate(at.dataframe):
        if frame.proto.editing_mode:  # a data editor: the user's own inputs (the SROI table), not data
            continue
        df = frame.value
        for column in df.columns:
            if column == "_index" or column in NOT_PEOPLE:
                continue
            out[f"table {i} column {column}"] = list(df[column])
    for i, chart in enumerate(at.get("plotly_chart")):
        import json

        spec = json.loads(chart.proto.spec)
        for j, trace in enumerate(spec.get("data", [])):
            if trace.get("type") != "bar" or trace.get("name") in NOT_PEOPLE:
                continue  # scatter: rates, limits and means, never counts of people
            orientation = trace.get("orientation", "v")
            counts = trace.get("x" if orientation == "h" else "y") or []
            texts = trace.get("text") or []
            if isinstance(texts, str):
                texts = [texts]
            out[f"chart {i} trace {j} ({trace.get('name')})"] = [*counts, *texts]
    return out


def violations(at: AppTest) -> dict[str, list[object]]:
    return {where: bad for where, values in shown_values(at).items() if (bad := small_counts(values))}


def open_page(user_id: int, path: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    now = time.time()
    at.session_state["auth_user_id"] = user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page(path)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo region, plus a manager of Dalby alone and a manager of a planted centre of three."""
    import os

    from db.engine import dispose_all
    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path_factory.mktemp('disclosure') / 'demo.db'}"
    saved = {name: os.environ.get(name) for name in ("LOTSA_DB_URL", "LOTSA_SECRET_KEY")}
    os.environ["LOTSA_DB_URL"] = url
    os.environ["LOTSA_SECRET_KEY"] = TEST_KEY  # the function-scoped test environment is not set up yet
    try:
        upgrade(url)
        seed_demo(url)
        with write_session(url) as s:
            dalby = s.exec(select(HealthCentre).where(HealthCentre.name == "Vårdcentralen Dalby")).one()
            tiny = HealthCentre(
                code="SE-TINY", name="Vårdcentralen Liten", municipality_id=dalby.municipality_id,
                latitude=dalby.latitude, longitude=dalby.longitude,
            )  # fmt: skip
            s.add(tiny)
            s.flush()
            # Move three of Dalby's patients (with all their records) to the tiny centre.
            moved = s.exec(select(Patient).where(Patient.centre_id == dalby.id).limit(3)).all()
            from sqlalchemy import text

            for patient in moved:
                for table in ("patient", "instrument_response", "referral", "enrolment", "follow_up",
                              "coaching_contact", "health_measure"):  # fmt: skip
                    key = "id" if table == "patient" else "patient_id"
                    s.execute(
                        text(f"UPDATE {table} SET centre_id = :c WHERE {key} = :p"),
                        {"c": tiny.id, "p": patient.id},
                    )
            users = {}
            for username, centre in (("manager-dalby", dalby.id), ("manager-tiny", tiny.id)):
                user = User(username=username, display_name=username, role="manager",
                            password_hash=hash_password("not used here 123"))  # fmt: skip
                s.add(user)
                s.flush()
                s.add(UserCentre(user_id=user.id, centre_id=centre))
                users[username] = user.id
        with read_session(url) as s:
            for username, role in DEMO_ACCOUNTS:
                if role in ("manager", "partner"):
                    users[username] = s.exec(select(User.id).where(User.username == username)).one()
        yield url, users
    finally:
        dispose_all()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def cases():
    managers = [u for u, r in DEMO_ACCOUNTS if r == "manager"] + ["manager-dalby", "manager-tiny"]
    partners = [u for u, r in DEMO_ACCOUNTS if r == "partner"]
    for username in managers + partners:
        role = "partner" if username in partners else "manager"
        for spec in pages_for(role):
            if spec.section == "outcomes":
                yield pytest.param(username, spec.path, id=f"{username}-{spec.key}")


@pytest.mark.parametrize(("username", "path"), list(cases()))
def test_no_count_of_one_to_four_people_is_shown(demo, monkeypatch, username, path):
    url, users = demo
    monkeypatch.setenv("LOTSA_DB_URL", url)
    monkeypatch.setenv("LOTSA_DEMO", "1")  # the demo's reliability example, so every section renders
    st.cache_data.clear()
    at = open_page(users[username], path)
    assert not at.error, [e.value for e in at.error]
    shown = shown_values(at)
    assert shown or at.info, f"{username} {path}: the page showed nothing at all"
    assert not violations(at), f"{username} sees counts of 1-4 on {path}: {violations(at)}"


def test_the_scan_finds_a_planted_small_count():
    assert small_counts([0, 5, "<5", "*", "12", "7 %", 2.5]) == []
    assert small_counts([3]) == [3]
    assert small_counts(["4"]) == ["4"]
    assert small_counts([" 1 "]) == [" 1 "]
    import numpy as np

    assert small_counts(list(np.array([0, 2, 9]))) == [2]


def test_the_tiny_centre_really_is_tiny(demo):
    url, _users = demo
    with read_session(url) as s:
        tiny = s.exec(select(HealthCentre.id).where(HealthCentre.code == "SE-TINY")).one()
        patients = s.exec(select(Patient.id).where(Patient.centre_id == tiny)).all()
    assert len(patients) == 3
