"""Reference data for a real install: taxonomy synonyms and matching, centres, municipalities,
programmes and terms through services.reference (admin only, validated, audited, all or nothing),
and seed-reference."""

from __future__ import annotations

import pytest
from sqlalchemy import func
from sqlmodel import select

from db.engine import read_session, write_session
from db.models import AuditEvent, HealthCentre, Municipality, Programme, TaxonomyTerm
from db.reference_data import PROGRAMMES, SYNONYMS, TAXONOMY
from domain.taxonomy import (
    build_index,
    clean_synonyms,
    dump_synonyms,
    fold_label,
    lookup,
    normalise_label,
    parse_synonyms,
    split_synonyms,
)
from services import reference, users
from services.errors import AccessDenied, ValidationError
from services.reference import term_index
from tests.factories import PASSWORD, make_world

# --- domain.taxonomy -----------------------------------------------------------------------------


def test_normalise_keeps_nordic_letters_and_fold_drops_them():
    assert normalise_label("  ÄLDRE   personer ") == "äldre personer"
    assert normalise_label("Ældre") == "ældre"
    assert normalise_label("för") != normalise_label("for")
    assert fold_label("Ældre") == "aeldre"
    assert fold_label("Språkcafé") == "sprakcafe"
    assert fold_label("Øvelse") == "ovelse"
    # NFD input (a + combining ring) equals NFC
    assert normalise_label("A\u030agåture") == normalise_label("Ågåture")


def test_index_exact_wins_over_folded_and_ambiguous_words_match_nothing():
    index = build_index(
        [(1, ["Äldre", "Ældre"]), (2, ["Alder"]), (3, ["Kör"]), (4, ["Kor"]), (5, ["x", "y"]), (6, ["y"])]
    )
    assert lookup(index, "äldre") == 1
    assert lookup(index, "AELDRE") == 1
    assert lookup(index, "Aldre") == 1
    assert lookup(index, "alder") == 2
    # "kör" and "kor" are different words: each exact; folded "kor" belongs to the exact one
    assert lookup(index, "Kör") == 3
    assert lookup(index, "kor") == 4
    assert lookup(index, "y") is None  # claimed by two terms
    assert lookup(index, "x") == 5
    assert lookup(index, "   ") is None


def test_synonyms_text_round_trip_and_validation():
    assert parse_synonyms(dump_synonyms(["Äldre", "Ældre"])) == ["Äldre", "Ældre"]
    assert parse_synonyms("not json") == []
    assert parse_synonyms('{"a": 1}') == []
    assert parse_synonyms(None) == []
    assert split_synonyms("Äldre, pensionärer;\n  Ældre  ") == ["Äldre", "pensionärer", "Ældre"]
    assert clean_synonyms(["Äldre", "äldre ", "", "Ældre"]) == (["Äldre", "Ældre"], None)
    assert clean_synonyms(["x" * 101])[1] == "reference.error.synonym_too_long"
    assert clean_synonyms([f"s{i}" for i in range(41)])[1] == "reference.error.too_many_synonyms"


def test_term_index_matches_names_codes_and_synonyms(db_url):
    with write_session() as s:
        s.add(
            TaxonomyTerm(
                taxonomy="target_group",
                code="seniors",
                name_sv="Seniorer",
                name_da="Seniorer",
                name_en="Older people",
                synonyms=dump_synonyms(["Äldre", "Ældre", "pensionärer"]),
            )
        )
        s.add(
            TaxonomyTerm(
                taxonomy="category",
                code="walking",
                name_sv="Promenader",
                name_da="Gåture",
                name_en="Walking",
                synonyms=dump_synonyms(["Promenad", "Gåtur"]),
            )
        )
    with read_session() as s:
        groups = term_index(s, "target_group")
        categories = term_index(s, "category")
        seniors = s.exec(select(TaxonomyTerm.id).where(TaxonomyTerm.code == "seniors")).one()
        walking = s.exec(select(TaxonomyTerm.id).where(TaxonomyTerm.code == "walking")).one()
    for label in ("Äldre", "ÆLDRE", "aeldre", "older people", "seniors", "Pensionärer"):
        assert lookup(groups, label) == seniors, label
    for label in ("Promenad", "gåtur", "Gatur", "walking"):
        assert lookup(categories, label) == walking, label
    assert lookup(categories, "Äldre") is None  # another taxonomy


# --- services.reference ----------------------------------------------------------------------------


