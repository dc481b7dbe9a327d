"""Generate a synthetic, valid phase dossier of any size (fictitious names and SIRETs).

Usage: python bench/generate.py OUT_DIR --lines 5000 [--structures 500]
"""

from __future__ import annotations

import argparse
import random
from decimal import Decimal
from pathlib import Path

TERRITOIRES = ["Arrageois", "Artois", "Audomarois", "Boulonnais", "Calaisis",
               "Hénin-Carvin", "Lens-Liévin", "Montreuillois", "Ternois"]
BUDGET = [("C02-446A05", "6568/93446", "Indemnisation des organismes référents"),
          ("C01-444H02", "6568/93444", "Appui aux parcours intégrés 2021-2027"),
          ("C02-428C01", "6568/93428", "Fonds d'aide aux jeunes")]
OPERATIONS = [  # (thématique, dispositif, title, unit, per-ETP volume, nature)
    (1, "1.1", "Dynamisation des parcours : accueil des BRSA", "diagnostics", 400, "valorisation"),
    (1, "1.2", "Accompagnement équilibré social-professionnel", "places", 70, "financement"),
    (3, "3.14", "Actions d'insertion innovantes", "participants", None, "financement"),
    (4, "4.1", "Projets collectifs jeunesse - FAJ collectif", "jeunes", None, "financement"),
]


def siret(rng: random.Random) -> str:
    """A random 14-digit number with a valid Luhn key (never a real body's on purpose)."""
    body = "9" + "".join(str(rng.randrange(10)) for _ in range(12))
    for k in range(10):
        s = body + str(k)
        total = 0
        for i, ch in enumerate(reversed(s)):
            n = int(ch) * (2 if i % 2 else 1)
            total += n - 9 if n > 9 else n
        if total % 10 == 0:
            return s
    raise AssertionError


def generate(out: Path, lines: int, structures: int, seed: int = 1) -> Path:
    """Write the dossier into ``out`` and return it."""
    rng = random.Random(seed)
    (out / "thematiques").mkdir(parents=True, exist_ok=True)
    reg = ["structures:"]
    for i in range(structures):
        reg += [
            f"  s{i:05d}:",
            f"    nom: Structure fictive {i}",
            f"    raison_sociale: Association fictive numéro {i}",
            "    forme_juridique: Association loi 1901",
            f"    siege: {i} rue de l'Exemple 62000 ARRAS",
            f'    siret: "{siret(rng)}"',
            f"    representant: {{civilite: Mme, nom: Camille NOM{i}, qualite: Présidente, "
            "habilitation: dûment autorisée par délibération}",
            "    conventions:",
            f"      c1: {{numero: 2024-{i:05d}, signature: 2024-02-01, periode: {{debut: 2024-01-01, "
            "fin: 2025-12-31}, montant: 100000}",
        ]
    (out / "structures.yaml").write_text("\n".join(reg) + "\n", encoding="utf-8")
    per_op: dict[int, list[str]] = {k: [] for k in range(len(OPERATIONS))}
    totals = {code: Decimal(0) for code, _, _ in BUDGET}
    for n in range(lines):
        k = n % len(OPERATIONS)
        th, disp, _title, unit, per_etp, nature = OPERATIONS[k]
        etp = Decimal(rng.randrange(5, 40)) / 10
        volume = int(etp * per_etp) if per_etp else rng.randrange(10, 200)
        amount = Decimal(0) if nature == "valorisation" else Decimal(rng.randrange(5000, 90000))
        code = BUDGET[{1: 0, 3: 1, 4: 2}[th]][0]
        totals[code] += amount
        s = rng.randrange(structures)
        new = th in (3, 4)
        per_op[k].append(
            f"      - id: l{n:06d}\n"
            f"        territoire: {TERRITOIRES[n % 9]}\n"
            f"        structure: s{s:05d}\n"
            f"        convention: {'nouvelle' if new else 'c1'}\n"
            f"        nature: {nature}\n"
            f"        etp: {etp}\n"
            f"        volume: {{nombre: {volume}, unite: {unit}}}\n"
            f"        periode: {{debut: 01/01/2025, fin: 31/12/2025}}\n"
            f"        montant: {amount}\n"
            f"        document: {'convention-type' if new else 'avenant-a'}\n"
            f"        description: Ligne synthétique {n} pour la structure {s}\n"
        )
    for th in (1, 3, 4):
        text = [f"numero: {th}", f"titre: Thématique synthétique {th}", "operations:"]
        num = 0
        for k, (t, disp, title, *_rest) in enumerate(OPERATIONS):
            if t != th:
                continue
            num += 1
            code = BUDGET[{1: 0, 3: 1, 4: 2}[th]][0]
            text += [f"  - numero: {num}", f"    titre: \"{title}\"", f'    dispositif: "{disp}"',
                     f"    budget: {code}", "    narrative: Opération synthétique.", "    lignes:"]
            text.append("".join(per_op[k]).rstrip("\n"))
        (out / "thematiques" / f"t{th}.yaml").write_text("\n".join(text) + "\n", encoding="utf-8")
    budget = ["lignes:"]
    for code, imp, lib in BUDGET:
        dispo = totals[code] + 1000
        budget += [f"  - code: {code}", f"    imputation: {imp}", f"    libelle: {lib}",
                   f"    ae: {dispo * 2}", f"    disponible: {dispo}"]
    (out / "budget.yaml").write_text("\n".join(budget) + "\n", encoding="utf-8")
    phase = Path(__file__).resolve().parents[1] / "fixtures" / "fictif" / "phase.yaml"
    text = phase.read_text(encoding="utf-8")
    text = text.replace("  avenant-accueil: {type: avenant, titre: Avenant accueil}",
                        "  avenant-a: {type: avenant, titre: Avenant synthétique}")
    text = text[: text.index("annonces:")] if "\nannonces:" in text else text
    (out / "phase.yaml").write_text(text, encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--structures", type=int, default=500)
    args = ap.parse_args()
    generate(args.out, args.lines, args.structures)


if __name__ == "__main__":
    main()
