"""Role x service x scope matrix over every public function in services/*.py (issue 13).

Every public service function is either in SCOPED (called below for every role, with data of the
caller's own centre/organisation and with data of another one) or in NOT_SCOPED with the reason it
returns no organisation or patient data of a scope. A new function in services/ that is in neither
makes `test_every_public_service_function_is_classified` fail.

For every SCOPED function and every principal (admin, manager, connector, partner, volunteer of
centre A / organisation 1, and no principal at all):
- called on the other scope's data (centre B, organisation 2), it refuses with AccessDenied or
  NotFound, unless the role is one of the function's global roles (admins and managers moderate the
  whole directory; admins manage every account);
- called on its own scope's data it either works or refuses cleanly (AccessDenied/NotFound/
  ValidationError) - never another exception - and nothing it returns names the other scope's
  patients, activities, organisation or centre;
- the function's owner role gets a result on its own data (so the call itself is not broken).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import pkgutil
from dataclasses import dataclass
from datetime import date

import pytest
from sqlmodel import select

import services
from db.engine import write_session
from db.models import Contact, FollowUp, Programme, Service
from services import care, followup, patients, referrals, screening, signposting
from services.dashboards import default_period
from services.directory_edit import set_free_places, submit_suggestion
from services.errors import AccessDenied, NotFound, ServiceError, ValidationError
from tests.factories import make_user, make_world

TODAY = date.today()
_YEAR = default_period(TODAY)
START, END = _YEAR.start, _YEAR.end  # a whole calendar year, as the dashboards require
FOREIGN_SERVICE = "Zqx Främmande Aktivitet"
OWN_SERVICE = "Promenad Egen Aktivitet"
PHQ9_FLAG = {f"q{i}": 1 for i in range(1, 10)} | {"q9": 2}


@dataclass
class Target:
    """One scope's data: centre, organisation and one of each kind of record in it."""

    centre: int
    org: int
    patient: int
    pseudonym: str
    service: int
    referral: int
    response: int
    follow_up: int
    user: int
    national_id: str
    suggestion: int | None = None


@dataclass
class Matrix:
    principals: dict
    own: Target
    foreign: Target
    foreign_markers: tuple[str, ...]
    programme_id: int


def _build() -> Matrix:
    world = make_world()
    with write_session() as s:
        extra = {
            "manager_b": make_user(s, "t-manager-b", "manager", centres=[world.centre_b]),
            "partner_b": make_user(s, "t-partner-b", "partner", orgs=[world.other_org]),
        }
        from services.auth import principal_for

        principals = dict(world.principals) | {k: principal_for(s, u) for k, u in extra.items()}
        programme = Programme(
            code="social_prescribing",
            name_sv="Social förskrivning",
            name_da="Social ordination",
            name_en="Social prescribing",
            timepoints=[0, 3, 6],
            instruments=["ucla3"],
            arms=["coaching", "control"],
            allocation_seed=7,
        )
        s.add(programme)
        ids = {}
        for key, org, name in (
            ("own", world.org, OWN_SERVICE),
            ("foreign", world.other_org, FOREIGN_SERVICE),
        ):
            service = Service(organization_id=org, name=name, email=f"{key}@example.se")
            s.add(service)
            s.flush()
            s.add(
                Contact(
                    service_id=service.id,
                    organization_id=org,
                    name=f"Kontakt {key}",
                    email=f"k-{key}@example.se",
                )
            )
            ids[key] = service.id
        s.flush()
        programme_id = programme.id

    def target(key: str, connector, centre: int, org: int, national_id: str, user) -> Target:
        view = patients.register_patient(
            connector, centre_id=centre, national_id=national_id, country="SE", name=f"Person {key}"
        )
        patients.set_consents(connector, view.id, {"referral": True, "share_contact": True})
        service = ids[key]
        referral = referrals.create_referral(connector, patient_id=view.id, service_id=service, today=TODAY)
        # referring enrols in the default programme where that is wired in; else enrol here
        with contextlib.suppress(ValidationError):
            followup.enrol(connector, patient_id=view.id, programme_code="social_prescribing", today=TODAY)
        response = screening.record_response(
            connector, patient_id=view.id, instrument="phq9", answers=PHQ9_FLAG
        )
        care.log_contact(connector, patient_id=view.id, contact_on=TODAY, mode="phone", minutes=10)
        return Target(
            centre=centre,
            org=org,
            patient=view.id,
            pseudonym=view.pseudonym,
            service=service,
            referral=referral.id,
            response=response.id,
            follow_up=_first_follow_up(view.id),
            user=user.user_id,
            national_id=national_id,
        )

    own = target(
        "own", principals["connector"], world.centre_a, world.org, "19121212-1212", principals["connector"]
    )
    foreign = target(
        "foreign",
        principals["connector_b"],
        world.centre_b,
        world.other_org,
        "19400101-0000",
        principals["connector_b"],
    )
    signposting.log_signposting(
        principals["volunteer"], setting="pharmacy", need="loneliness", passed_to_connector=False
    )
    own.suggestion = submit_suggestion(
        {"kind": "correction", "service_id": own.service, "message": "Fel tid"}, client_id="a"
    )
    foreign.suggestion = submit_suggestion(
        {"kind": "correction", "service_id": foreign.service, "message": "Fel tid"}, client_id="b"
    )
    # a change on the other organisation's activity, so its history has something to give away
    set_free_places(principals["partner_b"], foreign.service, 2, 9)
    markers = (
        foreign.pseudonym,
        FOREIGN_SERVICE,
        "Språkcaféet Lund",
        "Vårdcentral B",
        "VC-B",
        "Person foreign",
    )
    return Matrix(principals, own, foreign, markers, programme_id)


