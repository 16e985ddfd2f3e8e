"""Benchmark: every outcome dashboard at clinic, region and (optionally) national size.

Per page and size, through AppTest on the real app with a synthetic database from bench/.data/:

- cold: the first run after the dashboard caches are cleared (the SQL aggregates run);
- rerun: the median of several reruns (what a user waits for after each click; caches warm);
- payload: the bytes of every element the page sends to the browser (the sum of the element
  protobufs, which carry the chart JSON, table data and text).

Users: a manager of one centre (centre dashboard, evaluation, economics, gaps), a region manager of
every centre in that centre's region (compare centres), and a partner of the organisation whose
activities received the most referrals (partner feedback). Goals (issue 5): national rerun at most 3x
clinic, payload at most 2 MB.

    .venv/bin/python -m bench.bench_dashboards            # clinic and region
    .venv/bin/python -m bench.bench_dashboards national   # adds national (slow to generate once)
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from sqlalchemy import func
from sqlmodel import col, select
from streamlit.testing.v1 import AppTest

from bench.bench_pages import RESULTS, ROOT, prepare
from db.engine import dispose_all, read_session, write_session
from db.migrate import upgrade
from db.models import (
    HealthCentre,
    Municipality,
    Organization,
    Referral,
    Service,
    User,
    UserCentre,
    UserOrganization,
)
from domain.security import hash_password
from services.dashboards import clear_caches

RERUNS = 5
# page key -> (page file, bench user)
PAGES = {
    "outcomes_centre": ("app_pages/outcomes_centre.py", "bench-dash-manager"),
    "outcomes_compare": ("app_pages/outcomes_compare.py", "bench-dash-region"),
    "evaluation": ("app_pages/evaluation.py", "bench-dash-manager"),
    "economics": ("app_pages/economics.py", "bench-dash-manager"),
    "gaps": ("app_pages/gaps.py", "bench-dash-manager"),
    "partner_feedback": ("app_pages/partner_feedback.py", "bench-dash-partner"),
}


def ensure_users() -> dict[str, int]:
    """The three bench users, created once per database; returns username -> id."""
    with write_session() as s:
        existing = {
            u.username: u.id for u in s.exec(select(User).where(col(User.username).like("bench-dash-%")))
        }
        if len(existing) == 3:
            return existing
        centre = s.exec(select(HealthCentre).order_by(HealthCentre.id)).first()
        region = s.exec(
            select(Municipality.region_name).where(Municipality.id == centre.municipality_id)
        ).one()
        region_centres = s.exec(
            select(HealthCentre.id)
            .join(Municipality, Municipality.id == HealthCentre.municipality_id)
            .where(Municipality.region_name == region)
        ).all()
        busiest_org = (
            s.exec(
                select(Service.organization_id)
                .join(Referral, Referral.service_id == Service.id)
                .group_by(Service.organization_id)
                .order_by(func.count().desc())
                .limit(1)
            ).first()
            or s.exec(select(Organization.id).order_by(Organization.id)).first()
        )
        password = hash_password("bench password 123")
        users = {
            "bench-dash-manager": ("manager", [centre.id], []),
            "bench-dash-region": ("manager", list(region_centres), []),
            "bench-dash-partner": ("partner", [], [busiest_org]),
        }
        ids = {}
        for username, (role, centres, orgs) in users.items():
            user = User(username=username, display_name=username, role=role, password_hash=password)
            s.add(user)
            s.flush()
            ids[username] = user.id
            s.add_all(UserCentre(user_id=user.id, centre_id=c) for c in centres)
            s.add_all(UserOrganization(user_id=user.id, organization_id=o) for o in orgs)
    return ids


def payload_bytes(at: AppTest) -> int:
    """Bytes of every element proto in the rendered tree (what the browser receives as deltas)."""
    total, stack = 0, [at._tree]
    while stack:
        node = stack.pop()
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ByteSize"):
            total += proto.ByteSize()
        children = getattr(node, "children", None)
        if children:
            stack.extend(children.values())
    return total


def time_page(user_id: int, page: str) -> dict[str, float]:
    clear_caches()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    now = time.time()
    at.session_state["auth_user_id"] = user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.switch_page(page)
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert not errors, f"{page}: {errors}"
    samples = []
    for _ in range(RERUNS):
        started = time.perf_counter()
        at.run()
        samples.append(time.perf_counter() - started)
    return {"cold_s": cold, "rerun_s": statistics.median(samples), "payload_kb": payload_bytes(at) / 1024}


def main(sizes: list[str]) -> None:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for size in sizes:
        url = prepare(size)
        started = time.perf_counter()
        upgrade(url)  # databases generated before the latest migration (new indexes, summaries)
        print(f"== {size}: migrated in {time.perf_counter() - started:.0f} s", flush=True)
        ids = ensure_users()
        with read_session() as s:
            region_n = s.exec(
                select(func.count())
                .select_from(UserCentre)
                .where(UserCentre.user_id == ids["bench-dash-region"])
            ).one()
        print(f"== {size}: region manager serves {region_n} centres", flush=True)
        results[size] = {}
        for key, (page, username) in PAGES.items():
            r = time_page(ids[username], page)
            results[size][key] = r
            print(
                f"{size:<9} {key:<18} cold {r['cold_s'] * 1000:8.0f} ms  rerun {r['rerun_s'] * 1000:7.0f} ms"
                f"  payload {r['payload_kb']:7.0f} KB",
                flush=True,
            )
        dispose_all()
    base = results[sizes[0]]
    print(
        f"\n{'page':<18}"
        + "".join(f"{s + ' rerun':>16}" for s in sizes)
        + "".join(f"{s + '/clinic':>16}" for s in sizes[1:])
    )
    for key in PAGES:
        row = f"{key:<18}" + "".join(f"{results[s][key]['rerun_s'] * 1000:>14.0f}ms" for s in sizes)
        row += "".join(f"{results[s][key]['rerun_s'] / base[key]['rerun_s']:>16.2f}" for s in sizes[1:])
        print(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "dashboards.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(["clinic", "region", *sys.argv[1:]])