def _count(model) -> int:
    with read_session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def _events(action: str) -> list[AuditEvent]:
    with read_session() as s:
        return list(
            s.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        )


def _fields(error: ValidationError) -> dict[str, str]:
    return {k: v[0] for k, v in error.fields.items()}


@pytest.fixture
def admin(db_url):
    world = make_world()
    return world, world.principals["admin"]


def test_only_admins_manage_reference_data_and_denials_are_audited(admin):
    world, _ = admin
    before = (_count(Municipality), _count(HealthCentre), _count(Programme), _count(TaxonomyTerm))
    for role in ("manager", "connector", "partner", "volunteer"):
        p = world.principals[role]
        calls = [
            lambda p=p: reference.add_municipality(
                p,
                code="1283",
                name="Helsingborg",
                country="SE",
                region_name="Skåne",
                latitude=56.05,
                longitude=12.7,
            ),
            lambda p=p: reference.add_centre(p, code="VC-X", name="X", municipality="1280"),
            lambda p=p: reference.add_programme(
                p, code="x1", name_sv="x", name_da="x", name_en="x", timepoints=[0], instruments=["ucla3"]
            ),
            lambda p=p: reference.add_term(
                p, taxonomy="category", code="x1", name_sv="x", name_da="x", name_en="x"
            ),
            lambda p=p: reference.seed_reference(p),
            lambda p=p: reference.list_centres(p),
            lambda p=p: reference.list_terms(p),
        ]
        for call in calls:
            with pytest.raises(AccessDenied):
                call()
    with pytest.raises(AccessDenied):
        reference.seed_reference(None)
    assert (_count(Municipality), _count(HealthCentre), _count(Programme), _count(TaxonomyTerm)) == before
    with read_session() as s:
        denied = s.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.outcome == "denied")
        ).one()
    assert denied == 4 * 7 + 1


def test_municipality_is_checked_field_by_field_per_country(admin):
    _, p = admin
    with pytest.raises(ValidationError) as caught:
        reference.add_municipality(
            p, code="12", name="", country="SE", region_name="Skåne", latitude="abc", longitude=40.0
        )
    assert _fields(caught.value) == {
        "code": "reference.error.municipality_code",
        "name": "error.required",
        "latitude": "error.number",
        "longitude": "error.out_of_range",
    }
    with pytest.raises(ValidationError) as caught:
        reference.add_municipality(
            p, code="217", name="Helsingør", country="NO", region_name="x", latitude=56.0, longitude=12.6
        )
    assert _fields(caught.value) == {"country": "error.invalid_choice"}
    with pytest.raises(ValidationError) as caught:  # Swedish codes have four digits
        reference.add_municipality(
            p, code="217", name="Helsingør", country="SE", region_name="x", latitude=56.0, longitude=12.6
        )
    assert _fields(caught.value) == {"code": "reference.error.municipality_code"}
    muni_id = reference.add_municipality(
        p,
        code="217",
        name="Helsingør",
        country="dk",
        region_name="Region Hovedstaden",
        latitude="56,03",
        longitude="12.61",
    )
    with read_session() as s:
        row = s.get(Municipality, muni_id)
    assert (row.country, row.latitude, row.longitude) == ("DK", 56.03, 12.61)
    with pytest.raises(ValidationError) as caught:
        reference.add_municipality(
            p, code="217", name="Again", country="DK", region_name="x", latitude=56.0, longitude=12.6
        )
    assert _fields(caught.value) == {"code": "reference.error.code_taken"}
    assert [e.detail for e in _events("reference.municipality.add")] == ["municipality=217 Helsingør"]


