"""Banc d'essai du programme (issue 22) : une phase construite dans son programme, puis seule.

Dans un programme, ``check`` et ``build`` rejouent les phases précédentes pour en déduire le registre
(avenants, plafonds, périodes) et le disponible attendu. Le but : la dernière phase de
``fixtures/programme-2025`` se construit dans le même temps (±20 %) que la même phase hors programme,
dont ``structures.yaml`` porte le registre déduit, tapé (ce que ferait une phase sans grand livre).

Les deux builds tournent côte à côte, tour à tour (``side_by_side`` : un aléa de la machine pèse sur
les deux), chacun dans un processus neuf et un dossier de sortie neuf. Imprime les médianes, le rapport,
le verdict, puis le coût du rejeu seul (``within_programme``, en processus).

    .venv/bin/python bench/programme.py [--runs 7] [--pdf]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import ROOT, ratio, side_by_side, verdict  # noqa: E402

from deliberation.ledger import within_programme  # noqa: E402
from deliberation.load import load_dossier  # noqa: E402
from deliberation.resources import catalogue_dir  # noqa: E402

PROGRAMME = ROOT / "fixtures" / "programme-2025"
PHASE = "phase-3"


def _scalar(value) -> str:
    if isinstance(value, Decimal):
        return json.dumps(str(value))
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)


def _record(node, indent: str) -> list[str]:
    """A model record as YAML lines: the fields it was read or derived with (``locs``), in schema order."""
    from deliberation.schema import schema_fields

    out = []
    for f in schema_fields(type(node)):
        value = getattr(node, f.name)
        if value is None or value == () or value == {}:
            continue
        if hasattr(value, "locs"):
            out += [f"{indent}{f.name}:", *_record(value, indent + "  ")]
        elif isinstance(value, dict):
            out.append(f"{indent}{f.name}:")
            for key, item in value.items():
                out += [f"{indent}  {key}:", *_record(item, indent + "    ")]
        elif isinstance(value, tuple):
            out.append(f"{indent}{f.name}:")
            for item in value:
                lines = _record(item, indent + "    ")
                out += [f"{indent}  - {lines[0].strip()}", *lines[1:]]
        else:
            out.append(f"{indent}{f.name}: {_scalar(value)}")
    return out


def alone(where: Path) -> Path:
    """The phase out of its programme: its folder, the programme's sheets and glossary, the derived registry."""
    d, loaded = load_dossier(PROGRAMME / PHASE)
    derived, findings = within_programme(d, loaded, (catalogue_dir(),))
    assert not findings, findings
    target = where / PHASE
    shutil.copytree(PROGRAMME / PHASE, target)
    shutil.copytree(PROGRAMME / "dispositifs", target / "dispositifs", dirs_exist_ok=True)
    shutil.copy(PROGRAMME / "glossaire.yaml", target / "glossaire.yaml")
    lines = ["structures:"]
    for key, s in derived.structures.items():
        lines += [f"  {key}:", *_record(s, "    ")]
    (target / "structures.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--pdf", action="store_true", help="builds with PDF (LibreOffice) as well")
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="bench-programme-") as tmp:
        tmp = Path(tmp)
        single = alone(tmp)
        check = [python, "-m", "deliberation", "check", str(single), "-q"]
        if subprocess_rc(check):
            sys.exit("la phase hors programme ne passe pas le contrôle : " + " ".join(check))
        counter = iter(range(10**6))

        def build(src: Path, *opts: str):
            return lambda: [python, "-m", "deliberation", "build", str(src), "-q", *opts,
                            "-o", str(tmp / f"out-{next(counter)}")]

        goals = []
        variants = [("Word seul", ("--sans-pdf",))] + ([("avec PDF", ())] if args.pdf else [])
        for label, opts in variants:
            inside, outside = side_by_side([
                (f"build de {PHASE} dans son programme, {label}", build(PROGRAMME / PHASE, *opts)),
                (f"build de {PHASE} seule (registre tapé), {label}", build(single, *opts)),
            ], args.runs if not opts else max(3, args.runs // 2))
            r = ratio(inside, outside)
            goals.append(f"{verdict(0.8 <= r <= 1.2)} — build de {PHASE} dans son programme, {label} : "
                         f"{inside.t:.2f} s contre {outside.t:.2f} s seule (×{r:.2f} ; but : ×0,8 à ×1,2)")
        d, loaded = load_dossier(PROGRAMME / PHASE)
        t0 = time.perf_counter()
        for _ in range(20):
            within_programme(d, loaded, (catalogue_dir(),))
        replay = (time.perf_counter() - t0) / 20
    print("Programme (issue 22)")
    for goal in goals:
        print(f"  {goal}")
    print(f"  rejeu des phases précédentes ({PHASE} : 2 phases, registre, disponible) : {replay * 1000:.1f} ms")


def subprocess_rc(cmd: list[str]) -> int:
    """Exit status of ``cmd`` run quietly from the checkout."""
    import subprocess

    return subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False).returncode


if __name__ == "__main__":
    main()
