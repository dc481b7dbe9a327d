"""Print how fast the workbench answers: the example's phase page, cold then warm (goal: ≤ 200 ms warm).

The page is asked through Starlette's test client (the application as uvicorn runs it, without the
network): first request (the dossier checked), then the median and the slowest of 20 warm requests;
the register and one act's page too.

Usage: python bench/web.py [DOSSIER]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient

from deliberation.web.app import create_app

ROOT = Path(__file__).resolve().parents[1]


def timed(client: TestClient, url: str) -> float:
    start = time.perf_counter()
    r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return time.perf_counter() - start


def main() -> None:
    dossier = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "fixtures" / "phase-6-2024"
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        client = TestClient(create_app(dossier, Path(tmp) / "build", pdf=False))
        print(f"{'page':<32}  {'premier (ms)':>12}  {'médiane chaude (ms)':>19}  {'pire sur 20 (ms)':>16}")
        for url in ("/", "/actes", "/actes/1"):
            first = timed(client, url)
            warm = [timed(client, url) for _ in range(20)]
            print(f"{url:<32}  {first * 1000:12.0f}  {statistics.median(warm) * 1000:19.1f}  {max(warm) * 1000:16.1f}")
        print("[objectif : page de la phase ≤ 200 ms une fois chaude]")


if __name__ == "__main__":
    main()
