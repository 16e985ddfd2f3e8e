"""Import an inventory (CSV or XLSX) as municipalities keep them: upload, check the column mapping,
read every problem (row, column, what is wrong) and the likely duplicates, then import the valid
rows or nothing, in one transaction, with a progress bar. Nothing is written before the last step.
"""

import hashlib

import streamlit as st

from components.confirm import pop_notice, push_notice
from components.i18n import current_language, show_service_error, t, tn
from components.session import guard
from domain.inventory import FIELDS, REQUIRED_FIELDS
from services.directory_import import (
    ImportPreview,
    error_message,
    error_report_csv,
    preview_import,
    run_import,
    template_csv,
)
from services.errors import ServiceError

principal = guard("directory_import")
lang = current_language()
SHOWN_ERRORS = 300
STATE = "import_preview"

st.title(t("page.directory_import"))
st.caption(t("import.page.intro"))
notice = pop_notice("import")
if notice:
    st.success(notice)

st.download_button(
    t("import.page.template"),
    data=template_csv(lang),
    file_name="lotsa-inventory-template.csv",
    mime="text/csv",
    icon=":material/download:",
)
# A new key empties the uploader after an import (its value cannot be set).
upload = st.file_uploader(
    t("import.page.file"),
    type=["csv", "txt", "xlsx"],
    key=f"import_file_{st.session_state.get('import_round', 0)}",
)
if upload is None:
    st.session_state.pop(STATE, None)
    st.info(t("import.page.empty"))
    st.stop()

data = upload.getvalue()
digest = hashlib.sha256(data).hexdigest()
stored = st.session_state.get(STATE)
if stored is None or stored[0] != digest:
    try:
        with st.spinner(t("import.page.checking")):
            preview = preview_import(principal, data, upload.name, lang=lang)
    except ServiceError as error:
        st.session_state.pop(STATE, None)
        show_service_error(error)
        st.stop()
    st.session_state[STATE] = (digest, preview)
    for key in list(st.session_state):
        if str(key).startswith("map_"):
            del st.session_state[key]
else:
    preview = stored[1]
preview: ImportPreview

# --- Column mapping ----------------------------------------------------------------------------------
with st.expander(
    t("import.page.mapping", n=sum(1 for v in preview.mapping.values() if v)),
    expanded=any(preview.mapping.get(f) is None for f in REQUIRED_FIELDS),
    icon=":material/table_chart:",
):
    # Where the table is: the sheet (XLSX) and the heading row, found by Lotsa or chosen here.
    where = st.columns(3)
    sheet = preview.sheet
    if len(preview.sheets) > 1:
        index = preview.sheets.index(preview.sheet)
        tip = t("import.sheet_help")
        sheet = where[0].selectbox(t("import.sheet"), preview.sheets, index=index, help=tip)
    header_row = where[1].number_input(
        t("import.header_row"), min_value=1, max_value=1000, value=preview.header_row, step=1,
        help=t("import.header_row_help"),
    )  # fmt: skip
    moved = sheet != preview.sheet or header_row != preview.header_row
    st.caption(t("import.page.mapping_hint"))
    headers = [None, *preview.headers]
    columns = st.columns(3)
    chosen: dict[str, str | None] = {}
    for i, field in enumerate(FIELDS):
        label = t(f"import.field.{field}") + (" *" if field in REQUIRED_FIELDS else "")
        current = preview.mapping.get(field)
        chosen[field] = columns[i % 3].selectbox(
            label,
            headers,
            index=headers.index(current) if current in headers else 0,
            format_func=lambda h: t("import.page.not_mapped") if h is None else h,
            key=f"map_{field}",
        )
    kind = "primary" if moved else "secondary"
    if st.button(t("import.page.recheck"), icon=":material/refresh:", type=kind):
        try:
            with st.spinner(t("import.page.checking")):
                # Another sheet or heading row has other headings: suggest the mapping afresh.
                preview = preview_import(
                    principal, data, upload.name, None if moved else chosen, lang=lang,
                    sheet=sheet, header_row=int(header_row),
                )  # fmt: skip
        except ServiceError as error:
            show_service_error(error)
        else:
            st.session_state[STATE] = (digest, preview)
            if moved:
                for key in [k for k in st.session_state if str(k).startswith("map_")]:
                    del st.session_state[key]
            st.rerun()

