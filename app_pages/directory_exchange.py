"""Exchange the directory with other systems as HSDS 3.0 (Open Referral): download the public
directory as compiled service JSON or as the CSV data package; admins import either format.
An import is checked against the standard's schema first and writes everything or nothing."""

import json
import tempfile
from datetime import date
from pathlib import Path

import streamlit as st

from components.confirm import pop_notice, push_notice
from components.i18n import current_language, show_service_error, t, tn
from components.session import guard
from domain.markdown_safety import md_inline
from services import hsds as exchange
from services.errors import ServiceError

principal = guard("directory_exchange")
today = date.today().isoformat()

st.title(t("page.directory_exchange"))
st.caption(t("exchange.intro"))
notice = pop_notice("exchange")
if notice:
    st.success(notice)
    dropped = st.session_state.pop("hsds_dropped", None)
    if dropped:
        st.warning(t("exchange.dropped", n=sum(dropped.values()), fields=len(dropped)))
        st.dataframe(
            {t("exchange.dropped_field"): list(dropped), t("exchange.dropped_count"): list(dropped.values())},
            hide_index=True,
            width="stretch",
        )

st.subheader(t("exchange.export_heading"))
st.caption(t("exchange.export_hint"))
left, right = st.columns(2)
left.download_button(
    t("exchange.download_json"),
    data=lambda: json.dumps(exchange.export_json(), ensure_ascii=False, indent=1).encode("utf-8"),
    file_name=f"lotsa-hsds-{today}.json",
    mime="application/json",
    icon=":material/data_object:",
    on_click="ignore",
    key="hsds_json",
)
right.download_button(
    t("exchange.download_tabular"),
    data=lambda: exchange.tabular_bytes(exchange.export_json()),
    file_name=f"lotsa-hsds-{today}.zip",
    mime="application/zip",
    icon=":material/folder_zip:",
    on_click="ignore",
    key="hsds_zip",
)

if principal.role != "admin":
    st.stop()

st.subheader(t("exchange.import_heading"))
st.caption(t("exchange.import_hint"))
upload = st.file_uploader(
    t("exchange.file"), type=["json", "zip"], key=f"hsds_file_{st.session_state.get('hsds_round', 0)}"
)
if upload is not None and st.button(t("exchange.import"), type="primary", icon=":material/upload:"):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(upload.name).name
        path.write_bytes(upload.getvalue())
        try:
            with st.spinner(t("exchange.importing")):
                if path.suffix.lower() == ".zip":
                    report = exchange.import_tabular(path, actor=principal)
                else:
                    report = exchange.import_json(exchange.read_json_records(path), actor=principal)
        except exchange.Problem as error:  # not JSON, not UTF-8
            st.error(
                md_inline(t("exchange.unreadable", detail=exchange.error_text(error, current_language())))
            )
            st.stop()
        except ValueError as error:
            st.error(md_inline(t("exchange.unreadable", detail=str(error)[:300])))
            st.stop()
        except ServiceError as error:
            show_service_error(error)
            st.stop()
    if report.ok:
        created = sum(report.created.values())
        updated = sum(report.updated.values())
        deleted = sum(report.deleted.values())
        st.session_state["hsds_round"] = st.session_state.get("hsds_round", 0) + 1
        st.session_state["hsds_dropped"] = report.dropped
        push_notice(
            "exchange",
            t("exchange.done", records=report.records, created=created, updated=updated, deleted=deleted),
        )
        st.rerun()
    st.error(tn("exchange.rejected", len(report.errors)))
    if report.unsupported_version:
        st.warning(t("exchange.unsupported_version"))
    # Problems of the file as a whole in full (the temporary folder named as the upload), the
    # problems of single records as a table; in the user's language, the file's values as text.
    lang = current_language()
    whole = [e for e in report.errors if e.index is None][:20]
    for e in whole:
        st.error(md_inline(f"{e.path}: {exchange.error_text(e, lang)}".replace(str(path), upload.name)))
    records = [e for e in report.errors if e.index is not None][:500]
    if records:
        st.dataframe(
            {
                t("exchange.record"): [e.index + 1 for e in records],
                t("exchange.path"): [e.path for e in records],
                t("exchange.problem"): [exchange.error_text(e, lang) for e in records],
            },
            hide_index=True,
            width="stretch",
        )