def test_centre_identifier_is_an_hsa_id_in_sweden_and_a_sor_code_in_denmark(admin):
    _, p = admin
    reference.add_municipality(
        p,
        code="217",
        name="Helsingør",
        country="DK",
        region_name="Hovedstaden",
        latitude=56.03,
        longitude=12.61,
    )
    n = _count(HealthCentre)
    with pytest.raises(ValidationError) as caught:
        reference.add_centre(p, code="VC-NEW", name="Ny", municipality="")
    assert _fields(caught.value) == {"municipality": "error.required"}
    for muni, identifier, key in (
        ("1280", "123456", "reference.error.hsa_id"),
        ("1280", "SE232100001-15CQ", "reference.error.hsa_id"),
        ("217", "SE2321000016-15CQ", "reference.error.sor_code"),
        ("217", "12a456", "reference.error.sor_code"),
    ):
        with pytest.raises(ValidationError) as caught:
            reference.add_centre(p, code="VC-NEW", name="Ny", municipality=muni, identifier=identifier)
        assert _fields(caught.value) == {"identifier": key}, identifier
    assert _count(HealthCentre) == n
    se = reference.add_centre(
        p,
        code="VC-LIMHAMN",
        name="Vårdcentralen Limhamn",
        municipality="1280",
        identifier=" se2321000016-15cq ",
        address="Linnégatan 1",
    )
    dk = reference.add_centre(
        p,
        code="LH-HELSINGOR",
        name="Lægehuset Helsingør",
        municipality="217",
        identifier="1234561000016008",
        latitude=56.04,
        longitude=12.6,
    )
    with read_session() as s:
        limhamn, helsingor = s.get(HealthCentre, se), s.get(HealthCentre, dk)
        malmo = s.exec(select(Municipality).where(Municipality.code == "1280")).one()
    assert limhamn.identifier == "SE2321000016-15CQ"
    assert (limhamn.latitude, limhamn.longitude) == (malmo.latitude, malmo.longitude)  # the municipality's
    assert (helsingor.identifier, helsingor.latitude) == ("1234561000016008", 56.04)
    with pytest.raises(ValidationError) as caught:
        reference.add_centre(
            p, code="VC-LIMHAMN", name="Dubbel", municipality="9999", identifier="SE2321000016-15CQ"
        )
    assert _fields(caught.value) == {
        "code": "reference.error.code_taken",
        "municipality": "error.invalid_choice",
        "identifier": "reference.error.identifier_taken",
    }
    with pytest.raises(ValidationError) as caught:
        reference.add_centre(
            p, code="VC-OTHER", name="Annan", municipality="1280", identifier="SE2321000016-15CQ"
        )
    assert _fields(caught.value) == {"identifier": "reference.error.identifier_taken"}
    with pytest.raises(ValidationError) as caught:
        reference.add_centre(p, code="bad code!", name="x" * 201, municipality="1280")
    assert _fields(caught.value) == {"code": "reference.error.centre_code", "name": "error.too_long"}
    assert [e.care_unit for e in _events("reference.centre.add")] == ["VC-LIMHAMN", "LH-HELSINGOR"]
    codes = [c.code for c in reference.list_centres(p)]
    assert "VC-LIMHAMN" in codes and "LH-HELSINGOR" in codes


def test_a_connector_can_be_given_a_centre_created_this_way(admin):
    _, p = admin
    centre_id = reference.add_centre(p, code="VC-NY", name="Vårdcentralen Ny", municipality="1280")
    assert centre_id in users.scope_options(p).centres  # what the Users page offers
    user_id = users.create_user(
        p,
        username="lisa",
        display_name="Lisa Lots",
        role="connector",
        password=PASSWORD + " lotsa",
        centre_ids=[centre_id],
    )
    row = next(u for u in users.list_users(p) if u.id == user_id)
    assert row.centre_ids == (centre_id,)


def test_programme_needs_increasing_months_from_zero_and_known_instruments(admin):
    _, p = admin
    with pytest.raises(ValidationError) as caught:
        reference.add_programme(
            p,
            code="Bad Code",
            name_sv="",
            name_da="d",
            name_en="e",
            timepoints="3, 6",
            instruments=["ucla3", "nope"],
            cost_per_participant="-5",
        )
    assert _fields(caught.value) == {
        "code": "reference.error.code_format",
        "name_sv": "error.required",
        "timepoints": "reference.error.timepoints",
        "instruments": "error.invalid_choice",
        "cost_per_participant": "error.out_of_range",
    }
    for bad in ("0, 6, 3", "0, x", "0, 121", ""):
        with pytest.raises(ValidationError):
            reference.add_programme(
                p, code="ok", name_sv="s", name_da="d", name_en="e", timepoints=bad, instruments=["ucla3"]
            )
    pid = reference.add_programme(
        p,
        code="walk_well",
        name_sv="Gå bra",
        name_da="Gå godt",
        name_en="Walk well",
        timepoints="0, 3, 6",
        instruments=["ucla3", "swemwbs"],
        cost_per_participant="1200,50",
    )
    with read_session() as s:
        row = s.get(Programme, pid)
    assert (row.timepoints, row.instruments, row.cost_per_participant) == (
        [0, 3, 6],
        ["ucla3", "swemwbs"],
        1200.5,
    )
    assert [r.code for r in reference.list_programmes(p)] == ["walk_well"]