# --- What the check found ------------------------------------------------------------------------------
bad_rows = preview.error_rows
read, good, bad, dupes = st.columns(4)
read.metric(t("import.page.rows_read"), preview.rows_read, border=True)
good.metric(t("import.page.rows_valid"), len(preview.valid), border=True)
bad.metric(t("import.page.rows_bad"), len(bad_rows), border=True)
dupes.metric(t("import.page.rows_duplicate"), len(preview.duplicate_rows), border=True)
st.caption(t("import.page.encoding", encoding=preview.encoding, name=preview.filename))
if preview.new_organizations:
    st.info(
        tn(
            "import.page.new_organizations",
            len(preview.new_organizations),
            names=", ".join(preview.new_organizations[:10]),
        )
    )

if preview.errors:
    st.subheader(tn("import.page.errors_heading", len(bad_rows)))
    shown = preview.errors[:SHOWN_ERRORS]
    st.dataframe(
        {
            t("import.report.row"): [e.row for e in shown],
            t("import.report.column"): [e.column for e in shown],
            t("import.report.message"): [error_message(e.key, e.params, lang) for e in shown],
        },
        hide_index=True,
        width="stretch",
    )
    if len(preview.errors) > SHOWN_ERRORS:
        st.caption(t("import.page.errors_more", shown=SHOWN_ERRORS, total=len(preview.errors)))
if preview.errors or preview.duplicates:
    st.download_button(
        t("import.page.report"),
        data=error_report_csv(preview, lang),
        file_name=f"lotsa-import-report-{preview.filename.rsplit('.', 1)[0][:60]}.csv",
        mime="text/csv",
        icon=":material/download:",
    )
if preview.duplicates:
    st.subheader(t("import.page.duplicates_heading", n=len(preview.duplicate_rows)))
    st.dataframe(
        {
            t("import.report.row"): [d.row for d in preview.duplicates[:SHOWN_ERRORS]],
            t("import.page.duplicate_of"): [
                t("import.page.existing", id=d.other) if d.existing else t("import.page.row", n=d.other)
                for d in preview.duplicates[:SHOWN_ERRORS]
            ],
            t("import.field.name"): [d.name for d in preview.duplicates[:SHOWN_ERRORS]],
            t("import.page.address"): [d.address for d in preview.duplicates[:SHOWN_ERRORS]],
        },
        hide_index=True,
        width="stretch",
    )

# --- Import ---------------------------------------------------------------------------------------------
st.subheader(t("import.page.run_heading"))
if not preview.valid:
    st.warning(t("import.page.nothing_valid"))
    st.stop()
mode = st.radio(
    t("import.page.mode"),
    ["valid_only", "all_or_nothing"],
    format_func=lambda m: t(f"import.page.mode_{m}", good=len(preview.valid), bad=len(bad_rows)),
    key="import_mode",
)
skip_duplicates = st.checkbox(
    t("import.page.skip_duplicates", n=len(preview.duplicate_rows)),
    value=bool(preview.duplicates),
    disabled=not preview.duplicates,
    key="import_skip_duplicates",
)
if principal.role == "partner":
    st.caption(t("import.page.partner_pending"))
if st.button(t("import.page.run"), type="primary", icon=":material/upload:", key="import_run"):
    bar = st.progress(0.0, text=t("import.page.progress", done=0, total=len(preview.valid)))

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0), text=t("import.page.progress", done=done, total=total))

    try:
        result = run_import(principal, preview, mode=mode, progress=progress, skip_duplicates=skip_duplicates)
    except ServiceError as error:
        bar.empty()
        show_service_error(error)
    else:
        st.session_state.pop(STATE, None)
        st.session_state["import_round"] = st.session_state.get("import_round", 0) + 1
        push_notice(
            "import",
            t(
                "import.page.done",
                created=result.created,
                skipped=result.skipped,
                organizations=result.organizations_created,
            ),
        )
        st.rerun()
