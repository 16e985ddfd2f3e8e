"""Benchmark: how fast `db.synthetic.generate` fills a fresh, migrated SQLite file per size.

Prints seconds, rows written and rows per second for each size, and the biggest tables.

    .venv/bin/python -m bench.bench_synthetic                   # clinic and region
    .venv/bin/python -m bench.bench_synthetic clinic national   # any sizes, in order
"""

from __future__ import annotations

import base64
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LOTSA_SECRET_KEY", base64.b64encode(b"bench-key-32-bytes-long-padding!").decode())
sys.path.insert(0, str(ROOT))

from db.engine import dispose_all  # noqa: E402
from db.migrate import upgrade  # noqa: E402
from db.synthetic import SIZES, generate  # noqa: E402


def bench(size: str) -> tuple[float, dict[str, int], int]:
    with tempfile.TemporaryDirectory(prefix=f"lotsa-bench-{size}-") as scratch:
        path = Path(scratch) / f"{size}.db"
        url = f"sqlite:///{path}"
        upgrade(url)
        started = time.perf_counter()

        def progress(phase: str, done: int, total: int) -> None:
            elapsed = time.perf_counter() - started
            print(
                f"\r  {size}: {phase:<10} {done:>10,}/{total:<10,} {elapsed:6.1f} s", end="", file=sys.stderr
            )

        rows = generate(size, url, progress)
        elapsed = time.perf_counter() - started
        print(file=sys.stderr)
        dispose_all()
        return elapsed, rows, path.stat().st_size if path.exists() else 0


def main(sizes: list[str]) -> None:
    results = {size: bench(size) for size in sizes}
    print(f"{'size':<10}{'seconds':>10}{'rows':>14}{'rows/s':>12}{'file MB':>10}")
    for size, (elapsed, rows, size_bytes) in results.items():
        total = sum(rows.values())
        print(f"{size:<10}{elapsed:>10.1f}{total:>14,}{total / elapsed:>12,.0f}{size_bytes / 1e6:>10.0f}")
    for size, (_elapsed, rows, _bytes) in results.items():
        biggest = sorted(rows.items(), key=lambda item: -item[1])[:5]
        print(f"{size}: " + ", ".join(f"{table} {n:,}" for table, n in biggest))


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["clinic", "region"]
    unknown = [s for s in chosen if s not in SIZES]
    if unknown:
        sys.exit(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    main(chosen)