def test_terms_with_synonyms_are_validated_and_replaced_as_a_whole(admin):
    _, p = admin
    with pytest.raises(ValidationError) as caught:
        reference.add_term(
            p, taxonomy="colour", code="X", name_sv="", name_da="d", name_en="e", synonyms=["y" * 101]
        )
    assert _fields(caught.value) == {
        "taxonomy": "error.invalid_choice",
        "code": "reference.error.code_format",
        "name_sv": "error.required",
        "synonyms": "reference.error.synonym_too_long",
    }
    tid = reference.add_term(
        p,
        taxonomy="category",
        code="boule",
        name_sv="Boule",
        name_da="Petanque",
        name_en="Boules",
        synonyms=["Pétanque", "boule", "Bocce", "bocce"],
    )
    (row,) = reference.list_terms(p, "category")
    assert row.synonyms == ("Pétanque", "boule", "Bocce")
    with pytest.raises(ValidationError) as caught:
        reference.add_term(p, taxonomy="category", code="boule", name_sv="B", name_da="B", name_en="B")
    assert _fields(caught.value) == {"code": "reference.error.code_taken"}
    with pytest.raises(ValidationError):
        reference.set_synonyms(p, tid, [f"s{i}" for i in range(41)])
    assert reference.list_terms(p, "category")[0].synonyms == ("Pétanque", "boule", "Bocce")  # unchanged
    assert reference.set_synonyms(p, tid, ["Kulspel"]).synonyms == ("Kulspel",)
    with read_session() as s:
        assert lookup(term_index(s, "category"), "kulspel") == tid
        assert lookup(term_index(s, "category"), "bocce") is None
    assert _events("reference.term.synonyms")[-1].detail == "term=category/boule synonyms 3->1"


def test_seed_reference_loads_the_starter_vocabulary_once_and_keeps_admin_changes(admin):
    _, p = admin
    report = reference.seed_reference(p)
    n_terms = sum(len(v) for v in TAXONOMY.values())
    assert (report.terms_added, report.programmes_added) == (n_terms, len(PROGRAMMES))
    assert report.synonyms_added == 0
    seniors = next(t for t in reference.list_terms(p, "target_group") if t.code == "seniors")
    assert seniors.synonyms == SYNONYMS[("target_group", "seniors")]
    reference.set_synonyms(p, seniors.id, ["Pensionärsföreningar"])  # an admin's own change
    again = reference.seed_reference(p)
    assert (again.terms_added, again.programmes_added) == (0, 0)
    assert again.synonyms_added == len(SYNONYMS[("target_group", "seniors")])  # put back, own one kept
    third = reference.seed_reference(p)
    assert not third.changed()
    assert _count(TaxonomyTerm) == n_terms and _count(Programme) == len(PROGRAMMES)
    seniors = next(t for t in reference.list_terms(p, "target_group") if t.code == "seniors")
    assert seniors.synonyms[0] == "Pensionärsföreningar"
    with read_session() as s:
        groups, categories = term_index(s, "target_group"), term_index(s, "category")
        languages = term_index(s, "language")
    for label in ("Äldre", "Ældre", "aeldre", "seniorer", "Older adults"):
        assert lookup(groups, label) == seniors.id, label
    walking = next(t for t in reference.list_terms(p, "category") if t.code == "walking")
    for label in ("Promenad", "promenader", "Gåtur", "Gature", "Stavgång"):
        assert lookup(categories, label) == walking.id, label
    assert lookup(languages, "Farsi") is not None
    assert len(_events("reference.seed")) == 3


def test_every_starter_synonym_matches_only_its_own_term():
    for taxonomy, terms in TAXONOMY.items():
        index = build_index(
            (i, [code, sv, da, en, *SYNONYMS.get((taxonomy, code), ())])
            for i, (code, sv, da, en) in enumerate(terms)
        )
        for i, (code, sv, da, en) in enumerate(terms):
            for label in (sv, da, en, *SYNONYMS.get((taxonomy, code), ())):
                assert lookup(index, label) == i, (taxonomy, code, label)


# --- the admin page ----------------------------------------------------------------------------------


def _page(world, role: str):
    import time

    from streamlit.testing.v1 import AppTest

    from settings import ROOT

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    now = time.time()
    at.session_state["auth_user_id"] = world.principals[role].user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page("app_pages/admin_reference.py")
    return at.run()


