"""Load benchmark (issues 13 and 14): simulated users speaking Streamlit's own WebSocket protocol to
1 and 2 real replicas behind HAProxy (deploy/replicas.py), on Postgres at region scale.

Each simulated user is a light asyncio client (no browser): it fetches `/` through the proxy (which
pins it to a replica with the sticky cookie), opens `/_stcore/stream`, asks for a script run as a
browser does, logs in through the real login form (the widget ids are read from the page's deltas),
then opens pages of its role from the app's navigation, one after another with 0.5-1.5 s to "read"
each. "Settle" is the time from sending the rerun to the run's `script_finished` (after any
`st.rerun`), i.e. until the page is complete. All users run in this one process, which stays under
a fraction of a core, so the cores go to the replicas being measured.

Reported per configuration: page loads per second, p50/p95 page settle, p50/p95 login, the
replicas' resident memory (RSS, max sampled), this process's CPU share. Goals: issue 13, 20 users
on one server: login p95 < 3 s, page p95 < 5 s; issue 14, 20 users on 2 replicas: page p95 < 3 s
and throughput >= 1.8x one replica.

    nice -n 10 .venv/bin/python -m bench.bench_load                 # 5/10/20 users on 1 and 2 replicas
    nice -n 10 .venv/bin/python -m bench.bench_load --users 5 --replicas 1 --seconds 20

Needs Postgres (BENCH_LOAD_PG_URL, default the local server's database lotsa_bench_region, filled
once with `manage.py synthetic --size region` when empty) and haproxy.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
os.environ.setdefault("LOTSA_SECRET_KEY", base64.b64encode(b"bench-key-32-bytes-long-padding!").decode())
sys.path.insert(0, str(ROOT))

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402
from websockets.asyncio.client import connect as websocket_connect  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/lotsa_bench_region"
PASSWORD = "bench load password 2026"
DONE = {
    ForwardMsg.ScriptFinishedStatus.Value("FINISHED_SUCCESSFULLY"),
    ForwardMsg.ScriptFinishedStatus.Value("FINISHED_WITH_COMPILE_ERROR"),
}
SKIP_PAGES = ("login", "logout", "account")  # not what a busy centre's users click all day
# The roles of a busy centre: mostly connectors, a manager and a partner now and then.
ROLES = ("connector", "connector", "connector", "manager", "partner")


class Refused(Exception):
    pass


@dataclass
class Stats:
    pages: list[float] = field(default_factory=list)
    logins: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


class StreamlitClient:
    """One browser tab, as far as the server can tell: a session over the WebSocket protocol."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.widgets: dict[str, tuple[str, str]] = {}  # label -> (kind, id)
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.exception: str | None = None
        self.ws = None

    async def connect(self) -> None:
        def first_visit():
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=60) as response:
                response.read()
                return response.headers.get_all("Set-Cookie") or [], response.headers.get(
                    "X-Lotsa-Replica", ""
                )

        cookies, self.replica = await asyncio.to_thread(first_visit)
        self.cookie = "; ".join(c.split(";")[0] for c in cookies)
        self.ws = await websocket_connect(
            f"ws://127.0.0.1:{self.port}/_stcore/stream",
            subprotocols=["streamlit"],
            additional_headers={"Cookie": self.cookie},
            origin=f"http://127.0.0.1:{self.port}",
            max_size=None,
            open_timeout=60,
        )

    async def run(self, page: str = "", widgets: list[WidgetState] | None = None) -> float:
        """Ask for a script run (of `page`, a url_pathname) and wait until it has settled."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string = ""
        if page in self.pages:
            state.page_script_hash = self.pages[page]
        state.page_name = page
        state.context_info.timezone = "Europe/Stockholm"
        state.context_info.locale = "sv-SE"
        state.widget_states.widgets.extend(widgets or [])
        self.widgets.clear()
        self.exception = None
        started = time.perf_counter()
        await self.ws.send(message.SerializeToString())
        while True:
            data = await self.ws.recv()
            forward = ForwardMsg()
            forward.ParseFromString(data)
            kind = forward.WhichOneof("type")
            if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                element = forward.delta.new_element
                which = element.WhichOneof("type")
                if which == "text_input" or (which == "button" and element.button.is_form_submitter):
                    widget = getattr(element, which)
                    self.widgets[widget.label] = (which, widget.id)
                elif which == "exception":
                    self.exception = element.exception.message
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in forward.navigation.app_pages}
            elif kind == "script_finished" and forward.script_finished in DONE:
                return time.perf_counter() - started

    async def login(self, username: str, password: str) -> float:
        await self.run()
        ids = {kind: [] for kind in ("text_input", "button")}
        for kind, wid in self.widgets.values():
            ids[kind].append(wid)
        if len(ids["text_input"]) < 2 or not ids["button"]:
            raise Refused(f"no login form ({list(self.widgets)})")
        user, secret = WidgetState(id=ids["text_input"][0]), WidgetState(id=ids["text_input"][1])
        user.string_value, secret.string_value = username, password
        submit = WidgetState(id=ids["button"][0], trigger_value=True)
        before = dict(self.pages)
        took = await self.run(widgets=[user, secret, submit])
        if self.pages == before or self.exception:
            raise Refused(f"login of {username} did not open the app ({self.exception})")
        return took

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()


async def simulate(
    port: int, username: str, seconds: float, stats: Stats, rng: random.Random, think: tuple[float, float]
) -> None:
    client = StreamlitClient(port)
    try:
        await client.connect()
        stats.logins.append(await asyncio.wait_for(client.login(username, PASSWORD), 120))
        pages = sorted(p for p in client.pages if p and not p.startswith(SKIP_PAGES))
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            page = rng.choice(pages)
            took = await asyncio.wait_for(client.run(page), 120)
            if client.exception:
                stats.errors.append(f"{page}: {client.exception[:120]}")
            stats.pages.append(took)
            await asyncio.sleep(rng.uniform(*think))
    except Exception as error:
        stats.errors.append(f"{username}: {type(error).__name__}: {error}"[:200])
    finally:
        await client.close()


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def load(
    port: int, users: list[str], seconds: float, pids: list[int], think: tuple[float, float] = (0.5, 1.5)
) -> dict:
    stats = Stats()
    rng = random.Random(14)
    peak = {pid: rss_mb(pid) for pid in pids}
    cpu_before = time.process_time()

    async def sample() -> None:
        while True:
            for pid in pids:
                peak[pid] = max(peak[pid], rss_mb(pid))
            await asyncio.sleep(1)

    sampler = asyncio.create_task(sample())
    started = time.perf_counter()
    tasks = []
    for i, username in enumerate(users):
        tasks.append(
            asyncio.create_task(simulate(port, username, seconds, stats, random.Random(rng.random()), think))
        )
        await asyncio.sleep(0.2 if i < len(users) - 1 else 0)  # users arrive over a few seconds
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    sampler.cancel()
    return {
        "users": len(users),
        "seconds": round(wall, 1),
        "page_loads": len(stats.pages),
        "throughput": len(stats.pages) / wall,
        "page_p50": pct(stats.pages, 0.5),
        "page_p95": pct(stats.pages, 0.95),
        "login_p50": pct(stats.logins, 0.5),
        "login_p95": pct(stats.logins, 0.95),
        "logins": len(stats.logins),
        "rss_mb": [round(peak[p]) for p in pids],
        "generator_cpu": (time.process_time() - cpu_before) / wall,
        "errors": stats.errors[:10],
        "error_count": len(stats.errors),
    }


def prepare_database(url: str, users: int) -> list[str]:
    """The region-scale database (generated once) and `users` login accounts spread over roles."""
    os.environ["LOTSA_DB_URL"] = url
    from sqlalchemy import delete, text
    from sqlmodel import select

    from db.engine import dispose_all, write_session
    from db.migrate import upgrade
    from db.models import HealthCentre, LoginFailure, Organization, User, UserCentre, UserOrganization
    from deploy.replicas import create_database
    from domain.security import hash_password, password_hasher

    create_database(url)
    upgrade(url)
    from bench.schema_catch_up import catch_up

    catch_up(url)
    with write_session() as s:
        empty = s.execute(text("SELECT count(*) FROM service")).scalar_one() == 0
    if empty:
        from db.synthetic import generate

        started = time.perf_counter()
        generate("region", url)
        print(f"generated region on Postgres in {time.perf_counter() - started:.0f} s", flush=True)
    names = [f"load-{ROLES[i % len(ROLES)]}-{i + 1}" for i in range(users)]
    with write_session() as s:
        centre = s.exec(select(HealthCentre.id).order_by(HealthCentre.id)).first()
        org = s.exec(select(Organization.id).order_by(Organization.id)).first()
        have = {u.username: u for u in s.exec(select(User).where(User.username.in_(names))).all()}
        password = hash_password(PASSWORD)
        s.exec(delete(LoginFailure))  # an earlier, interrupted run must not throttle this one's logins
        for name in names:
            if name in have:
                # hashed under the configured parameters (LOTSA_PASSWORD_HASH), not locked by an earlier run
                user = have[name]
                if password_hasher().check_needs_rehash(user.password_hash or ""):
                    user.password_hash = password
                user.locked_until, user.failed_attempts = None, 0
                s.add(user)
                continue
            role = name.split("-")[1]
            user = User(username=name, display_name=name, role=role, password_hash=password)
            s.add(user)
            s.flush()
            if role in ("connector", "manager"):
                s.add(UserCentre(user_id=user.id, centre_id=centre))
            else:
                s.add(UserOrganization(user_id=user.id, organization_id=org))
    dispose_all()
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="load benchmark over real replicas")
    parser.add_argument("--users", default="5,10,20")
    parser.add_argument("--replicas", default="1,2")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--port", type=int, default=8700)
    parser.add_argument(
        "--think",
        default="0.5-1.5",
        help="seconds each user reads a page before the next click, as a range; 0 clicks without pause "
        "(measures the replicas' capacity rather than a paced centre)",
    )
    args = parser.parse_args(argv)
    low, _, high = args.think.partition("-")
    think = (float(low), float(high or low))
    import signal

    from deploy.replicas import Cluster

    def stop(signum, frame):  # a timeout or Ctrl-C still stops the replicas and the proxy
        raise SystemExit(1)

    signal.signal(signal.SIGTERM, stop)
    url = os.environ.get("BENCH_LOAD_PG_URL", DEFAULT_PG)
    user_counts = [int(x) for x in args.users.split(",")]
    names = prepare_database(url, max(user_counts))
    env = {"LOTSA_DB_URL": url, "LOTSA_DEMO": "0", "LOTSA_SECRET_KEY": os.environ["LOTSA_SECRET_KEY"]}
    results = []
    for replicas in [int(x) for x in args.replicas.split(",")]:
        with Cluster(replicas, args.port, env=env) as cluster:
            pids = [pid for name, pid in cluster.pids().items() if name.startswith("replica")]
            asyncio.run(load(args.port, names[:2], 5, pids))  # warm the replicas' imports and caches
            for count in user_counts:
                result = {
                    "replicas": replicas,
                    "think": args.think,
                    **asyncio.run(load(args.port, names[:count], args.seconds, pids, think)),
                }
                results.append(result)
                print(
                    f"{replicas} replica(s) {count:>3} users (think {args.think} s): "
                    f"{result['throughput']:.2f} pages/s, "
                    f"page p50 {result['page_p50']:.2f} s p95 {result['page_p95']:.2f} s, "
                    f"login p50 {result['login_p50']:.2f} s p95 {result['login_p95']:.2f} s, "
                    f"RSS {result['rss_mb']} MB, generator {result['generator_cpu'] * 100:.0f}% of a core, "
                    f"{result['error_count']} errors {result['errors'][:2]}",
                    flush=True,
                )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"load-think-{args.think}.json").write_text(json.dumps(results, indent=1))
    by = {(r["replicas"], r["users"]): r for r in results}
    for count in user_counts:
        if (1, count) in by and (2, count) in by:
            ratio = by[(2, count)]["throughput"] / by[(1, count)]["throughput"]
            print(f"{count} users: 2 replicas / 1 replica throughput = {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
