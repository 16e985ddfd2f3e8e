"""Benchmark: login and each role's home page at clinic, region (and optionally national) size.

Builds (once) a synthetic SQLite database per size under bench/.data/, adds one user per role,
then times Streamlit reruns of the real app through AppTest: the median of several reruns per
page, and the ratio of each size to clinic. Goal (issue 2): home pages stay quick at region size,
i.e. a ratio close to 1 rather than growing with the data.

    .venv/bin/python -m bench.bench_pages            # clinic and region
    .venv/bin/python -m bench.bench_pages national   # adds national (slow to generate)
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
RESULTS = ROOT / "bench" / "results"
os.environ.setdefault("LOTSA_SECRET_KEY", base64.b64encode(b"bench-key-32-bytes-long-padding!").decode())
sys.path.insert(0, str(ROOT))

from sqlmodel import select  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from db.engine import dispose_all, read_session, write_session  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.models import HealthCentre, Organization, User, UserCentre, UserOrganization  # noqa: E402
from db.synthetic import generate  # noqa: E402
from domain.security import hash_password  # noqa: E402

RERUNS = 5
PAGES = {
    "connector": "app_pages/home_connector.py",
    "manager": "app_pages/home_manager.py",
    "partner": "app_pages/home_partner.py",
    "admin": "app_pages/home_admin.py",
}


def prepare(size: str) -> str:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"{size}.db"
    url = f"sqlite:///{path}"
    os.environ["LOTSA_DB_URL"] = url
    if not path.exists():
        started = time.perf_counter()
        upgrade(url)
        generate(size, url)
        print(f"generated {size} in {time.perf_counter() - started:.0f} s", flush=True)
    _ensure_bench_users()
    return url


def _ensure_bench_users() -> None:
    with write_session() as s:
        if s.exec(select(User).where(User.username == "bench-admin")).first():
            return
        centre = s.exec(select(HealthCentre.id).order_by(HealthCentre.id)).first()
        org = s.exec(select(Organization.id).order_by(Organization.id)).first()
        password = hash_password("bench password 123")
        for role in PAGES:
            user = User(
                username=f"bench-{role}", display_name=f"Bench {role}", role=role, password_hash=password
            )
            s.add(user)
            s.flush()
            if role in ("connector", "manager"):
                s.add(UserCentre(user_id=user.id, centre_id=centre))
            if role == "partner":
                s.add(UserOrganization(user_id=user.id, organization_id=org))


def _user_id(role: str) -> int:
    with read_session() as s:
        return s.exec(select(User.id).where(User.username == f"bench-{role}")).one()


def time_page(role: str | None, page: str | None) -> float:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if role:
        now = time.time()
        at.session_state["auth_user_id"] = _user_id(role)
        at.session_state["auth_login_at"] = now
        at.session_state["auth_last_seen"] = now
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    samples = []
    for _ in range(RERUNS):
        started = time.perf_counter()
        at.run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main(sizes: list[str]) -> None:
    results: dict[str, dict[str, float]] = {}
    for size in sizes:
        prepare(size)
        results[size] = {"login": time_page(None, None)}
        for role, page in PAGES.items():
            results[size][f"home_{role}"] = time_page(role, page)
        dispose_all()
    base = results[sizes[0]]
    print(
        f"{'page':<16}"
        + "".join(f"{s:>12}" for s in sizes)
        + "".join(f"{s + '/clinic':>18}" for s in sizes[1:])
    )
    for page in base:
        row = f"{page:<16}" + "".join(f"{results[s][page] * 1000:>10.1f}ms" for s in sizes)
        row += "".join(f"{results[s][page] / base[page]:>18.2f}" for s in sizes[1:])
        print(row)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pages.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main(["clinic", "region", *sys.argv[1:]])