def _label(widgets, key: str):
    from locales import translate

    label = translate(key, "sv")
    return [w for w in widgets if w.label == label]


def test_reference_page_adds_a_centre_keeps_input_on_errors_and_seeds(sqlite_url):
    from locales import translate

    world = make_world()
    at = _page(world, "admin")
    assert not at.exception
    assert translate("page.admin_reference", "sv") in [x.value for x in at.title]
    code = _label(at.text_input, "reference.field.code")[0]
    name = _label(at.text_input, "reference.field.name")[0]
    code.input("VC-NY")
    name.input("Vårdcentralen Ny")
    _label(at.text_input, "reference.field.identifier")[0].input("12345")
    at.selectbox[0].select(world_municipality(world))
    submit = "FormSubmitter:reference_centre-" + translate("reference.add", "sv")
    at.button(key=submit).click().run()
    errors = "\n".join(e.value for e in at.error)
    assert translate("reference.error.hsa_id", "sv") in errors
    assert _label(at.text_input, "reference.field.code")[0].value == "VC-NY"  # kept
    assert _count(HealthCentre) == 2
    _label(at.text_input, "reference.field.identifier")[0].input("SE2321000016-15CQ")
    at.button(key=submit).click().run()
    assert not at.exception and not at.error
    assert translate("reference.added", "sv", name="Vårdcentralen Ny") in [s.value for s in at.success]
    with read_session() as s:
        added = s.exec(select(HealthCentre).where(HealthCentre.code == "VC-NY")).one()
    assert added.identifier == "SE2321000016-15CQ"
    at.button(key="reference_seed").click().run()
    assert not at.exception
    assert _count(Programme) == len(PROGRAMMES)
    assert any(translate("reference.tab.target_groups", "sv") == tab.label for tab in at.tabs)


def world_municipality(world) -> int:
    with read_session() as s:
        return s.exec(select(Municipality.id).where(Municipality.code == "1280")).one()


def test_reference_page_is_for_admins_only(sqlite_url):
    world = make_world()
    for role in ("connector", "manager"):
        at = _page(world, role)
        assert not any(x.value == "Referensdata" for x in at.title)


def test_a_centre_is_corrected_checked_as_when_added_and_audited(admin):
    """Centres could only be added: a misspelt name, a wrong HSA-id or coordinates needed the
    database. Name, identifier, address and coordinates are corrected with the same checks; the
    code and the municipality stay (the audit log and the region depend on them)."""
    world, p = admin
    first = reference.add_centre(p, code="VC-ETT", name="Vårdcentralen Et", municipality="1280")
    other = reference.add_centre(
        p, code="VC-TVA", name="Vårdcentralen Två", municipality="1280", identifier="SE2321000016-15CQ"
    )
    with read_session() as s:
        before = s.get(HealthCentre, first)
        malmo = s.exec(select(Municipality).where(Municipality.code == "1280")).one()
    for change, expected in (
        ({"name": ""}, {"name": "error.required"}),
        ({"identifier": "123"}, {"identifier": "reference.error.hsa_id"}),
        ({"identifier": "se2321000016-15cq"}, {"identifier": "reference.error.identifier_taken"}),
        ({"latitude": "56,1", "longitude": "nära havet"}, {"longitude": "reference.error.coordinates"}),
        ({"latitude": "91", "longitude": "13"}, {"latitude": "reference.error.coordinates"}),
    ):
        fields = {"name": "Vårdcentralen Ett", **change}
        with pytest.raises(ValidationError) as caught:
            reference.update_centre(p, first, **fields)
        got = _fields(caught.value)
        assert set(got) == set(expected), (change, got)
    with read_session() as s:
        assert s.get(HealthCentre, first).name == before.name  # nothing written on an error
    changed = reference.update_centre(
        p, first, name=" Vårdcentralen  Ett ", identifier="SE2321000016-99AB", address="Storgatan 2",
        latitude="55,61", longitude="12.99",
    )  # fmt: skip
    assert changed == ("name", "identifier", "address", "latitude", "longitude")
    with read_session() as s:
        after = s.get(HealthCentre, first)
    assert (after.code, after.municipality_id) == ("VC-ETT", malmo.id)
    assert (after.name, after.identifier, after.address) == (
        "Vårdcentralen Ett", "SE2321000016-99AB", "Storgatan 2",
    )  # fmt: skip
    assert (after.latitude, after.longitude) == (55.61, 12.99)
    assert reference.update_centre(
        p, first, name="Vårdcentralen Ett", identifier="SE2321000016-99AB", address="Storgatan 2",
        latitude=55.61, longitude=12.99,
    ) == ()  # fmt: skip
    # no coordinates: back to the municipality's; its own identifier is not "taken" by itself
    assert reference.update_centre(
        p, other, name="Vårdcentralen Två", identifier="SE2321000016-15CQ"
    ) == ()
    reference.update_centre(p, first, name="Vårdcentralen Ett", identifier="SE2321000016-99AB")
    with read_session() as s:
        assert (s.get(HealthCentre, first).latitude, s.get(HealthCentre, first).longitude) == (
            malmo.latitude, malmo.longitude,
        )  # fmt: skip
    events = _events("reference.centre.edit")
    assert [(e.care_unit, e.detail) for e in events] == [
        ("VC-ETT", "centre=VC-ETT changed=name,identifier,address,latitude,longitude"),
        ("VC-ETT", "centre=VC-ETT changed=address,latitude,longitude"),
    ]
    with pytest.raises(ValidationError):
        reference.update_centre(p, 10_000, name="Finns inte")
    with pytest.raises(AccessDenied):
        reference.update_centre(world.principals["manager"], first, name="Manager")


