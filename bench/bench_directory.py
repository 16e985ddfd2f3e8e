"""Benchmark: the directory (list, map and week tabs), the activity page and the map payload at clinic
and region size (national optional), with SQLite's query plan of the main search.

Reuses bench_pages' synthetic databases under bench/.data/ (generated once per size). Times are the
median of several AppTest reruns of the real app; the payload is the bytes of the deck JSON that
every map rerun sends to the browser (issue 3: within 2 MB). Ratios to clinic size show whether a
page grows with the data.

    .venv/bin/python -m bench.bench_directory            # clinic and region
    .venv/bin/python -m bench.bench_directory national   # adds national (generating it takes long)
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from streamlit.testing.v1 import AppTest

from bench.bench_pages import RESULTS, ROOT, _user_id, prepare
from db.engine import dispose_all, read_session
from services.directory import DirectoryFilter, _build, _from, _order, facet_options, map_points, search

RERUNS = 5
S_ID = "SELECT id FROM service WHERE status = 'active' AND approval_status = 'approved' ORDER BY id LIMIT 1"


def time_page(role: str | None, page: str, params: dict[str, str]) -> float:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    if role:
        now = time.time()
        at.session_state["auth_user_id"] = _user_id(role)
        at.session_state["auth_login_at"] = now
        at.session_state["auth_last_seen"] = now
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    samples = []
    for _ in range(RERUNS):
        started = time.perf_counter()
        at.run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def map_payload(flt: DirectoryFilter) -> tuple[int, str, int]:
    from components import maps

    options = facet_options("sv")
    data = map_points(flt)
    if data.mode == "points":
        deck = maps.activities_deck(
            data.points,
            centres=options.centres.values(),
            municipalities=options.places,
        )
    else:
        deck = maps.cells_deck(
            data.cells,
            cell_km=data.cell_km or 5,
            centres=options.centres.values(),
            municipalities=options.places,
        )
    return maps.payload_bytes(deck), data.mode, data.total


def query_plan(flt: DirectoryFilter) -> list[str]:
    """SQLite's plan for the page-of-ids query of a search."""
    from datetime import date

    from sqlalchemy import select

    from services.directory import S

    with read_session() as s:
        query = _build(s, flt, date.today())
        stmt = (
            select(S.c.id)
            .select_from(_from(query.needs_location or flt.sort == "distance"))
            .where(*query.where)
            .order_by(*_order(flt, query))
            .limit(25)
        )
        sql = str(stmt.compile(s.get_bind(), compile_kwargs={"literal_binds": True}))
        return [row[-1] for row in s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def main(sizes: list[str]) -> None:
    results: dict[str, dict[str, float]] = {}
    for size in sizes:
        prepare(size)
        with read_session() as s:
            sid = s.connection().exec_driver_sql(S_ID).scalar_one()
            centre = (
                s.connection()
                .exec_driver_sql("SELECT id FROM health_centre ORDER BY id LIMIT 1")
                .scalar_one()
            )
        near = {"centre": str(centre), "km": "2.0", "sort": "distance"}
        acceptance = {
            **near,
            "free": "1",
            "day": "TU",
            "tod": "afternoon",
            "langs": "sv",
            "acc": "wheelchair",
        }
        r = results[size] = {}
        r["list_visitor"] = time_page(None, "app_pages/directory.py", {})
        r["list_connector"] = time_page("connector", "app_pages/directory.py", {})
        r["list_acceptance"] = time_page("connector", "app_pages/directory.py", acceptance)
        r["list_text_search"] = time_page(None, "app_pages/directory.py", {"q": "promenad"})
        r["map_all"] = time_page(None, "app_pages/directory.py", {"view": "map"})
        r["map_near_centre"] = time_page("connector", "app_pages/directory.py", {**near, "view": "map"})
        r["week_all"] = time_page(None, "app_pages/directory.py", {"view": "timetable"})
        r["activity"] = time_page(None, "app_pages/activity.py", {"id": str(sid)})
        started = time.perf_counter()
        _, total = search(DirectoryFilter(centre_id=centre, sort="distance"))
        r["search_service_ms"] = (time.perf_counter() - started) * 1000
        payload, mode, on_map = map_payload(DirectoryFilter())
        r["map_payload_kb"] = payload / 1024
        r["map_points_on_map"] = on_map
        r["public_activities"] = total
        print(f"{size}: map {mode} for {on_map} activities, {payload / 1024:.0f} KB", flush=True)
        for line in query_plan(
            DirectoryFilter(centre_id=centre, max_km=2.0, sort="distance", free_only=True)
        ):
            print(f"  plan: {line}")
        dispose_all()
    base = results[sizes[0]]
    print(
        f"{'measure':<20}"
        + "".join(f"{s:>12}" for s in sizes)
        + "".join(f"{s + '/clinic':>16}" for s in sizes[1:])
    )
    for key in base:
        unit = "ms" if not key.endswith(("_kb", "_on_map", "activities", "_ms")) else ""
        scale = 1000 if unit else 1
        row = f"{key:<20}" + "".join(f"{results[s][key] * scale:>10.1f}{unit or '  '}" for s in sizes)
        row += "".join(
            f"{results[s][key] / base[key]:>16.2f}" if base[key] else f"{'':>16}" for s in sizes[1:]
        )
        print(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "directory.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(["clinic", "region", *sys.argv[1:]])
