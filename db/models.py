"""Lotsa's tables: the directory (HSDS 3.0 names), patients and their care, users and audit.

Imported once, here only: defining a table anywhere else breaks on Streamlit's second rerun.
Datetimes are timezone-aware UTC (SQLModel's UTCDateTime). Integer keys join fast; HSDS
objects also carry a stable `hsds_id` (UUID).
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime, time
from typing import Any, Optional

from sqlalchemy import JSON, BigInteger, Column, Index, LargeBinary, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


# --- Places and organisations ----------------------------------------------------------------


class Municipality(SQLModel, table=True):
    """A kommun / kommune, with its official code and country (SE or DK)."""

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=8, unique=True)
    name: str = Field(max_length=120)
    country: str = Field(max_length=2)
    region_name: str = Field(max_length=120)
    latitude: float
    longitude: float


class HealthCentre(SQLModel, table=True):
    """A vårdcentral / sundhedscenter: the care unit that patients and connectors belong to."""

    __tablename__ = "health_centre"
    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    municipality_id: int = Field(foreign_key="municipality.id", index=True)
    address: str = Field(default="", max_length=300)
    latitude: float
    longitude: float
    active: bool = True
    # HSA-id (Sweden, e.g. SE2321000016-15CQ) or SOR code (Denmark); see domain.taxonomy.
    identifier: Optional[str] = Field(default=None, max_length=32)


class Organization(SQLModel, table=True):
    """HSDS organization: an association, the municipality, a church, a study association."""

    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    name: str = Field(max_length=300, index=True)
    description: str = ""
    email: Optional[str] = Field(default=None, max_length=200)
    website: Optional[str] = Field(default=None, max_length=500)
    kind: str = Field(default="ngo", max_length=32)
    municipality_id: Optional[int] = Field(default=None, foreign_key="municipality.id")
    alternate_name: Optional[str] = Field(default=None, max_length=300)  # HSDS; migration 0011


# --- The directory (HSDS 3.0) -------------------------------------------------------------------


class Service(SQLModel, table=True):
    """HSDS service: one community activity (a walking group, a language café, an online course)."""

    __table_args__ = (  # migration 0009: the upkeep page's stale list and approval queue
        Index("ix_service_upkeep", "status", "approval_status", "assured_date"),
        Index("ix_service_org_upkeep", "organization_id", "status", "approval_status", "assured_date"),
        Index("ix_service_pending", "approval_status", "created_at"),
        # The directory's default order (by name) walked in the index, not sorted per request.
        Index("ix_service_public_name", "status", "approval_status", text("lower(name)"), "id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    organization_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=300)
    alternate_name: Optional[str] = Field(default=None, max_length=300)
    description: str = ""
    url: Optional[str] = Field(default=None, max_length=500)
    email: Optional[str] = Field(default=None, max_length=200)
    status: str = Field(default="active", max_length=32)
    eligibility_description: Optional[str] = None
    minimum_age: Optional[int] = None
    maximum_age: Optional[int] = None
    attending_type: str = Field(default="in_person", max_length=16)
    fees_description: Optional[str] = None
    is_free: bool = True
    rolling_start: bool = False
    start_date: Optional[date] = None
    approval_status: str = Field(default="approved", max_length=16)
    assured_date: Optional[date] = None
    assurer_email: Optional[str] = Field(default=None, max_length=200)
    municipality_id: Optional[int] = Field(default=None, foreign_key="municipality.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # HSDS fields kept from imports (migration 0011).
    application_process: Optional[str] = None
    wait_time: Optional[str] = Field(default=None, max_length=300)
    alert: Optional[str] = None


class Location(SQLModel, table=True):
    """HSDS location: a physical meeting place or a virtual one (a URL)."""

    # Migration 0009: places inside a bounding box (search near a point, matching).
    __table_args__ = (Index("ix_location_lat_lon", "latitude", "longitude"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id", index=True)
    location_type: str = Field(default="physical", max_length=16)
    name: Optional[str] = Field(default=None, max_length=300)
    description: Optional[str] = None
    url: Optional[str] = Field(default=None, max_length=500)
    latitude: Optional[float] = None
    longitude: Optional[float] = None
    municipality_id: Optional[int] = Field(default=None, foreign_key="municipality.id")
    alternate_name: Optional[str] = Field(default=None, max_length=300)  # HSDS; migration 0011
    transportation: Optional[str] = None  # HSDS: how to get there; migration 0011


class Address(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    location_id: int = Field(foreign_key="location.id", index=True)
    address_1: str = Field(max_length=300)
    address_2: Optional[str] = Field(default=None, max_length=300)  # HSDS; migration 0011
    city: str = Field(max_length=120)
    region: Optional[str] = Field(default=None, max_length=120)
    state_province: str = Field(default="", max_length=120)
    postal_code: str = Field(max_length=16)
    country: str = Field(max_length=2)
    address_type: str = Field(default="physical", max_length=16)


class ServiceAtLocation(SQLModel, table=True):
    __tablename__ = "service_at_location"
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    location_id: int = Field(foreign_key="location.id", index=True)


class Contact(SQLModel, table=True):
    """The activity's named contact person, for a warm handover."""

    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    service_id: Optional[int] = Field(default=None, foreign_key="service.id", index=True)
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    name: str = Field(max_length=200)
    title: Optional[str] = Field(default=None, max_length=200)
    email: Optional[str] = Field(default=None, max_length=200)
    department: Optional[str] = Field(default=None, max_length=200)  # HSDS; migration 0011


