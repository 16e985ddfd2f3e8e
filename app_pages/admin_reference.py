"""Reference data for a real install: health centres, municipalities, programmes, categories and
target groups with synonyms (services/reference.py does the checking, auditing and writing)."""

import streamlit as st

from components.confirm import pop_notice, push_notice
from components.i18n import fmt_number, show_service_error, t
from components.session import guard
from domain.instruments import CODES as INSTRUMENTS
from domain.markdown_safety import md_inline
from domain.taxonomy import split_synonyms
from services import reference
from services.errors import ServiceError

principal = guard("admin_reference")
LANGS = ("sv", "da", "en")
LABELS = {
    name: t(f"reference.field.{name}")
    for name in (
        "code", "name", "name_sv", "name_da", "name_en", "country", "region_name", "latitude", "longitude",
        "municipality", "identifier", "address", "timepoints", "instruments", "with_measures",
        "cost_per_participant", "synonyms",
    )
}  # fmt: skip

st.title(t("page.admin_reference"))
st.caption(t("reference.intro"))
if notice := pop_notice("reference"):
    st.success(notice)
if st.button(t("reference.seed"), key="reference_seed"):
    try:
        done = reference.seed_reference(principal)
    except ServiceError as error:
        show_service_error(error, LABELS)
    else:
        st.success(t("reference.seeded", terms=done.terms_added, synonyms=done.synonyms_added,
                     programmes=done.programmes_added))  # fmt: skip


def _save(call, notice: str) -> None:
    """Run a service write; on an error show every field's message (the form keeps what was typed),
    else rerun so the tables show the new row."""
    try:
        call()
    except ServiceError as error:
        show_service_error(error, LABELS)
    else:
        push_notice("reference", notice)
        st.rerun()


def _coordinate(value: float) -> str:
    """A stored coordinate in the user's number format, to six decimals (about 0.1 m), without
    trailing zeros: saving the form unchanged leaves it as it was."""
    return fmt_number(value, 6).rstrip("0").rstrip(",.")


def _table(rows: dict) -> None:
    if rows and next(iter(rows.values())):
        st.dataframe(rows, hide_index=True, width="stretch")
    else:
        st.info(t("reference.none"))


KINDS = ("centres", "municipalities", "programmes", "categories", "target_groups")
tabs = st.tabs([t(f"reference.tab.{kind}") for kind in KINDS])
municipalities = reference.list_municipalities(principal)

with tabs[0]:
    centres = reference.list_centres(principal)
    _table({
        LABELS["code"]: [c.code for c in centres], LABELS["name"]: [c.name for c in centres],
        LABELS["municipality"]: [c.municipality for c in centres],
        LABELS["identifier"]: [c.identifier or "" for c in centres],
    })  # fmt: skip
    with st.form("reference_centre", enter_to_submit=False):
        left, right = st.columns(2)
        code = left.text_input(LABELS["code"], max_chars=32, placeholder="VC-LIMHAMN")
        name = right.text_input(LABELS["name"], max_chars=200)
        muni = left.selectbox(
            LABELS["municipality"], [m.id for m in municipalities], index=None,
            format_func={m.id: f"{m.name} ({m.country})" for m in municipalities}.get,
            placeholder=t("widget.choose_one"),
        )  # fmt: skip
        identifier = right.text_input(LABELS["identifier"], max_chars=32, placeholder="SE2321000016-15CQ")
        address = st.text_input(LABELS["address"], max_chars=300)
        lat = left.text_input(LABELS["latitude"], help=t("reference.coordinates_default"))
        lon = right.text_input(LABELS["longitude"], help=t("reference.coordinates_default"))
        if st.form_submit_button(t("reference.add"), type="primary"):
            _save(lambda: reference.add_centre(
                principal, code=code, name=name, municipality=muni, identifier=identifier, address=address,
                latitude=lat or None, longitude=lon or None,
            ), t("reference.added", name=md_inline(name)))  # fmt: skip
    if centres:
        st.markdown(f"**{t('reference.edit_centre')}**")
        st.caption(t("reference.edit_centre_help"))
        by_id = {c.id: c for c in centres}
        chosen = st.selectbox(
            t("reference.tab.centres"), list(by_id), key="reference_edit_centre",
            format_func=lambda i: f"{by_id[i].name} ({by_id[i].code})",
        )  # fmt: skip
        c = by_id[chosen]
        key = f"reference_edit_{c.id}"  # another centre opens with its own values
        with st.form(key, enter_to_submit=False):
            left, right = st.columns(2)
            name = left.text_input(LABELS["name"], value=c.name, max_chars=200, key=f"{key}_name")
            identifier = right.text_input(
                LABELS["identifier"], value=c.identifier or "", max_chars=32, key=f"{key}_identifier"
            )
            address = st.text_input(LABELS["address"], value=c.address, max_chars=300, key=f"{key}_address")
            lat = left.text_input(
                LABELS["latitude"], value=_coordinate(c.latitude), key=f"{key}_latitude",
                help=t("reference.coordinates_default"),
            )  # fmt: skip
            lon = right.text_input(
                LABELS["longitude"], value=_coordinate(c.longitude), key=f"{key}_longitude",
                help=t("reference.coordinates_default"),
            )  # fmt: skip
            if st.form_submit_button(t("reference.save"), type="primary"):
                try:
                    changed = reference.update_centre(
                        principal, c.id, name=name, identifier=identifier, address=address,
                        latitude=lat or None, longitude=lon or None,
                    )  # fmt: skip
                except ServiceError as error:
                    show_service_error(error, LABELS)
                else:
                    if changed:
                        saved = md_inline(" ".join(name.split()))
                        push_notice("reference", t("reference.centre_saved", name=saved))
                        st.rerun()
                    st.info(t("reference.centre_unchanged"))

