"""Benchmark: the scripted clinic-desk flow in Chromium, clicks and seconds per step.

Runs tests/e2e/test_desk_browser.py (the real `streamlit run` on a fresh demo database, Debian's
Chromium through Playwright), which writes bench/results/desk.json, then prints the figures and
checks them against issue 4's bar: at most three clicks from the suggestions to a referral, and
under a minute from the login form to the logged handover.

    .venv/bin/python -m bench.bench_desk
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "desk.json"
MAX_CLICKS_TO_REFERRAL = 3
MAX_SECONDS = 60


def main() -> int:
    RESULTS.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e/test_desk_browser.py"],
        cwd=ROOT,
        env={**os.environ, "LOTSA_REQUIRE_BROWSER": "1"},
    )
    if done.returncode != 0 or not RESULTS.exists():
        print("the desk flow failed; no figures", file=sys.stderr)
        return 1
    figures = json.loads(RESULTS.read_text())
    print(f"{'step':<32} {'clicks':>6} {'seconds':>8}")
    for row in figures["steps"]:
        print(f"{row['step']:<32} {row['clicks']:>6} {row['seconds']:>8.2f}")
    total = figures["total"]
    print(f"{'total':<32} {total['clicks']:>6} {total['seconds']:>8.2f}")
    refer = next(row for row in figures["steps"] if row["step"] == "refer")
    ok = refer["clicks"] <= MAX_CLICKS_TO_REFERRAL and total["seconds"] < MAX_SECONDS
    print(
        f"suggestions -> referral: {refer['clicks']} click(s) (goal <= {MAX_CLICKS_TO_REFERRAL}); "
        f"end to end {total['seconds']:.0f} s (goal < {MAX_SECONDS} s): {'met' if ok else 'NOT MET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