class Phone(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    contact_id: Optional[int] = Field(default=None, foreign_key="contact.id", index=True)
    service_id: Optional[int] = Field(default=None, foreign_key="service.id", index=True)
    location_id: Optional[int] = Field(default=None, foreign_key="location.id")
    organization_id: Optional[int] = Field(default=None, foreign_key="organization.id")
    number: str = Field(max_length=40)
    type: str = Field(default="voice", max_length=16)
    extension: Optional[float] = None  # HSDS (a number); migration 0011
    description: Optional[str] = None  # HSDS; migration 0011


class Schedule(SQLModel, table=True):
    """HSDS schedule with iCal RRULE fields (freq, interval, byday, ...) and opening times."""

    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    freq: str = Field(default="WEEKLY", max_length=8)
    interval: int = 1
    byday: Optional[str] = Field(default=None, max_length=40)
    bymonthday: Optional[str] = Field(default=None, max_length=40)
    opens_at: Optional[time] = None
    closes_at: Optional[time] = None
    dtstart: Optional[date] = None
    until: Optional[date] = None
    count: Optional[int] = None
    valid_from: Optional[date] = None
    valid_to: Optional[date] = None
    timezone: str = Field(default="Europe/Stockholm", max_length=40)
    attending_type: Optional[str] = Field(default=None, max_length=16)
    description: Optional[str] = None
    notes: Optional[str] = None  # HSDS; migration 0011


class TaxonomyTerm(SQLModel, table=True):
    """A term in one of Lotsa's taxonomies: category, target_group, accessibility, language."""

    __tablename__ = "taxonomy_term"
    __table_args__ = (UniqueConstraint("taxonomy", "code"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    taxonomy: str = Field(max_length=32)
    code: str = Field(max_length=64)
    name_sv: str = Field(max_length=200)
    name_da: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    # A JSON list of strings (other spellings in sv/da/en, e.g. "Äldre", "Ældre", "Promenad"),
    # matched through services.reference.term_index; read with domain.taxonomy.parse_synonyms.
    synonyms: str = Field(default="[]", sa_column=Column(Text, nullable=False, server_default="[]"))


class Attribute(SQLModel, table=True):
    """HSDS attribute: links a service to a taxonomy term."""

    __table_args__ = (
        UniqueConstraint("service_id", "taxonomy_term_id"),
        Index("ix_attribute_term_service", "taxonomy_term_id", "service_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    service_id: int = Field(foreign_key="service.id")
    taxonomy_term_id: int = Field(foreign_key="taxonomy_term.id")
    value: Optional[str] = Field(default=None, max_length=200)


class CostOption(SQLModel, table=True):
    __tablename__ = "cost_option"
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    option: Optional[str] = Field(default=None, max_length=200)
    amount: Optional[float] = None
    currency: str = Field(default="SEK", max_length=3)
    amount_description: Optional[str] = None
    valid_from: Optional[date] = None  # HSDS; migration 0011
    valid_to: Optional[date] = None  # HSDS; migration 0011


class ServiceArea(SQLModel, table=True):
    __tablename__ = "service_area"
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    name: str = Field(max_length=200)
    municipality_id: Optional[int] = Field(default=None, foreign_key="municipality.id")


class ServiceCapacity(SQLModel, table=True):
    """HSDS 3.1 service_capacity: free places, and when they were last updated."""

    __tablename__ = "service_capacity"
    id: Optional[int] = Field(default=None, primary_key=True)
    hsds_id: str = Field(default_factory=new_uuid, max_length=36, unique=True)
    service_id: int = Field(foreign_key="service.id", unique=True)
    available: Optional[int] = None
    maximum: Optional[int] = None
    unit: str = Field(default="places", max_length=32)
    updated: datetime = Field(default_factory=utcnow)


class ServiceChange(SQLModel, table=True):
    """History of a directory entry: who changed which field, from what to what."""

    __tablename__ = "service_change"
    id: Optional[int] = Field(default=None, primary_key=True)
    service_id: int = Field(foreign_key="service.id", index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    at: datetime = Field(default_factory=utcnow)
    field_name: str = Field(max_length=64)
    old_value: Optional[str] = None
    new_value: Optional[str] = None


class DirectorySuggestion(SQLModel, table=True):
    """A proposal from the public suggestion form (a new activity, or a correction to one) waiting
    in the moderation queue; nothing in it is public until a manager or admin approves it."""

    __tablename__ = "directory_suggestion"
    __table_args__ = (Index("ix_directory_suggestion_status", "status", "created_at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # new | correction
    service_id: Optional[int] = Field(default=None, foreign_key="service.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    message: Optional[str] = Field(default=None, max_length=2000)
    submitter_name: Optional[str] = Field(default=None, max_length=200)
    submitter_email: Optional[str] = Field(default=None, max_length=200)
    client_key: str = Field(max_length=64, index=True)  # keyed hash of the sender, for rate limits
    status: str = Field(default="pending", max_length=16)  # pending | approved | rejected
    created_at: datetime = Field(default_factory=utcnow)
    reviewed_by: Optional[int] = Field(default=None, foreign_key="app_user.id")
    reviewed_at: Optional[datetime] = None
    review_note: Optional[str] = Field(default=None, max_length=1000)
    created_service_id: Optional[int] = Field(default=None, foreign_key="service.id")


# --- Users and audit ------------------------------------------------------------------------------


class User(SQLModel, table=True):
    """A Lotsa account: local (argon2id hash) or mapped from OpenID Connect by e-mail."""

    __tablename__ = "app_user"
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    email: Optional[str] = Field(default=None, max_length=200, unique=True)
    display_name: str = Field(max_length=200)
    password_hash: Optional[str] = Field(default=None, max_length=200)
    role: str = Field(max_length=16)
    is_active: bool = True
    language: str = Field(default="sv", max_length=2)
    failed_attempts: int = 0
    locked_until: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    last_login_at: Optional[datetime] = None
    password_changed_at: Optional[datetime] = None
    # Bumped on password reset/change and disable: browser sessions of an older epoch end.
    credential_epoch: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class BrowserSession(SQLModel, table=True):
    """A logged-in browser (migration 0008): the cookie carries a signed random id whose SHA-256
    is `token_hash`; `handoff_hash` is the one-time token the page trades for that cookie."""

    __tablename__ = "browser_session"
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    token_hash: Optional[str] = Field(default=None, max_length=64, unique=True, index=True)
    handoff_hash: Optional[str] = Field(default=None, max_length=64, unique=True, index=True)
    handoff_expires_at: Optional[datetime] = None
    credential_epoch: int
    sso: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    revoked_at: Optional[datetime] = None
    revoked_reason: Optional[str] = Field(default=None, max_length=32)


class UserCentre(SQLModel, table=True):
    __tablename__ = "user_centre"
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    centre_id: int = Field(foreign_key="health_centre.id", primary_key=True)


class UserOrganization(SQLModel, table=True):
    __tablename__ = "user_organization"
    user_id: int = Field(foreign_key="app_user.id", primary_key=True)
    organization_id: int = Field(foreign_key="organization.id", primary_key=True)


class AuditEvent(SQLModel, table=True):
    """Append-only record of who did what to which patient; the database refuses UPDATE/DELETE."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_at", "at"), Index("ix_audit_event_patient", "patient_pseudonym"))
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow)
    user_id: Optional[int] = None
    username: Optional[str] = Field(default=None, max_length=80)
    role: Optional[str] = Field(default=None, max_length=16)
    care_unit: Optional[str] = Field(default=None, max_length=32)
    patient_pseudonym: Optional[str] = Field(default=None, max_length=20)
    action: str = Field(max_length=64)
    outcome: str = Field(max_length=16)
    detail: Optional[str] = Field(default=None, max_length=500)


class LoginFailure(SQLModel, table=True):
    """A failed login from one source (keyed hash of the client address), for throttling per source."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_source_at", "source_key", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    source_key: str = Field(max_length=64)
    at: datetime = Field(default_factory=utcnow)


# --- Patients and care ------------------------------------------------------------------------------


class Patient(SQLModel, table=True):
    """A pseudonymous patient. Identity (personnummer/CPR, name, phone) is encrypted in
    `identity_enc`; `identity_hash` is an HMAC of the normalised national id for lookup."""

    __table_args__ = (
        Index("ix_patient_centre", "centre_id", "id"),
        # Migration 0009: the privacy page's patients past the retention period (the oldest few).
        Index("ix_patient_retention", "anonymised_at", "created_at"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    pseudonym: str = Field(max_length=20, unique=True)
    centre_id: int = Field(foreign_key="health_centre.id")
    identity_hash: Optional[str] = Field(default=None, max_length=64, unique=True)
    identity_enc: Optional[bytes] = Field(default=None, sa_column=Column(LargeBinary))
    birth_year: Optional[int] = None
    sex: Optional[str] = Field(default=None, max_length=8)
    preferred_language: str = Field(default="sv", max_length=2)
    contact_preference: str = Field(default="phone", max_length=16)
    what_matters: Optional[str] = None
    interests: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)
    anonymised_at: Optional[datetime] = None
    # The key generation (KeyCheck.version) that encrypted identity_enc; AAD is the pseudonym.
    key_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    # Stable random record key for the cell-key perturbation of published counts (issue 10,
    # domain/cellkey.py); never shown. The migration gives plain-SQL inserts one too.
    record_key: int = Field(default_factory=lambda: secrets.randbelow(2**31 - 1))


class KeyCheck(SQLModel, table=True):
    """An HMAC of a constant under each LOTSA_SECRET_KEY generation: a wrong key is detected at
    start instead of failing on a patient page. The highest version is the current key."""

    __tablename__ = "key_check"
    version: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    check_value: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)


class PatientConsent(SQLModel, table=True):
    """A consent given or withdrawn: kind is referral, share_contact or evaluation."""

    __tablename__ = "patient_consent"
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    kind: str = Field(max_length=32)
    granted: bool
    recorded_at: datetime = Field(default_factory=utcnow)
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")


class PatientNeed(SQLModel, table=True):
    __tablename__ = "patient_need"
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    need: str = Field(max_length=32)
    recorded_at: datetime = Field(default_factory=utcnow)


class InstrumentResponse(SQLModel, table=True):
    """One administration of an instrument (UCLA-3, SWEMWBS, ...): answers and stored scores."""

    __tablename__ = "instrument_response"
    __table_args__ = (
        Index("ix_response_centre_date_score", "centre_id", "administered_on", "instrument", "score"),
        # centre_id: Centre outcomes' days to referral reads a referred patient's screenings here only
        Index("ix_response_patient", "patient_id", "instrument", "administered_on", "centre_id"),
        # Centre outcomes' screening and monthly trend: each patient's first answer, from the index alone
        Index(
            "ix_response_outcome",
            "instrument",
            "centre_id",
            "administered_on",
            "patient_id",
            "id",
            "total",
            "band",
        ),
        # paired change: baseline and follow-up of one enrolment (outcome dashboards)
        Index("ix_response_enrolment", "enrolment_id", "instrument", "timepoint_months", "score"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id")
    centre_id: int = Field(foreign_key="health_centre.id")
    enrolment_id: Optional[int] = Field(default=None, foreign_key="enrolment.id")
    instrument: str = Field(max_length=16)
    administered_on: date
    timepoint_months: Optional[int] = None
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    total: Optional[float] = None
    score: Optional[float] = None
    band: Optional[str] = Field(default=None, max_length=32)
    subscales: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    flags: Optional[str] = Field(default=None, max_length=200)
    created_by: Optional[int] = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    flag_acknowledged_at: Optional[datetime] = None
    flag_acknowledged_by: Optional[int] = Field(default=None, foreign_key="app_user.id")
    idempotency_key: Optional[str] = Field(default=None, max_length=64, unique=True)
    # Saved with unanswered items on purpose (domain.instruments.INCOMPLETE_REASONS); no total then.
    incomplete_reason: Optional[str] = Field(default=None, max_length=32)


class Referral(SQLModel, table=True):
    """A patient referred to an activity; never deleted. Status after FHIR Task."""

    __table_args__ = (
        # patient, activity and id too: Centre outcomes reads the period's referrals from the index alone
        Index(
            "ix_referral_centre_created",
            "centre_id",
            "created_on",
            "status",
            "patient_id",
            "service_id",
            "id",
        ),
        Index("ix_referral_service", "service_id", "status"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    centre_id: int = Field(foreign_key="health_centre.id")
    service_id: int = Field(foreign_key="service.id")
    need: Optional[str] = Field(default=None, max_length=32)
    status: str = Field(default="requested", max_length=20)
    outcome_reason: Optional[str] = Field(default=None, max_length=32)
    handover_method: Optional[str] = Field(default=None, max_length=16)
    handover_at: Optional[datetime] = None
    created_on: date
    updated_at: datetime = Field(default_factory=utcnow)
    created_by: Optional[int] = Field(default=None, foreign_key="app_user.id")
    idempotency_key: Optional[str] = Field(default=None, max_length=64, unique=True)
    # The follow-up programme this referral started or joined (services.referrals.create_referral).
    enrolment_id: Optional[int] = Field(default=None, foreign_key="enrolment.id")


class ReferralEvent(SQLModel, table=True):
    """One status change of a referral: the full history."""

    __tablename__ = "referral_event"
    # Centre outcomes: has a referral reached a status, and its first in-progress moment (migration 0016)
    __table_args__ = (Index("ix_referral_event_status", "referral_id", "status", "at"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    referral_id: int = Field(foreign_key="referral.id", index=True)
    status: str = Field(max_length=20)
    reason: Optional[str] = Field(default=None, max_length=32)
    note: Optional[str] = None
    at: datetime = Field(default_factory=utcnow)
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")


class Programme(SQLModel, table=True):
    """A follow-up programme: its time points (months), instruments and optional study arms."""

    id: Optional[int] = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name_sv: str = Field(max_length=200)
    name_da: str = Field(max_length=200)
    name_en: str = Field(max_length=200)
    timepoints: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    instruments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    with_measures: bool = False
    arms: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    cost_per_participant: Optional[float] = None
    allocation_seed: Optional[int] = None


class Enrolment(SQLModel, table=True):
    __table_args__ = (
        Index("ix_enrolment_centre", "centre_id", "enrolled_on"),
        # patient_id: a programme's patients at some centres, from the index alone (Centre outcomes)
        Index("ix_enrolment_programme", "programme_id", "centre_id", "enrolled_on", "patient_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    programme_id: int = Field(foreign_key="programme.id")
    centre_id: int = Field(foreign_key="health_centre.id")
    enrolled_on: date
    arm: Optional[str] = Field(default=None, max_length=32)
    status: str = Field(default="active", max_length=16)
    idempotency_key: Optional[str] = Field(default=None, max_length=64, unique=True)
    # A programme change (status "moved"): the enrolment the person went on in.
    moved_to_id: Optional[int] = Field(default=None, foreign_key="enrolment.id")


class ArmAllocation(SQLModel, table=True):
    """Allocation log of a randomised programme: sequence number, seed and the arm drawn."""

    __tablename__ = "arm_allocation"
    __table_args__ = (Index("ux_arm_allocation_programme_seq", "programme_id", "sequence_no", unique=True),)
    id: Optional[int] = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="programme.id", index=True)
    sequence_no: int
    arm: str = Field(max_length=32)
    enrolment_id: Optional[int] = Field(default=None, foreign_key="enrolment.id")
    allocated_at: Optional[datetime] = None
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")


class FollowUp(SQLModel, table=True):
    __tablename__ = "follow_up"
    # patient and enrolment too: Centre outcomes' completion rate from the index alone (migration 0016)
    __table_args__ = (
        Index("ix_follow_up_centre_due", "centre_id", "due_on", "status", "patient_id", "enrolment_id"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="enrolment.id", index=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    centre_id: int = Field(foreign_key="health_centre.id")
    timepoint_months: int
    due_on: date
    status: str = Field(default="due", max_length=16)
    completed_on: Optional[date] = None
    # referral id (as text) -> attended (bool), recorded at this follow-up
    attendance: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class CoachingContact(SQLModel, table=True):
    """A coaching contact (motivational interviewing): visit, phone or video."""

    __tablename__ = "coaching_contact"
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    centre_id: int = Field(foreign_key="health_centre.id")
    contact_on: date
    mode: str = Field(max_length=8)
    minutes: int
    notes: Optional[str] = None
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    idempotency_key: Optional[str] = Field(default=None, max_length=64, unique=True)


class HealthMeasure(SQLModel, table=True):
    __tablename__ = "health_measure"
    __table_args__ = (Index("ix_measure_centre_date", "centre_id", "measured_on"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    centre_id: int = Field(foreign_key="health_centre.id")
    measured_on: date
    systolic: Optional[int] = None
    diastolic: Optional[int] = None
    hba1c: Optional[float] = None
    waist_cm: Optional[float] = None
    weight_kg: Optional[float] = None
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    idempotency_key: Optional[str] = Field(default=None, max_length=64, unique=True)


class UnmetNeed(SQLModel, table=True):
    """A need with no fitting activity, recorded without identity for the gap analysis."""

    __tablename__ = "unmet_need"
    __table_args__ = (Index("ix_unmet_need_muni_date", "municipality_id", "recorded_on"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    centre_id: Optional[int] = Field(default=None, foreign_key="health_centre.id")
    municipality_id: Optional[int] = Field(default=None, foreign_key="municipality.id", index=True)
    need: str = Field(max_length=32)
    area: Optional[str] = Field(default=None, max_length=120)
    days: Optional[str] = Field(default=None, max_length=40)
    time_of_day: Optional[str] = Field(default=None, max_length=16)
    age_group: Optional[str] = Field(default=None, max_length=16)
    sex: Optional[str] = Field(default=None, max_length=8)
    recorded_on: date
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    idempotency_key: Optional[str] = Field(default=None, max_length=64, unique=True)


class Signposting(SQLModel, table=True):
    """A volunteer community connector's signposting, with no identity."""

    # Migration 0009: a user's own entries, newest first.
    __table_args__ = (Index("ix_signposting_user", "user_id", "logged_on", "id"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    logged_on: date
    setting: str = Field(max_length=32)
    need: str = Field(max_length=32)
    service_id: Optional[int] = Field(default=None, foreign_key="service.id")
    passed_to_connector: bool = False
    municipality_id: Optional[int] = Field(default=None, foreign_key="municipality.id")
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    idempotency_key: Optional[str] = Field(default=None, max_length=64, unique=True)


class ShortlistItem(SQLModel, table=True):
    """An activity a connector keeps for a patient: on the shortlist, and optionally a favourite."""

    __tablename__ = "shortlist_item"
    __table_args__ = (UniqueConstraint("patient_id", "service_id", name="uq_shortlist_patient_service"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    patient_id: int = Field(foreign_key="patient.id", index=True)
    service_id: int = Field(foreign_key="service.id")
    favourite: bool = False
    added_at: datetime = Field(default_factory=utcnow)
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")


class OutcomeSummary(SQLModel, table=True):
    """Monthly numerators and denominators per centre for the compare dashboard (services/summaries.py).

    Rebuilt per centre in SQL (INSERT ... SELECT ... GROUP BY), never edited by hand. A row with
    metric "_refresh" and month 1970-01-01 records when the centre was last rebuilt."""

    __tablename__ = "outcome_summary"
    centre_id: int = Field(foreign_key="health_centre.id", primary_key=True)
    month: date = Field(primary_key=True)
    metric: str = Field(max_length=32, primary_key=True)
    numerator: int = 0
    denominator: int = 0
    refreshed_at: datetime = Field(default_factory=utcnow)
    # Migration 0014: sums of the contributors' record keys, for the cell-key perturbation.
    numerator_key: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    denominator_key: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})


class OutcomePair(SQLModel, table=True):
    """Migration 0015: an enrolment's baseline and follow-up values of one score, kept by triggers on
    instrument_response and enrolment (db/outcome_pairs.py); Centre outcomes' paired change sums
    these rows instead of pairing 1.5 M responses. Never written by the application."""

    __tablename__ = "outcome_pair"
    __table_args__ = (Index("ix_outcome_pair_scope", "score", "centre_id", "baseline_on"),)
    enrolment_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    score: str = Field(max_length=24, primary_key=True)
    patient_id: int
    centre_id: int
    programme_id: int
    baseline_on: date
    baseline: float
    record_key: int
    at3: Optional[float] = None
    at6: Optional[float] = None
    at12: Optional[float] = None
    latest: Optional[float] = None


class DisclosureRelease(SQLModel, table=True):
    """Migration 0014: what a closed reporting period published for one scope, written once and
    read by every page and download thereafter (issue 10; services/dashboards.py `released`)."""

    __tablename__ = "disclosure_release"
    __table_args__ = (
        UniqueConstraint("period_code", "scope_key", "cell", name="uq_disclosure_release_cell"),
    )
    id: Optional[int] = Field(default=None, primary_key=True)
    period_code: str = Field(max_length=16)
    scope_key: str = Field(max_length=64)
    cell: str = Field(max_length=200)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class DataVersion(SQLModel, table=True):
    """Migration 0009: a counter per table, bumped in every write transaction that touches it
    (db/data_version.py); caches key on it so they stay correct across app replicas."""

    __tablename__ = "data_version"
    name: str = Field(primary_key=True, max_length=64)
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
