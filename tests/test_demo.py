"""The demo region: its size and shape on both backends, determinism, idempotence, the demo
accounts and their scope, and no identity in clear in the database file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import make_url
from sqlmodel import SQLModel, col, select

from db.demo import REFERRAL_PATHS, seed_demo
from db.engine import dispose_all, read_session
from db.models import (
    Contact,
    FollowUp,
    HealthCentre,
    HealthMeasure,
    InstrumentResponse,
    Municipality,
    Organization,
    Patient,
    Referral,
    ReferralEvent,
    Service,
    User,
)
from domain.instruments import SWEMWBS_METRIC, score
from domain.national_id import parse_national_id
from domain.security import decrypt_identity, identity_hash
from services.auth import authenticate
from settings import DEMO_ACCOUNTS, DEMO_PASSWORD
from tests.conftest import _fresh_sqlite

TODAY = date.today()
STATUSES = {status for _w, path, _r in REFERRAL_PATHS for status in path}


def _count(session, model) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def _all_counts(session) -> dict[str, int]:
    return {
        t.name: session.exec(select(func.count()).select_from(t)).one()
        for t in SQLModel.metadata.sorted_tables
    }


def test_seed_demo_builds_the_oresund_region(db_url):
    assert seed_demo(today=TODAY) is True
    with read_session() as s:
        munis = s.exec(select(Municipality.name, Municipality.country, Municipality.code)).all()
        assert sorted(munis) == [("Helsingør", "DK", "0217"), ("Lund", "SE", "1281"), ("Malmö", "SE", "1280")]
        assert _count(s, HealthCentre) == 6
        assert 250 <= _count(s, Service) <= 350
        assert 70 <= _count(s, Organization) <= 90
        assert 1300 <= _count(s, Patient) <= 1700
        per_centre = dict(s.exec(select(Patient.centre_id, func.count()).group_by(Patient.centre_id)).all())
        assert len(per_centre) == 6 and min(per_centre.values()) <= 50
        for model in (Referral, ReferralEvent, InstrumentResponse, FollowUp, HealthMeasure):
            assert _count(s, model) > 100, model.__name__
        online = s.exec(select(func.count()).where(Service.attending_type == "online")).one()
        assert 0.08 <= online / _count(s, Service) <= 0.25
        stale = s.exec(
            select(func.count()).where(Service.assured_date < date.fromordinal(TODAY.toordinal() - 90))
        ).one()
        assert stale > 0

        # Follow-up statuses agree with today.
        for status, due, done in s.exec(
            select(FollowUp.status, FollowUp.due_on, FollowUp.completed_on)
        ).all():
            assert status in {"due", "overdue", "missed", "completed"}
            if status == "due":
                assert due >= TODAY
            elif status in ("overdue", "missed"):
                assert due < TODAY and done is None
            else:
                assert done is not None and done <= TODAY

        # Each referral's history starts with "requested" and ends in its current status.
        history: dict[int, list[str]] = {}
        for rid, status in s.exec(
            select(ReferralEvent.referral_id, ReferralEvent.status).order_by(ReferralEvent.at)
        ):
            history.setdefault(rid, []).append(status)
        for rid, status in s.exec(select(Referral.id, Referral.status)).all():
            assert status in STATUSES
            assert history[rid][0] == "requested" and history[rid][-1] == status
        unanswered = s.exec(
            select(func.count()).where(
                Referral.status == "requested", Referral.created_on < date.fromordinal(TODAY.toordinal() - 14)
            )
        ).one()
        assert unanswered > 0

        # Stored scores are the domain's scores of the stored answers.
        for instrument, answers, total, value, band in s.exec(
            select(
                InstrumentResponse.instrument,
                InstrumentResponse.answers,
                InstrumentResponse.total,
                InstrumentResponse.score,
                InstrumentResponse.band,
            )
        ).all():
            expected = score(instrument, answers)
            assert (total, value, band) == (expected.total, expected.score, expected.band)
            if instrument == "swemwbs":
                assert value == SWEMWBS_METRIC[int(total)]

        # Identities decrypt to valid national ids that match the lookup hash.
        centres = dict(s.exec(select(HealthCentre.id, HealthCentre.code)).all())
        for patient in s.exec(select(Patient).order_by(Patient.id).limit(200)).all():
            identity = decrypt_identity(patient.identity_enc, patient.pseudonym)
            country = centres[patient.centre_id][:2]
            parsed = parse_national_id(identity["national_id"], country, today=TODAY)
            assert parsed.normalised == identity["national_id"]
            assert identity_hash(parsed.normalised) == patient.identity_hash
            assert parsed.birth_date.year == patient.birth_year
        before = _all_counts(s)

    assert seed_demo(today=TODAY) is False
    with read_session() as s:
        assert _all_counts(s) == before


def test_demo_accounts_log_in_with_their_scope(sqlite_url):
    seed_demo(today=TODAY)
    principals = {username: authenticate(username, DEMO_PASSWORD) for username, _ in DEMO_ACCOUNTS}
    for username, role in DEMO_ACCOUNTS:
        assert principals[username].role == role
    with read_session() as s:
        first, second = s.exec(select(HealthCentre.id).order_by(HealthCentre.id).limit(2)).all()
        connector, manager = principals["demo-connector"], principals["demo-manager"]
        assert connector.centre_ids == {first}
        assert manager.centre_ids == {first, second}
        partner = principals["demo-partner"]
        assert len(partner.organization_ids) == 1 and not partner.centre_ids
        (org,) = partner.organization_ids
        services = s.exec(select(Service.id).where(Service.organization_id == org)).all()
        assert len(services) >= 4
        referrals = s.exec(select(func.count()).where(col(Referral.service_id).in_(services))).one()
        assert referrals >= 10
        assert not principals["demo-admin"].centre_ids and not principals["demo-admin"].organization_ids
        # A second connector at every centre, not listed on the login page.
        connectors = s.exec(select(func.count()).where(User.role == "connector")).one()
        assert connectors >= 2 * 6


def test_seed_demo_is_deterministic(sqlite_url, sqlite_template, tmp_path):
    other = _fresh_sqlite(sqlite_template, tmp_path)
    assert seed_demo(sqlite_url, today=TODAY)
    assert seed_demo(other, today=TODAY)

    def fingerprint(url: str):
        with read_session(url) as s:
            return (
                s.exec(select(Service.name, Service.hsds_id).order_by(Service.id)).all(),
                s.exec(
                    select(HealthCentre.code, func.count(Patient.id))
                    .join(Patient, col(Patient.centre_id) == col(HealthCentre.id))
                    .group_by(HealthCentre.code)
                    .order_by(HealthCentre.code)
                ).all(),
                s.exec(select(Patient.pseudonym, Patient.identity_hash).order_by(Patient.id)).all(),
                s.exec(select(Referral.status, Referral.created_on).order_by(Referral.id)).all(),
            )

    assert fingerprint(sqlite_url) == fingerprint(other)


def test_no_patient_identity_in_clear_in_the_database_file(sqlite_url):
    seed_demo(today=TODAY)
    with read_session() as s:
        clear_names = set(s.exec(select(Contact.name)).all()) | set(s.exec(select(User.display_name)).all())
        identities = [
            decrypt_identity(blob, pseudonym)
            for blob, pseudonym in s.exec(select(Patient.identity_enc, Patient.pseudonym).limit(300)).all()
        ]
        some_contact = s.exec(select(Contact.name)).first()
    dispose_all()
    path = Path(make_url(sqlite_url).database)
    data = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
    assert some_contact.encode() in data  # the canary check can see text in clear

    canaries = []
    for identity in identities:
        nid = identity["national_id"]
        canaries += [nid, f"{nid[:-4]}-{nid[-4:]}", nid[2:] if len(nid) == 12 else nid]
        if identity["name"] not in clear_names:
            canaries.append(identity["name"])
    assert len(canaries) > 900
    leaked = [c for c in canaries if c.encode() in data]
    assert leaked == []
