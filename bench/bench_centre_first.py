"""Benchmark: the FIRST render of Centre outcomes at region size (issue 12: "8–29 s the first time
per browser session"). Goal: under 2 s.

Each measurement runs in a fresh Python process, so cold imports count as they do for the first
visitor of a new app process. Per user (the manager of one centre, and a region manager of every
centre in that centre's region), on a copy of the region-size synthetic database
(bench/.data/region.db, see bench/bench_pages.py), through AppTest on the real app.

plain (no warm-up, as before issue 12's precompute):
- process_cold: a new process, the first browser session opens Centre outcomes;
- new_session:  in the same process, a second browser session (new AppTest) opens it;
- after_write:  a write to the data (bumps the data version, as any replica's write would), then
  a third browser session opens it.

precompute (services/precompute.py, the thread serve.py starts):
- warm_up_s:  the warm-up at process start (in the background; nobody waits for it);
- process_cold: then the first browser session opens Centre outcomes;
- rewarm_s: after a write, the thread's next poll recomputes (in the background);
- after_write: then a browser session opens it.

    .venv/bin/python -m bench.bench_centre_first            # AppTest, plain and precompute
    .venv/bin/python -m bench.bench_centre_first browser    # Chromium on serve.py, after the warm-up
    .venv/bin/python -m bench.bench_centre_first browser cold   # ... the data changed just before
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

from bench.bench_pages import DATA, RESULTS, ROOT, prepare

COPY = DATA / "centre_first_region.db"
PAGE = "app_pages/outcomes_centre.py"
USERS = ("bench-dash-manager", "bench-dash-region")
MODES = ("plain", "precompute")


def _open(user_id: int) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
    now = time.time()
    at.session_state["auth_user_id"] = user_id
    at.session_state["auth_login_at"] = now
    at.session_state["auth_last_seen"] = now
    at.session_state["lang"] = "sv"
    at.switch_page(PAGE)
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    assert not at.exception, at.exception
    assert not [e.value for e in at.error], [e.value for e in at.error]
    return elapsed


def _write(url: str | None = None) -> None:
    """A write to a table the dashboard reads, as another replica might make it."""
    from sqlalchemy import text

    from db.engine import write_session

    with write_session(url) as s:
        s.exec(text("UPDATE health_centre SET name = name WHERE id = (SELECT MIN(id) FROM health_centre)"))


def child(user_id: int, mode: str) -> None:
    if mode == "plain":  # no warm-up: what a user waited for before issue 12's precompute
        first = _open(user_id)
        second = _open(user_id)
        _write()
        third = _open(user_id)
        print(json.dumps({"process_cold_s": first, "new_session_s": second, "after_write_s": third}))
        return
    from services.precompute import Warmer

    warmer = Warmer()  # the region views take far more than SLOW_SECONDS: re-warmed on each write
    started = time.perf_counter()
    warmer.step()  # what serve.py's background thread does when the process starts
    warm = time.perf_counter() - started
    first = _open(user_id)
    _write()
    started = time.perf_counter()
    warmer.step()  # the thread's next poll sees the new data version
    rewarm = time.perf_counter() - started
    third = _open(user_id)
    print(
        json.dumps({"warm_up_s": warm, "process_cold_s": first, "rewarm_s": rewarm, "after_write_s": third})
    )


def main() -> None:
    if not COPY.exists():
        source = prepare("region")  # generates bench/.data/region.db once
        shutil.copyfile(source.removeprefix("sqlite:///"), COPY)
    url = f"sqlite:///{COPY}"
    os.environ["LOTSA_DB_URL"] = url
    from bench.bench_dashboards import ensure_users
    from db.engine import dispose_all
    from db.migrate import upgrade

    upgrade(url)
    ids = ensure_users()
    # The bench managers logged in last, so the warm-up (the most recent managers) includes them.
    from sqlalchemy import text

    from db.engine import write_session

    with write_session() as s:
        s.exec(
            text("UPDATE app_user SET last_login_at = CURRENT_TIMESTAMP WHERE username LIKE 'bench-dash-%'")
        )
    dispose_all()
    results = {}
    for mode in MODES:
        for username in USERS:
            out = subprocess.run(
                [sys.executable, "-m", "bench.bench_centre_first", "child", str(ids[username]), mode],
                cwd=ROOT,
                env={**os.environ, "LOTSA_DB_URL": url},
                capture_output=True,
                text=True,
            )
            if out.returncode:
                raise SystemExit(f"{mode} {username} failed:\n{out.stderr[-3000:]}")
            out = out.stdout
            r = results.setdefault(mode, {})[username] = json.loads(out.strip().splitlines()[-1])
            shown = "   ".join(f"{k} {v:6.2f}" for k, v in r.items())
            print(f"{mode:<11} {username:<20} {shown}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "centre_first.json").write_text(json.dumps(results, indent=1))


def browser(wait_s: float = 90.0, port: int = 8765, cold: bool = False) -> None:
    """Chromium against `streamlit run serve.py` on the region copy: the region manager logs in
    after the precompute thread has had `wait_s` seconds, opens Centre outcomes (first visit of the
    browser session), goes Home and opens it again (second visit). With `cold`, a write to the data
    just before the first visit (another connector's save, on any replica) makes every cached view
    stale: the first visit then computes the whole dashboard. Run `main()` once first (it creates
    the copy and the bench users, password "bench password 123")."""
    import urllib.request

    from playwright.sync_api import sync_playwright

    from locales import translate

    env = {**os.environ, "LOTSA_DB_URL": f"sqlite:///{COPY}", "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    env.pop("LOTSA_ENV", None)
    idle = '[data-testid="stApp"][data-test-script-state="notRunning"]'
    command = [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.port", str(port)]
    command += ["--server.headless", "true", "--server.fileWatcherType", "none"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    server = subprocess.Popen(command, cwd=ROOT, env=env, **quiet)
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
                break
            except OSError:
                time.sleep(1)
        time.sleep(wait_s)  # the precompute thread's first pass (serve.py starts it)
        with sync_playwright() as p:
            chromium = p.chromium.launch(executable_path="/usr/bin/chromium")
            results = {}
            # A new browser session each: clicking at once after login, and after reading the home
            # page for 3 s (the sidebar preloads the chart bundle meanwhile, components/sidebar.py).
            for read_s in (0.0, 1.0, 3.0):
                context = chromium.new_context(viewport={"width": 1400, "height": 1000}, locale="sv-SE")
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_label(translate("login.username", "sv"), exact=True).fill("bench-dash-region")
                page.get_by_label(translate("login.password", "sv"), exact=True).fill("bench password 123")
                page.get_by_role("button", name=translate("login.submit", "sv"), exact=True).click()
                page.get_by_role("button", name=translate("sidebar.logout", "sv")).wait_for(timeout=60_000)
                page.wait_for_timeout(read_s * 1000)
                links = page.locator('[data-testid="stSidebarNavLink"]')
                link = links.filter(has=page.get_by_text(translate("page.outcomes_centre", "sv"), exact=True))
                shown = []
                for visit in ("first", "second"):
                    if visit == "first" and cold:
                        _write(f"sqlite:///{COPY}")  # the data changed a moment ago: no view is current
                    elif visit == "second":
                        links.first.click()  # Home
                        page.wait_for_selector(idle, timeout=120_000)
                        page.wait_for_timeout(1000)
                    started = time.perf_counter()
                    link.click()
                    chart = page.locator('[data-testid="stPlotlyChart"]').first
                    chart.wait_for(state="visible", timeout=120_000)
                    drawn = time.perf_counter() - started
                    page.wait_for_selector(idle, timeout=120_000)
                    shown.append((drawn, time.perf_counter() - started))
                results[read_s] = shown
                context.close()
            chromium.close()
        for read_s, shown in results.items():
            print(
                f"browser{' (data just changed)' if cold else ''}, {read_s:.0f} s on the home page first:"
                f" Centre outcomes first visit: chart {shown[0][0]:.2f} s, page done {shown[0][1]:.2f} s;"
                f" second visit: chart {shown[1][0]:.2f} s, page done {shown[1][1]:.2f} s"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    if len(sys.argv) > 3 and sys.argv[1] == "child":
        child(int(sys.argv[2]), sys.argv[3])
    elif len(sys.argv) > 1 and sys.argv[1] == "browser":
        waits = [float(a) for a in sys.argv[2:] if a.replace(".", "").isdigit()]
        browser(*waits[:1], cold="cold" in sys.argv[2:])
    else:
        main()
