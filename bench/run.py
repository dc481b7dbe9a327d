"""Print benchmark figures (medians of several runs) for the engine on this machine.

Usage: python bench/run.py [--runs 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXE = [sys.executable, "-m", "deliberation"]


def timed(cmd: list[str], runs: int) -> tuple[float, int]:
    """Median wall time of ``cmd`` over ``runs`` runs, and its exit status."""
    times, rc = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        rc = subprocess.run(cmd, capture_output=True, cwd=ROOT).returncode
        times.append(time.perf_counter() - t0)
    return statistics.median(times), rc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big = generate(Path(tmp) / "synth-5000", 5000, 500)
        t, rc = timed([*EXE, "check", str(big)], args.runs)
        rows.append(("check, dossier synthétique de 5 000 lignes", t, rc))
        t, rc = timed([*EXE, "check", "fixtures/phase-6-2024"], args.runs)
        rows.append(("check, exemple phase 6 (31 lignes)", t, rc))
        out = Path(tmp) / "p6"
        t, rc = timed([*EXE, "build", "fixtures/phase-6-2024", "-o", str(out), "--no-pdf"], args.runs)
        rows.append(("build Word, exemple phase 6 (12 documents + 22 actes)", t, rc))
        if shutil.which("soffice"):
            runs = max(1, args.runs // 2)
            t, rc = timed([*EXE, "build", "fixtures/phase-6-2024", "-o", str(out)], runs)
            rows.append(("build Word + PDF + bundle.pdf, exemple phase 6 (2 LibreOffice)", t, rc))
            t, rc = timed([*EXE, "build", "fixtures/phase-6-2024", "-o", str(out), "-j", "1"], runs)
            rows.append(("idem, un seul LibreOffice pour tout le lot", t, rc))
            sample = sorted(out.rglob("*.docx"))[:6]
            t0 = time.perf_counter()
            for doc in sample:  # baseline: one LibreOffice process per file
                subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo-base",
                                "--convert-to", "pdf", "--outdir", str(Path(tmp) / "base"), str(doc)],
                               capture_output=True)
            per_file = (time.perf_counter() - t0) / len(sample)
            rows.append(("référence : un LibreOffice par fichier, par document", per_file, 0))
        t, rc = timed([*EXE, "--version"], args.runs)
        rows.append(("démarrage seul (--version)", t, rc))
    width = max(len(r[0]) for r in rows)
    print(f"{'mesure'.ljust(width)}  médiane (s)  code retour   [{args.runs} exécutions]")
    for name, t, rc in rows:
        print(f"{name.ljust(width)}  {t:11.3f}  {rc:11d}")


if __name__ == "__main__":
    main()