def _first_follow_up(patient_id: int) -> int:
    with write_session() as s:
        return s.exec(
            select(FollowUp.id).where(FollowUp.patient_id == patient_id).order_by(FollowUp.id)
        ).first()


# --- Calling a service function for a principal on one scope's data ---------------------------------


def _enrolment_of(follow_up_id: int) -> int:
    with write_session() as s:
        return s.get(FollowUp, follow_up_id).enrolment_id


def _public_functions() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules(services.__path__):
        module = importlib.import_module(f"services.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if not name.startswith("_") and fn.__module__ == module.__name__:
                found[f"{info.name}.{name}"] = fn
    return found


def _auto_args(fn, principal, t: Target, m: Matrix, overrides: dict) -> tuple[list, dict]:
    """Arguments by parameter name; `overrides` (name -> value or callable(t, m)) win."""
    by_name = {
        "principal": principal,
        "actor": principal,
        "patient_id": t.patient,
        "referral_id": t.referral,
        "service_id": t.service,
        "follow_up_id": t.follow_up,
        "response_id": t.response,
        "user_id": t.user,
        "suggestion_id": t.suggestion,
        "centre_ids": (t.centre,),
        "centre_id": t.centre,
        "organization_ids": (t.org,),
        "organization_id": t.org,
        "patient_ids": [t.patient],
        "start": START,
        "end": END,
        "today": TODAY,
        "programme_id": m.programme_id,
    }
    args, kwargs = [], {}
    skipped = False
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.name in overrides:
            value = overrides[param.name]
            value = value(t, m) if callable(value) else value
        elif param.name in by_name and (param.default is param.empty or param.name != "today"):
            value = by_name[param.name]
        elif param.default is not param.empty:
            skipped = True  # later arguments go by name
            continue
        else:
            raise AssertionError(f"{fn.__module__}.{fn.__name__}: no value for parameter {param.name!r}")
        if param.kind == param.POSITIONAL_OR_KEYWORD and not kwargs and not skipped:
            args.append(value)
        else:
            kwargs[param.name] = value
    return args, kwargs


REFUSED = (AccessDenied, NotFound)


@dataclass(frozen=True)
class Spec:
    owner: str  # the role whose own-scope call must work
    global_roles: tuple[str, ...] = ()  # roles that legitimately act across centres/organisations
    targeted: bool = True  # takes a record/centre/organisation; False: scope comes from the principal
    write: bool = False  # the owner's call may meet a validation rule (state changed by earlier calls)
    filters: bool = False  # given other scopes' ids, answers with only the caller's own (never names them)
    overrides: dict | None = None


MODERATORS = ("admin", "manager")
SCOPED: dict[str, Spec] = {
    # audit log: admins read all of it
    "audit.search_events": Spec("admin", ("admin",), targeted=False),
    "audit.export_events": Spec("admin", ("admin",), targeted=False),
    # own account
    "auth.account_details": Spec("connector", targeted=False),
    "auth.set_language": Spec("connector", targeted=False, write=True, overrides={"language": "sv"}),
    # patients and care: connectors of the patient's centre only
    "care.list_contacts": Spec("connector"),
    "care.list_measures": Spec("connector"),
    "care.samverkan_check": Spec("connector"),
    "care.log_contact": Spec(
        "connector", write=True, overrides={"contact_on": TODAY, "mode": "phone", "minutes": 5}
    ),
    "care.record_measure": Spec(
        "connector", write=True, overrides={"measured_on": TODAY, "systolic": 120, "diastolic": 80}
    ),
    "caseload.caseload": Spec("connector", targeted=False),
    "caseload.patient_names": Spec("connector", filters=True),
    "patients.authorise_patient": Spec("connector", overrides={"action": "matrix.probe"}),
    "patients.consent_history": Spec("connector"),
    "patients.count_patients": Spec("connector", targeted=False),
    "patients.find_patient": Spec(
        "connector", overrides={"national_id": lambda t, m: t.national_id, "country": "SE"}
    ),
    "patients.get_patient": Spec("connector"),
    "patients.get_profile": Spec("connector"),
    "patients.my_centres": Spec("connector", targeted=False),
    "patients.patient_needs": Spec("connector"),
    "patients.register_patient": Spec(
        "connector",
        write=True,
        overrides={"national_id": lambda t, m: _new_personnummer(), "country": "SE", "name": "Ny Person"},
    ),
    "patients.set_consent": Spec("connector", write=True, overrides={"kind": "referral", "granted": True}),
    "patients.set_consents": Spec("connector", write=True, overrides={"consents": {"referral": True}}),
    "patients.set_needs": Spec("connector", write=True, overrides={"needs": ["loneliness"]}),
    "patients.timeline": Spec("connector"),
    "patients.update_profile": Spec("connector", write=True),
    "screening.acknowledge_flag": Spec("connector", write=True),
    "screening.list_responses": Spec("connector"),
    "screening.open_safety_flags": Spec("connector", targeted=False),
    "screening.record_response": Spec(
        "connector", write=True, overrides={"instrument": "phq9", "answers": PHQ9_FLAG}
    ),
    "followup.enrol": Spec("connector", write=True, overrides={"programme_code": "social_prescribing"}),
    "followup.change_programme": Spec(
        "connector",
        write=True,
        overrides={
            "enrolment_id": lambda t, m: _enrolment_of(t.follow_up),
            "programme_code": "social_prescribing",
        },
    ),
    "followup.follow_up_detail": Spec("connector"),
    "followup.patient_enrolments": Spec("connector"),
    "followup.programmes": Spec("connector", targeted=False),
    "followup.record_follow_up": Spec("connector", write=True, overrides={"attendance": {}}),
    "followup.referral_plan": Spec("connector"),
    "followup.worklist": Spec("connector", targeted=False),
    "matching.add_to_shortlist": Spec("connector", write=True),
    "matching.patient_facts": Spec("connector"),
    "matching.remove_from_shortlist": Spec("connector", write=True),
    "matching.set_favourite": Spec("connector", write=True, overrides={"favourite": True}),
    "matching.shortlist": Spec("connector"),
    "matching.shortlist_document": Spec("connector"),
    "matching.suggest": Spec("connector"),
    "privacy.access_extract": Spec("connector"),
    "privacy.export_patient": Spec("connector"),
    "privacy.anonymisable": Spec("admin", ("admin",), targeted=False),
    "privacy.anonymise": Spec("admin", ("admin",), write=True),
    "referrals.create_referral": Spec("connector", write=True),
    "referrals.log_handover": Spec("connector", write=True, overrides={"method": "phone"}),
    "referrals.patient_referrals": Spec("connector"),
    "referrals.referral_detail": Spec("connector"),
    "referrals.set_status": Spec("connector", write=True, overrides={"status": "accepted"}),
    "referrals.unanswered": Spec("connector", targeted=False),
    "unmet.record_unmet_need": Spec("connector", write=True, overrides={"need": "loneliness"}),
    # partners: referrals to their own organisations' activities
    "referrals.partner_referrals": Spec("partner", targeted=False),
    "referrals.partner_respond": Spec("partner", write=True, overrides={"action": "accept"}),
    "partner_feedback.feedback": Spec("partner"),
    # dashboards: the principal's centres
    "compare.compare_centres": Spec("manager"),
    "dashboards.dashboard_scope": Spec(
        "manager", overrides={"requested": lambda t, m: (t.centre,), "action": "matrix.probe"}
    ),
    "evaluation.evaluation": Spec("manager", targeted=False),
    "evaluation.evaluation_programmes": Spec("manager", targeted=False),
    "gaps.gaps": Spec("manager"),
    "health_economics.programme_costs": Spec("manager"),
    "health_economics.qaly_change": Spec("manager"),
    "health_economics.sroi_prefill": Spec("manager"),
    "outcomes.centre_choices": Spec("manager", targeted=False),
    "outcomes.centre_dashboard": Spec("manager"),
    "outcomes.programme_choices": Spec("manager", targeted=False),
    "report.centre_report_html": Spec("manager"),
    "home.admin_summary": Spec("admin", ("admin",), targeted=False),
    "home.connector_summary": Spec("connector", targeted=False),
    "home.manager_centres": Spec("manager", targeted=False),
    "home.partner_summary": Spec("partner", targeted=False),
    # the directory: partners edit their own organisations, admins and managers moderate all
    "directory_edit.awaiting_approval": Spec("partner", MODERATORS, targeted=False),
    "directory_edit.awaiting_count": Spec("partner", MODERATORS, targeted=False),
    "directory_edit.edit_form": Spec("partner", MODERATORS),
    "directory_edit.editable_organizations": Spec("partner", MODERATORS, targeted=False),
    "directory_edit.history": Spec("partner", MODERATORS),
    "directory_edit.own_activities": Spec("partner", MODERATORS, targeted=False),
    "directory_edit.pending_suggestion_count": Spec("manager", MODERATORS, targeted=False),
    "directory_edit.suggestions": Spec("manager", MODERATORS, targeted=False),
    "directory_edit.review_suggestion": Spec("manager", MODERATORS, write=True, overrides={"accept": False}),
    "directory_edit.save_activity": Spec(
        "partner", MODERATORS, write=True, overrides={"values": lambda t, m: _edit_values(t, m)}
    ),
    "directory_edit.set_approval": Spec("manager", MODERATORS, write=True, overrides={"approve": True}),
    "directory_edit.set_free_places": Spec(
        "partner", MODERATORS, write=True, overrides={"available": 3, "maximum": 10}
    ),
    "directory_edit.stale": Spec("partner", MODERATORS, targeted=False),
    "directory_edit.stale_count": Spec("partner", MODERATORS, targeted=False),
    "directory_edit.verify": Spec("partner", MODERATORS, write=True),
    # signposting: volunteers see their own entries
    "signposting.log_signposting": Spec(
        "volunteer",
        targeted=False,
        write=True,
        overrides={"setting": "pharmacy", "need": "loneliness", "passed_to_connector": False},
    ),
    "signposting.my_signpostings": Spec("volunteer", targeted=False),
    # reference data of the whole region: admins only
    "reference.list_municipalities": Spec("admin", ("admin",), targeted=False),
    "reference.list_centres": Spec("admin", ("admin",), targeted=False),
    "reference.list_programmes": Spec("admin", ("admin",), targeted=False),
    "reference.list_terms": Spec("admin", ("admin",), targeted=False),
    # accounts: admins manage every account
    "users.list_users": Spec("admin", ("admin",), targeted=False),
    "users.scope_options": Spec("admin", ("admin",), targeted=False),
    "users.search_users": Spec("admin", ("admin",), targeted=False),
    "users.get_user": Spec("admin", ("admin",)),
    "users.create_user": Spec(
        "admin",
        ("admin",),
        targeted=False,
        write=True,
        overrides={
            "username": lambda t, m: f"matrix-{_new_personnummer()[-4:]}",
            "display_name": "Matrix User",
            "role": "volunteer",
            "password": "correct horse battery",
        },
    ),
    "users.reset_password": Spec(
        "admin", ("admin",), write=True, overrides={"new_password": "a long new passphrase"}
    ),
    "users.set_active": Spec("admin", ("admin",), write=True, overrides={"active": True}),
    "users.update_user": Spec(
        "admin",
        ("admin",),
        write=True,
        overrides={
            "role": "connector",
            "display_name": "Same Name",
            "email": None,
            "centre_ids": lambda t, m: (t.centre,),
        },
    ),
}

NOT_SCOPED: dict[str, str] = {
    # helpers that take an open Session or a Patient: called by the services above after (or as)
    # their scope check, never by a page
    "audit.record": "adds an audit event to the caller's transaction; returns nothing",
    "audit.record_now": "writes one audit event; returns nothing",
    "audit.require_role": "the role check itself; returns the principal it was given",
    "precompute.manager_scopes": "centre id sets of managers for the background warm-up; no patient data",
    "precompute.system_principal": "builds the warm-up's principal from a centre set; reads nothing",
    "precompute.warm_centre_outcomes": "fills the scope-keyed dashboard cache as the system; returns a count",
    "precompute.warm_scope": "fills one scope's dashboard cache entry as the system; returns seconds",
    "precompute.start_background": "starts the warm-up thread; returns the thread",
    "auth.principal_for": "builds a Principal from a User row inside a session (login internals)",
    "directory.public_query": "builds the public directory query inside a session",
    "directory.schedule_condition": "builds a SQL condition from a public directory filter",
    "directory.schedule_rules": "reads schedules of public activities inside a session",
    "directory_edit.places_of": "an organisation's places, inside a session edit_form has checked",
    "followup.check_programme_choice": "validates a programme code (reference data) inside a session",
    "followup.join_or_enrol": "enrols inside a session after patient_in_scope was checked by the caller",
    "followup.patient_in_scope": "the patient scope check itself (tested through every patient service)",
    "reference.term_index": "taxonomy labels (reference data) inside a session",
    "reference.add_municipality": "admin-only write of region-wide reference data; returns the new row only",
    "reference.add_centre": "admin-only write of region-wide reference data; returns the new row only",
    "reference.update_centre": "admin-only correction of region-wide reference data; returns field names",
    "reference.add_programme": "admin-only write of region-wide reference data; returns the new row only",
    "reference.add_term": "admin-only write of region-wide reference data; returns the new row only",
    "reference.set_synonyms": "admin-only write of region-wide reference data; returns the term only",
    "reference.seed_reference": "admin-only (or CLI) seeding of reference data; returns counts",
    "scope.check_patient": "the patient scope check itself, on a Patient already loaded",
    "scope.patient_in_scope": "the patient scope check itself, inside a session",
    "scope.authorise_patient": "the patient scope check itself (patients.authorise_patient is in the matrix)",
    "scope.valid_id": "parses an id; no data",
    "sessions.bump_epoch": "invalidates a user's browser sessions inside an admin's transaction",
    # the public directory: published activities are public by design (visitors see them)
    "directory.activity_detail": "one published activity (public); unpublished ones only to editors",
    "directory.facet_options": "public filter choices",
    "directory.map_points": "public directory map",
    "directory.may_edit": "answers yes/no for the given principal and organisation; no data",
    "directory.search": "public directory search",
    "directory.timetable": "public directory week view",
    "directory_edit.submit_suggestion": "public suggestion form (no principal), rate-limited per client",
    "hsds.export_json": "the public directory as HSDS (unpublished only from the CLI, run on the server)",
    "hsds.export_tabular": "the public directory as an HSDS CSV package (as export_json)",
    "hsds.import_json": "directory import: admins only (checked), or the CLI on the server (no principal)",
    "hsds.import_tabular": "as import_json, from a CSV package",
    "hsds.read_json_records": "parses an uploaded file",
    "hsds.read_tabular": "parses an uploaded file",
    "hsds.tabular_bytes": "formats given records",
    "hsds.error_text": "translates a given import error; reads nothing",
    "directory_import.preview_import": "checks an uploaded file; role-checked, returns the file's own rows",
    "directory_import.run_import": "writes a checked file into organisations the principal may edit",
    "directory_import.error_message": "formats a message",
    "directory_import.error_report_csv": "formats the uploaded file's own errors",
    "directory_import.template_csv": "an empty template",
    # login, sessions and accounts: keyed by the caller's own credentials or session token
    "auth.authenticate": "logs in with the caller's own credentials",
    "auth.change_password": "changes the principal's own password (test_security_hardening.py)",
    "auth.load_principal": "reloads the logged-in user's own principal from the session",
    "auth.principal_for_email": "maps the caller's own single sign-on identity",
    "auth.validate_password": "the password policy; no data",
    "sessions.active_count": "how many browser sessions a user has (the session machinery)",
    "sessions.begin": "starts the caller's own browser session after login",
    "sessions.check": "checks the caller's own browser session",
    "sessions.claim": "trades the caller's own one-time token for a cookie",
    "sessions.cookie_value": "formats a cookie",
    "sessions.idle_deadline": "the caller's own session deadline",
    "sessions.purge": "deletes expired sessions (CLI/cron); returns a count",
    "sessions.resume": "resumes the caller's own session from its cookie",
    "sessions.revoke": "ends the caller's own session",
    "sessions.revoke_cookie": "ends the caller's own session",
    "sessions.token_from_cookie": "parses a cookie",
    "users.count_users": "a count for the CLI's first-admin check; no names",
    "keys.check_key": "checks the installation's key at start; returns a key generation number",
    "keys.current_key_version": "a key generation number, inside a session",
    "keys.bind_legacy_identities": "run by `manage.py migrate` on the server; returns a count",
    "keys.key_problem": "checks the installation's key at start; returns a message key",
    "keys.rotate_key": "CLI only (the operator on the server); re-encrypts in place, returns counts",
    "users.create_first_admin": "CLI only, refused once any admin exists",
    # pure calculations, formatting and configuration
    "dashboards.clear_caches": "empties caches",
    "dashboards.configured_reliability": "configuration",
    "dashboards.default_period": "a date range",
    "dashboards.disclosure_rules": "configuration",
    "dashboards.period": "a date range",
    "dashboards.period_from_code": "a date range",
    "dashboards.reporting_period": "a date range",
    "dashboards.scoped_cache": "a cache decorator keyed on the principal's scope",
    "dashboards.fresh_only": "a context manager: scoped_cache computes instead of showing the last view",
    "dashboards.lower_thread_priority": "sets the calling thread's niceness",
    "dashboards.view_as_of": "when this thread's last scoped_cache call computed its view; no data",
    "dashboards.is_provisional": "a date comparison",
    "dashboards.record_cached_view": "writes the caller's own audit row",
    "dashboards.release_scope_key": "a text key from ids the caller passes",
    "dashboards.released": "stores/reads what a scoped service already computed, keyed by its scope",
    "outcomes.release_cell": "a text key from its arguments",
    "geocode.enabled": "configuration",
    "geocode.geocode": "looks up a typed address at the configured geocoder",
    "health_economics.calculate_sroi": "a calculation on the numbers the manager typed in (role-checked)",
    "health_economics.check_hourly_cost": "validates a number",
    "health_economics.check_qaly_horizon": "validates a number",
    "health_economics.configured_value_set": "configuration",
    "health_economics.eq5d_index_sql": "builds a SQL expression",
    "health_economics.money": "formats a number",
    "health_economics.paired_scores": "builds a SQL query for callers that scope it",
    "health_economics.programme_options": "programme names (reference data)",
    "health_economics.qaly_value_set": "configuration",
    "health_economics.validate_sroi": "validates typed numbers",
    "matching.document_filename": "formats a file name",
    "outcomes.median_from_counts": "statistics",
    "outcomes.months_before": "date arithmetic",
    "outcomes.rounded_mean": "rounding",
    "outcomes.rounded_rate": "rounding",
    "outcomes.t_interval": "statistics",
    "home.current_quarter": "date arithmetic (the manager home's reporting period)",
    "patients.new_pseudonym": "a random pseudonym",
    "patients.parse_search": "parses a typed national id",
    "privacy.access_csv_rows": "formats rows already returned by access_extract",
    "referrals.reference": "formats a referral number",
    "report.report_file_name": "formats a file name",
    "screening.unanswered_items": "instrument definitions",
    "screening.validate_answers": "instrument definitions",
    # summaries: internal to the dashboards, which check the scope before asking for centres
    "summaries.ensure_fresh": "refreshes summaries for centres the calling dashboard already scoped",
    "summaries.read_summaries": "reads summaries for centres the calling dashboard already scoped",
    "summaries.refresh_summaries": "CLI/cron rebuild of the monthly summaries; returns a count",
    "summaries.refreshed_at": "timestamps for centres the calling dashboard already scoped",
}


_serial = iter(range(1, 10_000))


def _new_personnummer() -> str:
    """A valid, unused personnummer (born 1950-01-01, serial counting up, Luhn check digit)."""
    from domain.national_id import luhn_ok

    serial = next(_serial)
    base = f"500101{serial:03d}"
    check = next(d for d in range(10) if luhn_ok(base + str(d)))
    return f"19{base[:6]}-{base[6:]}{check}"


def _edit_values(t: Target, m: Matrix) -> dict:
    from services.directory_edit import edit_form

    return dict(edit_form(m.principals["admin"], t.service).values)


CALLERS = ("volunteer", "partner", "manager", "connector", "admin", None)


def _call(name: str, fn, principal, target: Target, m: Matrix):
    args, kwargs = _auto_args(fn, principal, target, m, SCOPED[name].overrides or {})
    return fn(*args, **kwargs)


def _leaks(result, m: Matrix) -> list[str]:
    text = repr(result)
    return [marker for marker in m.foreign_markers if marker in text]


def _check_function(name: str, fn, m: Matrix) -> list[str]:
    spec = SCOPED[name]
    problems = []
    roles = [r for r in CALLERS if r != spec.owner] + [spec.owner]  # the owner last: writes change state
    for role in roles:
        principal = m.principals[role] if role else None
        scopes = ("foreign", "own") if spec.targeted else ("own",)
        for scope in scopes:
            target = getattr(m, scope)
            label = f"{name} as {role or 'nobody'} on {scope} data"
            try:
                result = _call(name, fn, principal, target, m)
            except REFUSED:
                if role == spec.owner and scope == "own":
                    problems.append(f"{label}: refused its own data")
                continue
            except (ValidationError, ServiceError) as error:
                if role == spec.owner and scope == "own" and not spec.write:
                    problems.append(f"{label}: {type(error).__name__} {error.key}")
                if role is None or (scope == "foreign" and role not in spec.global_roles):
                    problems.append(f"{label}: reached validation ({error.key}) instead of refusing")
                continue
            except Exception as error:  # a crash instead of a refusal
                problems.append(f"{label}: crashed with {type(error).__name__}: {error}")
                continue
            if role is None:
                problems.append(f"{label}: answered without a principal")
            elif scope == "foreign" and role not in spec.global_roles and not spec.filters:
                problems.append(f"{label}: answered instead of refusing")
            elif role not in spec.global_roles and _leaks(result, m):
                problems.append(f"{label}: result names {_leaks(result, m)}")
    return problems


# --- The tests -----------------------------------------------------------------------------------------


def test_every_public_service_function_is_classified():
    found = set(_public_functions())
    unclassified = sorted(found - set(SCOPED) - set(NOT_SCOPED))
    assert not unclassified, (
        f"new public service functions {unclassified}: add each to SCOPED in {__name__} (with how to call "
        "it) or to NOT_SCOPED with the reason it returns no scoped data"
    )
    assert not set(SCOPED) & set(NOT_SCOPED)


def test_role_service_scope_matrix(db_url):
    m = _build()
    functions = _public_functions()
    problems, cells = [], 0
    for name in SCOPED:
        if name not in functions:
            continue  # classified ahead of a module that is not in this checkout
        problems += _check_function(name, functions[name], m)
        cells += len(CALLERS) * (2 if SCOPED[name].targeted else 1)
    assert cells > 500
    assert not problems, f"{len(problems)} of {cells} cells wrong:\n" + "\n".join(problems)


def test_activity_history_is_refused_across_organisations_and_audited(db_url):
    """The probe's leak: a partner read another organisation's change history; no principal got it too."""
    from db.engine import read_session
    from db.models import AuditEvent
    from services.directory_edit import history

    m = _build()
    assert history(m.foreign.service, m.principals["partner_b"])  # its own organisation's partner
    assert history(m.foreign.service, m.principals["manager"])  # moderators see every activity
    for principal in (m.principals["partner"], m.principals["connector"], m.principals["volunteer"], None):
        with pytest.raises(AccessDenied):
            history(m.foreign.service, principal)
    with pytest.raises(NotFound):
        history(10**9, m.principals["partner"])
    with read_session() as s:
        denied = s.exec(
            select(AuditEvent.username).where(
                AuditEvent.action == "directory.history", AuditEvent.outcome == "denied"
            )
        ).all()
    assert sorted(u or "" for u in denied) == ["", "t-connector", "t-partner", "t-volunteer"]
