"""Issue 13 item: every dashboard view is audited per user, also when it is served from the cache; and
the manager home honours LOTSA_DISCLOSURE_K (issue 10)."""

from __future__ import annotations

import re
from datetime import date

from sqlmodel import func, select

from db.engine import read_session, write_session
from db.models import AuditEvent, InstrumentResponse, Patient
from services.auth import principal_for
from services.home import current_quarter, manager_centres
from services.outcomes import centre_dashboard
from tests.factories import make_user, make_world

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


def _views(user_id: int) -> list[str]:
    with read_session() as s:
        return list(
            s.exec(
                select(AuditEvent.detail)
                .where(AuditEvent.user_id == user_id, AuditEvent.action == "dashboard.view")
                .order_by(AuditEvent.id)
            ).all()
        )


def test_a_view_served_from_the_cache_is_audited_for_its_user(db_url):
    w = make_world()
    with write_session() as s:
        colleague = principal_for(s, make_user(s, "t-colleague", "manager", centres=[w.centre_a]))
    manager = w.principals["manager"]
    first = centre_dashboard(manager, None, *YEAR)
    again = centre_dashboard(manager, None, *YEAR)
    assert again is first  # served from the cache
    assert len(_views(manager.user_id)) == 2
    assert "cached" in _views(manager.user_id)[1]
    # another user with the same scope shares the cached figures but gets their own audit row
    assert centre_dashboard(colleague, None, *YEAR) is first
    assert len(_views(colleague.user_id)) == 1
    with read_session() as s:
        total = s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "dashboard.view")
        ).one()
    assert total == 3


def _patients(centre_id: int, n: int) -> None:
    with write_session() as s:
        for i in range(n):
            p = Patient(pseudonym=f"H{i:03d}", centre_id=centre_id)
            s.add(p)
            s.flush()
            s.add(
                InstrumentResponse(
                    patient_id=p.id,
                    centre_id=centre_id,
                    instrument="ucla3",
                    administered_on=date.today(),
                    timepoint_months=0,
                    answers={},
                    total=6,
                    score=6,
                )
            )


def test_manager_home_honours_the_configured_k(db_url, monkeypatch):
    w = make_world()
    _patients(w.centre_a, 7)
    manager = w.principals["manager"]
    (row,) = manager_centres(manager)
    assert re.fullmatch(r"\d+", row.patients) and 5 <= int(row.patients) <= 9  # k = 5: shown, perturbed
    monkeypatch.setenv("LOTSA_DISCLOSURE_K", "10")
    (row,) = manager_centres(manager)
    assert (row.patients, row.screened, row.referrals) == ("<10", "<10", "0")


def test_manager_home_counts_the_current_calendar_quarter_not_a_rolling_window(db_url):
    """Issue 10: aggregates only over fixed reporting periods. The home page counted the last 90 days,
    a window that moves by a day every day (day n against day n+1 differences one person); it now
    counts the calendar quarter so far, like the dashboards' fixed periods."""
    w = make_world()
    _patients(w.centre_a, 7)
    manager = w.principals["manager"]
    with write_session() as s:  # moved to the last day of the previous quarter: not this quarter's
        responses = s.exec(select(InstrumentResponse)).all()
        quarter = current_quarter(date(2026, 12, 3))
        assert (quarter.start, quarter.end) == (date(2026, 10, 1), date(2026, 12, 31))
        for r in responses:
            r.administered_on = date(2026, 9, 30)
            s.add(r)
    (row,) = manager_centres(manager, today=date(2026, 12, 3))
    assert row.screened == "0"
    (row,) = manager_centres(manager, today=date(2026, 9, 30))  # within its own quarter: counted
    assert re.fullmatch(r"\d+", row.screened) and 5 <= int(row.screened) <= 9
