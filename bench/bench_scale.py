"""Benchmark (issue 14): every page named in the issue, warm rerun at clinic and national size in one
run, against the trivial-page floor (My account), with national/clinic ratios.

Goal: every page's national warm rerun <= 500 ms and <= 3x its clinic rerun. "Warm" is what a user
waits for after a click on a page already open: the median of RERUNS AppTest reruns after a first
(cold) run. The cold run is reported too. The databases are bench_pages' synthetic SQLite files
(bench/.data/<size>.db), migrated to the current head first.

    nice -n 10 .venv/bin/python -m bench.bench_scale clinic national # the issue's figures
    nice -n 10 .venv/bin/python -m bench.bench_scale                  # clinic and region (make bench)
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from sqlmodel import select
from streamlit.testing.v1 import AppTest

from bench.bench_pages import DATA, RESULTS, ROOT, _user_id, prepare
from db.engine import dispose_all, read_session, write_session
from db.models import HealthCentre, Patient, User
from domain.security import hash_password

RERUNS = 5


def _ensure_volunteer() -> None:
    with write_session() as s:
        if s.exec(select(User).where(User.username == "bench-volunteer")).first() is None:
            s.add(
                User(
                    username="bench-volunteer",
                    display_name="Bench volunteer",
                    role="volunteer",
                    password_hash=hash_password("bench password 123"),
                )
            )


def _patient_of_bench_connector() -> int:
    from db.models import UserCentre

    with read_session() as s:
        centre = s.exec(
            select(UserCentre.centre_id)
            .join(User, User.id == UserCentre.user_id)
            .where(User.username == "bench-connector")
        ).first()
        pid = s.exec(select(Patient.id).where(Patient.centre_id == centre).order_by(Patient.id)).first()
        if pid is None:  # fall back to any centre's patient (the page then refuses: still a page)
            pid = s.exec(select(Patient.id).order_by(Patient.id)).first()
        assert s.exec(select(HealthCentre.id)).first() is not None
        return int(pid)


def time_page(role: str | None, page: str, params: dict[str, str]) -> tuple[float, float]:
    """(cold, warm median) seconds of the real app on `page` as the bench user of `role`."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    if role:
        now = time.time()
        at.session_state["auth_user_id"] = _user_id(role)
        at.session_state["auth_login_at"] = now
        at.session_state["auth_last_seen"] = now
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(page)
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    assert not at.exception, at.exception
    samples = []
    for _ in range(RERUNS):
        started = time.perf_counter()
        at.run()
        samples.append(time.perf_counter() - started)
    return cold, statistics.median(samples)


def pages(patient: int) -> dict[str, tuple[str | None, str, dict[str, str]]]:
    return {
        "floor: my account (connector)": ("connector", "app_pages/account.py", {}),
        "directory upkeep (manager)": ("manager", "app_pages/directory_upkeep.py", {}),
        "directory upkeep (partner)": ("partner", "app_pages/directory_upkeep.py", {}),
        "directory list (visitor)": (None, "app_pages/directory.py", {}),
        "directory list (connector, by distance)": ("connector", "app_pages/directory.py", {}),
        "directory text search 'promenad'": (None, "app_pages/directory.py", {"q": "promenad"}),
        "directory map, everything": (None, "app_pages/directory.py", {"view": "map"}),
        "directory week view": (None, "app_pages/directory.py", {"view": "timetable"}),
        "signposting (volunteer)": ("volunteer", "app_pages/signposting.py", {}),
        "privacy (admin)": ("admin", "app_pages/privacy.py", {}),
        "matching (connector)": ("connector", "app_pages/matching.py", {"patient": str(patient)}),
        "admin users (admin)": ("admin", "app_pages/admin_users.py", {}),
        "home (manager)": ("manager", "app_pages/home_manager.py", {}),
    }


def migrate(url: str) -> None:
    """Bring a database generated earlier to the current models (see bench/schema_catch_up.py)."""
    from bench.schema_catch_up import catch_up

    added = catch_up(url)
    if url.startswith("sqlite") and _add_search_index(url):
        added.append("service_search (migration 0013)")
    if added:
        print(f"  caught up {url}: {', '.join(added)}", flush=True)


def _add_search_index(url: str) -> bool:
    """The directory's search index (0013) on a database generated while 0013 was a placeholder
    (Alembic then considers it current). True if it was missing and is now built."""
    import importlib.util

    from sqlalchemy import text

    from db.engine import get_engine

    engine = get_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM sqlite_master WHERE name = 'service_search'")).first()
    if found:
        return False
    spec = importlib.util.spec_from_file_location(
        "search_index_0013", ROOT / "db" / "migrations" / "versions" / "0013_search_index.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with engine.begin() as conn:
        module.create_sqlite(conn)
    return True


def measure(size: str) -> dict[str, dict[str, float]]:
    path = DATA / f"{size}.db"
    if path.exists():
        migrate(f"sqlite:///{path}")
    url = prepare(size)
    migrate(url)
    _ensure_volunteer()
    patient = _patient_of_bench_connector()
    out = {}
    for name, (role, page, params) in pages(patient).items():
        cold, warm = time_page(role, page, params)
        out[name] = {"cold": cold, "warm": warm}
        print(f"  {size:<9} {name:<42} cold {cold * 1000:8.0f} ms   warm {warm * 1000:7.0f} ms", flush=True)
    dispose_all()
    return out


def main(sizes: list[str]) -> None:
    results = {size: measure(size) for size in sizes}
    base, names = sizes[0], list(results[sizes[0]])
    print(
        f"\n{'page':<42}"
        + "".join(f"{s + ' warm':>16}" for s in sizes)
        + "".join(f"{s + '/' + base:>18}" for s in sizes[1:])
    )
    for name in names:
        row = f"{name:<42}" + "".join(f"{results[s][name]['warm'] * 1000:>13.0f} ms" for s in sizes)
        row += "".join(f"{results[s][name]['warm'] / results[base][name]['warm']:>18.2f}" for s in sizes[1:])
        print(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps({"data": str(DATA), "results": results}, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:] or ["clinic", "region"])
