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


ONE_AMOUNT = """amendements:
  - numero: 1
    date: 09/12/2024
    objet: "Banc d'essai : un montant amendé"
    modifications:
      - ligne: t1-o3-pdc-actif
        montant: "70 000,00"
"""


def timed(cmd: list[str], runs: int, before=None) -> tuple[float, int]:
    """Median wall time of ``cmd`` over ``runs`` runs (``before()`` runs untimed first), and its exit status."""
    times, rc = [], 0
    for _ in range(runs):
        if before is not None:
            before()
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

        def clean():
            shutil.rmtree(out, ignore_errors=True)

        # the example with one amended amount, rebuilt over the bundle of the example as presented
        amended = Path(tmp) / "p6-amende"
        shutil.copytree(ROOT / "fixtures" / "phase-6-2024", amended)
        (amended / "amendements.yaml").write_text(ONE_AMOUNT, encoding="utf-8")
        first = Path(tmp) / "p6-v1"

        def from_v1():
            clean()
            shutil.copytree(first, out)

        t, rc = timed([*EXE, "build", "fixtures/phase-6-2024", "-o", str(out), "--no-pdf"], args.runs, clean)
        rows.append(("build Word, exemple phase 6 (12 documents + 22 actes)", t, rc))
        subprocess.run([*EXE, "build", "fixtures/phase-6-2024", "-o", str(first), "--no-pdf"], capture_output=True,
                       cwd=ROOT)
        t, rc = timed([*EXE, "build", str(amended), "-o", str(out), "--no-pdf"], args.runs, from_v1)
        rows.append(("  reconstruction après un montant amendé, Word seul", t, rc))
        if shutil.which("soffice"):
            runs = max(1, args.runs // 2)
            t, rc = timed([*EXE, "build", "fixtures/phase-6-2024", "-o", str(out)], runs, clean)
            rows.append(("build Word + PDF + bundle.pdf, exemple phase 6 (2 LibreOffice)", t, rc))
            full = t
            t, rc = timed([*EXE, "build", "fixtures/phase-6-2024", "-o", str(out), "-j", "1"], runs, clean)
            rows.append(("idem, un seul LibreOffice pour tout le lot", t, rc))
            shutil.rmtree(first)
            subprocess.run([*EXE, "build", "fixtures/phase-6-2024", "-o", str(first)], capture_output=True, cwd=ROOT)
            t, rc = timed([*EXE, "build", str(amended), "-o", str(out)], runs, from_v1)
            rows.append((f"  reconstruction après un montant amendé, PDF compris (×{full / t:.1f} plus rapide)", t, rc))
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