with tabs[1]:
    _table({
        LABELS["code"]: [m.code for m in municipalities], LABELS["name"]: [m.name for m in municipalities],
        LABELS["country"]: [m.country for m in municipalities],
        LABELS["region_name"]: [m.region_name for m in municipalities],
    })  # fmt: skip
    with st.form("reference_municipality", enter_to_submit=False):
        left, right = st.columns(2)
        code = left.text_input(LABELS["code"], max_chars=8, placeholder="1280")
        name = right.text_input(LABELS["name"], max_chars=120)
        country = left.selectbox(LABELS["country"], ("SE", "DK"))
        region = right.text_input(LABELS["region_name"], max_chars=120)
        lat, lon = left.text_input(LABELS["latitude"]), right.text_input(LABELS["longitude"])
        if st.form_submit_button(t("reference.add"), type="primary"):
            _save(lambda: reference.add_municipality(
                principal, code=code, name=name, country=country, region_name=region,
                latitude=lat, longitude=lon,
            ), t("reference.added", name=md_inline(name)))  # fmt: skip

with tabs[2]:
    programmes = reference.list_programmes(principal)
    _table({
        LABELS["code"]: [p.code for p in programmes], LABELS["name"]: [p.name_sv for p in programmes],
        LABELS["timepoints"]: [", ".join(map(str, p.timepoints)) for p in programmes],
        LABELS["instruments"]: [", ".join(p.instruments) for p in programmes],
    })  # fmt: skip
    with st.form("reference_programme", enter_to_submit=False):
        code = st.text_input(LABELS["code"], max_chars=64, placeholder="walk_well")
        cols = st.columns(3)
        names = {lang: cols[i].text_input(LABELS[f"name_{lang}"]) for i, lang in enumerate(LANGS)}
        timepoints = st.text_input(LABELS["timepoints"], placeholder="0, 3, 6")
        chosen = st.multiselect(LABELS["instruments"], INSTRUMENTS, placeholder=t("widget.choose_many"))
        measures = st.checkbox(LABELS["with_measures"])
        cost = st.text_input(LABELS["cost_per_participant"])
        if st.form_submit_button(t("reference.add"), type="primary"):
            _save(lambda: reference.add_programme(
                principal, code=code, name_sv=names["sv"], name_da=names["da"], name_en=names["en"],
                timepoints=timepoints, instruments=chosen, with_measures=measures, cost_per_participant=cost,
            ), t("reference.added", name=md_inline(code)))  # fmt: skip

for tab, taxonomy in ((tabs[3], "category"), (tabs[4], "target_group")):
    with tab:
        terms = reference.list_terms(principal, taxonomy)
        _table({
            LABELS["code"]: [x.code for x in terms], LABELS["name_sv"]: [x.name_sv for x in terms],
            LABELS["name_da"]: [x.name_da for x in terms], LABELS["name_en"]: [x.name_en for x in terms],
            LABELS["synonyms"]: [", ".join(x.synonyms) for x in terms],
        })  # fmt: skip
        if terms:
            st.markdown(f"**{t('reference.edit_synonyms')}**")
            by_id = {x.id: x for x in terms}
            term_id = st.selectbox(
                t("reference.field.term"), list(by_id), format_func=lambda i, b=by_id: b[i].name_sv,
                key=f"reference_term_pick_{taxonomy}",
            )  # fmt: skip
            with st.form(f"reference_synonyms_{taxonomy}_{term_id}", enter_to_submit=False):
                text = st.text_area(LABELS["synonyms"], value=", ".join(by_id[term_id].synonyms))
                if st.form_submit_button(t("reference.save_synonyms")):
                    _save(lambda i=term_id, x=text: reference.set_synonyms(principal, i, split_synonyms(x)),
                          t("reference.saved"))  # fmt: skip
        with st.form(f"reference_term_{taxonomy}", enter_to_submit=False):
            code = st.text_input(LABELS["code"], max_chars=64)
            cols = st.columns(3)
            names = {lang: cols[i].text_input(LABELS[f"name_{lang}"]) for i, lang in enumerate(LANGS)}
            synonyms = st.text_area(LABELS["synonyms"], placeholder="Äldre, Ældre, Elderly")
            if st.form_submit_button(t("reference.add"), type="primary"):
                values = {"code": code, **{f"name_{lang}": names[lang] for lang in LANGS}}
                values["synonyms"] = split_synonyms(synonyms)
                _save(lambda tx=taxonomy, v=values: reference.add_term(principal, taxonomy=tx, **v),
                      t("reference.added", name=md_inline(code)))  # fmt: skip