def test_reference_page_corrects_a_centre_and_keeps_input_on_errors(sqlite_url):
    from locales import translate

    world = make_world()
    at = _page(world, "admin")
    with read_session() as s:
        centre = s.exec(select(HealthCentre).order_by(HealthCentre.id)).first()
    edit_key = f"reference_edit_{centre.id}"
    name = at.text_input(key=f"{edit_key}_name")
    assert name.value == centre.name  # the form opens with the centre's values
    name.input("Vårdcentralen Rättad")
    at.text_input(key=f"{edit_key}_identifier").input("123")
    submit = f"FormSubmitter:{edit_key}-" + translate("reference.save", "sv")
    at.button(key=submit).click().run()
    assert not at.exception, at.exception
    assert translate("reference.error.hsa_id", "sv") in "\n".join(e.value for e in at.error)
    assert at.text_input(key=f"{edit_key}_name").value == "Vårdcentralen Rättad"  # kept
    at.text_input(key=f"{edit_key}_identifier").input("")
    at.button(key=submit).click().run()
    assert not at.exception and not at.error
    assert translate("reference.centre_saved", "sv", name="Vårdcentralen Rättad") in [
        s.value for s in at.success
    ]
    with read_session() as s:
        assert s.get(HealthCentre, centre.id).name == "Vårdcentralen Rättad"


def test_every_audited_action_of_this_session_has_words_in_the_audit_log():
    """The audit log shows an action the catalogue does not know as its raw code ("English/raw codes
    in the Swedish UI", issue 12): the actions found missing (reference data, keys, account, users,
    matching) are named in sv, da and en."""
    from locales import catalogue

    actions = (
        "reference.centre.add", "reference.centre.edit", "reference.municipality.add",
        "reference.programme.add", "reference.seed", "reference.term.add", "reference.term.synonyms",
        "account.language", "account.read", "key.bind_identities", "key.rotate",
        "referral.partner_respond", "user.enable", "user.disable", "matching.shortlist_add",
        "matching.favourite", "patient.centres", "patient.count",
    )  # fmt: skip
    for lang in ("sv", "da", "en"):
        words = catalogue(lang)
        assert [a for a in actions if f"audit.action.{a}" not in words] == [], lang


def test_reference_page_notices_show_a_name_as_typed_not_as_markdown(sqlite_url):
    """The notice after a save is Markdown: a name is escaped, so '*Rosen*' is not italics and a
    link in a name is no link."""
    from locales import translate

    world = make_world()
    at = _page(world, "admin")
    with read_session() as s:
        centre = s.exec(select(HealthCentre).order_by(HealthCentre.id)).first()
    key = f"reference_edit_{centre.id}"
    at.text_input(key=f"{key}_name").input("*Rosen* [vc](http://example.org)")
    at.button(key=f"FormSubmitter:{key}-" + translate("reference.save", "sv")).click().run()
    assert not at.exception and not at.error
    [notice] = [s.value for s in at.success]
    assert "\\*Rosen\\*" in notice and "\\[vc\\]" in notice, notice  # Markdown escapes
    with read_session() as s:
        assert s.get(HealthCentre, centre.id).name == "*Rosen* [vc](http://example.org)"
