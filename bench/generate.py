"""Generate synthetic, valid phase dossiers of any size (fictitious names, SIRETs with valid SIREN and SIRET keys).

Two shapes:

- ``generate(out, lines, structures)``: N lines spread at random over M structures (a ``check`` load);
- ``generate_avenants(out, n)``: n structures, each with one existing convention and one avenant to
  sign, covering every kind of avenant the engine knows (valorisation only, financement, period
  extended beyond the convention's, a new dispositif, a sheet with or without the France Travail
  obligation), plus n // 10 new conventions (a ``build`` load: about n + n // 10 acts).

Every structure and convention is complete (siège, SIRET, représentant, numéro, signature, période,
montant, annexes, avenants, versements), so the acts have no blank; ``check`` reports 0 error.
Amounts are integers of euros (Decimal), never floats.

Usage: python bench/generate.py OUT_DIR --lines 5000 [--structures 500]
       python bench/generate.py OUT_DIR --avenants 500
"""

from __future__ import annotations

import argparse
import random
import shutil
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FICTIF = ROOT / "fixtures" / "fictif"

TERRITOIRES = ["Arrageois", "Artois", "Audomarois", "Boulonnais", "Calaisis",
               "Hénin-Carvin", "Lens-Liévin", "Montreuillois", "Ternois"]
BUDGET = [("C02-446A05", "6568/93446", "Indemnisation des organismes référents"),
          ("C01-444H02", "6568/93444", "Appui aux parcours intégrés 2021-2027"),
          ("C01-432B01", "6568/93432", "Accompagnement vers et dans l'emploi (fictif)"),
          ("C02-428C01", "6568/93428", "Fonds d'aide aux jeunes")]
TITRES = {  # titles of the sheets (annexes/dispositifs and the dossier's own dispositifs/)
    "1.1": "Dynamisation des parcours : accueil des BRSA",
    "1.2": "Accompagnement équilibré social-professionnel",
    "1.7": "Accompagnement des bénéficiaires du RSA ayant une activité indépendante",
    "3.2": "Accompagnement dans l’emploi",
    "3.14": "Actions d'insertion innovantes",
    "4.1": "Projets collectifs jeunesse - FAJ collectif",
}
# sheets the catalogue leaves without text: a complete fictitious one in the dossier's dispositifs/
SHEET_3_14 = """---
# Fiche fictive (banc d'essai) : celle du catalogue n'a pas encore ses rubriques.
code: "3.14"
titre: "Actions d'insertion innovantes"
versements:
  - {libelle: "à la signature de la convention", pourcentage: 70}
  - {libelle: "au solde, sur production du bilan", pourcentage: 30}
---
## Durée

[[duree]]

## Coût

[[cout]]

## Territoire d'intervention

[[territoire]]

## Modalités de versement

[[versements]]

La participation financière est imputée sur le chapitre « [[chapitre]] » du budget du Département.
"""


def siret(rng: random.Random) -> str:
    """A random SIRET whose SIREN key and SIRET key are valid (never a real body's on purpose)."""
    from stdnum import luhn
    from stdnum.fr import siret as _siret

    head = "9" + "".join(str(rng.randrange(10)) for _ in range(7))
    body = head + luhn.calc_check_digit(head) + "".join(str(rng.randrange(10)) for _ in range(4))
    return next(body + str(k) for k in range(10) if _siret.is_valid(body + str(k)))


def _structure(rng: random.Random, key: str, i: int, conventions: list[str]) -> list[str]:
    """A structure's registry entry, complete; ``conventions`` are its already formatted entries."""
    mme = i % 2 == 0
    return [
        f"  {key}:",
        f"    nom: Structure fictive {i}",
        f"    raison_sociale: Association fictive numéro {i}",
        "    forme_juridique: Association loi 1901",
        f"    siege: {i} rue de l'Exemple 62000 ARRAS",
        f'    siret: "{siret(rng)}"',
        f"    representant: {{civilite: {'Mme' if mme else 'M.'}, nom: Camille NOM{i}, "
        f"qualite: {'Présidente' if mme else 'Président'}, "
        f"habilitation: dûment {'autorisée' if mme else 'autorisé'} par délibération du conseil d'administration}}",
        *(["    conventions:", *conventions] if conventions else []),
    ]


def _annex_shares(montant: int, n: int) -> list[str]:
    """Each annex's part of the convention's amount (declared when there are several), adding up to it."""
    if n < 2:
        return [""] * n
    part = montant // n
    return [f', montant: "{part}"'] * (n - 1) + [f', montant: "{montant - part * (n - 1)}"']


def _convention(key: str, numero: str, montant: int, codes: list[str], avenants: int,
                fin: str = "2025-12-31") -> list[str]:
    """A complete existing convention: annexes from annexe 2 (one per dispositif), three payments."""
    third = Decimal(montant) / 3
    parts = [third.quantize(Decimal(1))] * 2
    parts.append(Decimal(montant) - sum(parts))
    out = [
        f"      {key}:",
        f"        numero: {numero}",
        "        objet: Définition du partenariat entre le Département et la structure",
        "        signature: 2024-02-01",
        f"        periode: {{debut: 2024-01-01, fin: {fin}}}",
        f'        montant: "{montant}"',
        f"        avenants: {avenants}",
        "        annexes:",
        *(f'          - {{numero: {2 + k}, dispositif: "{c}", titre: "{TITRES[c]}"{share}}}'
          for k, (c, share) in enumerate(zip(codes, _annex_shares(montant, len(codes)), strict=True))),
        "        versements:",
    ]
    for label, m in zip(("premier versement", "deuxième versement", "solde"), parts, strict=True):
        out.append(f'          - {{libelle: {label}, montant: "{m}"}}')
    return out


def _ligne(lid: str, n: int, skey: str, conv: str, nature: str, etp: Decimal | None, volume: tuple | None,
           periode: tuple[str, str], montant: int, document: str) -> str:
    text = (f"      - id: {lid}\n"
            f"        territoire: {TERRITOIRES[n % len(TERRITOIRES)]}\n"
            f"        structure: {skey}\n"
            f"        convention: {conv}\n"
            f"        nature: {nature}\n")
    if etp is not None:
        text += f"        etp: {etp}\n"
    if volume is not None:
        text += f"        volume: {{nombre: {volume[0]}, unite: {volume[1]}}}\n"
    return text + (f"        periode: {{debut: {periode[0]}, fin: {periode[1]}}}\n"
                   f"        montant: {montant}\n"
                   f"        document: {document}\n"
                   f"        description: Ligne synthétique {lid} pour la structure {skey}\n")


def _thematique(numero: int, ops: list[tuple[str, str, str, list[str]]]) -> str:
    """A thématique file; ``ops`` holds (title, dispositif, budget code, formatted lines)."""
    text = [f"numero: {numero}", f"titre: Thématique synthétique {numero}",
            "narrative: |", "  Thématique générée pour le banc d'essai.", "operations:"]
    for k, (title, disp, code, lignes) in enumerate(ops, 1):
        text += [f"  - numero: {k}", f'    titre: "{title}"', f'    dispositif: "{disp}"', f"    budget: {code}",
                 f"    narrative: Opération synthétique ({len(lignes)} lignes).", "    lignes:",
                 "".join(lignes).rstrip("\n")]
    return "\n".join(text) + "\n"


def _budget(totals: dict[str, Decimal]) -> str:
    out = ["lignes:"]
    for code, imp, lib in BUDGET:
        if code not in totals:
            continue
        dispo = totals[code] + 100000  # room for an amended amount
        out += [f"  - code: {code}", f"    imputation: {imp}", f"    libelle: {lib}",
                f'    ae: "{dispo * 2}"', f'    disponible: "{dispo}"']
    return "\n".join(out) + "\n"


def _phase(modeles: list[str]) -> str:
    """fixtures/fictif/phase.yaml with ``modeles`` replaced and without its announced figures."""
    text = (FICTIF / "phase.yaml").read_text(encoding="utf-8")
    head = text[: text.index("\nmodeles:")]
    return head + "\nmodeles:\n" + "\n".join(modeles) + "\n"


def _dispositifs(out: Path) -> None:
    """The fictitious sheets of fixtures/fictif (1.2 with a schedule, 4.1 with text) plus 3.14."""
    target = out / "dispositifs"
    target.mkdir(parents=True, exist_ok=True)
    for sheet in FICTIF.glob("dispositifs/*.md"):
        shutil.copy(sheet, target / sheet.name)
    (target / "3.14.md").write_text(SHEET_3_14, encoding="utf-8")


def generate(out: Path, lines: int, structures: int, seed: int = 1) -> Path:
    """N lines at random over M structures (each with a convention « c1 » on 1.1 and 1.2); return ``out``."""
    rng = random.Random(seed)
    (out / "thematiques").mkdir(parents=True, exist_ok=True)
    _dispositifs(out)
    reg = ["structures:"]
    for i in range(structures):
        conv = _convention("c1", f"2024-{i:05d}", 90000 + 3000 * (i % 20), ["1.1", "1.2"], i % 3)
        reg += _structure(rng, f"s{i:05d}", i, conv)
    (out / "structures.yaml").write_text("\n".join(reg) + "\n", encoding="utf-8")
    ops = [  # (thématique, dispositif, title, unit, per-ETP volume, nature, budget code)
        (1, "1.1", TITRES["1.1"], "diagnostics", 400, "valorisation", BUDGET[0][0]),
        (1, "1.2", TITRES["1.2"], "places", 70, "financement", BUDGET[0][0]),
        (3, "3.14", TITRES["3.14"], "participants", None, "financement", BUDGET[1][0]),
        (4, "4.1", TITRES["4.1"], "jeunes", None, "financement", BUDGET[3][0]),
    ]
    per_op: list[list[str]] = [[] for _ in ops]
    totals = {code: Decimal(0) for *_, code in ops}
    for n in range(lines):
        k = n % len(ops)
        th, _disp, _title, unit, per_etp, nature, code = ops[k]
        etp = Decimal(rng.randrange(5, 40)) / 10
        volume = int(etp * per_etp) if per_etp else rng.randrange(10, 200)
        amount = 0 if nature == "valorisation" else rng.randrange(5000, 90000)
        totals[code] += amount
        new = th in (3, 4)
        per_op[k].append(_ligne(f"l{n:06d}", n, f"s{rng.randrange(structures):05d}", "nouvelle" if new else "c1",
                                nature, etp, (volume, unit), ("01/01/2025", "31/12/2025"), amount,
                                "convention-type" if new else "avenant-a"))
    for th in (1, 3, 4):
        mine = [(t, d, c, per_op[k]) for k, (n, d, t, _u, _p, _nat, c) in enumerate(ops) if n == th]
        (out / "thematiques" / f"t{th}.yaml").write_text(_thematique(th, mine), encoding="utf-8")
    (out / "budget.yaml").write_text(_budget(totals), encoding="utf-8")
    modeles = ["  avenant-a: {type: avenant, titre: Avenant synthétique, clauses: [objet_convention, cout, "
               "obligations, annexes]}",
               "  convention-type: {type: convention, titre: Convention type}"]
    (out / "phase.yaml").write_text(_phase(modeles), encoding="utf-8")
    return out


# Kinds of avenant: (model key, title, dispositif of the line, dispositifs of the convention, nature,
# convention end, line period, articles the engine includes). Rules in deliberation/acts.py.
AVENANTS = [
    ("avenant-valorisation", "Avenant de valorisation (sans financement)", "1.1", ["1.1"], "valorisation",
     "2025-12-31", ("01/01/2025", "31/12/2025"), ["obligations", "annexes"]),
    ("avenant-financement", "Avenant financier", "1.2", ["1.2"], "financement",
     "2025-12-31", ("01/01/2025", "31/12/2025"), ["cout", "obligations", "annexes"]),
    ("avenant-sans-obligation", "Avenant financier (fiche sans obligation nouvelle)", "1.7", ["1.7"], "financement",
     "2025-12-31", ("01/01/2025", "31/12/2025"), ["cout", "annexes"]),
    ("avenant-prolongation", "Avenant de prolongation", "3.2", ["3.2"], "financement",
     "2025-03-31", ("01/04/2025", "30/06/2025"), ["duree", "cout", "annexes"]),  # in force at the séance
    ("avenant-nouveau-dispositif", "Avenant changeant de dispositif", "1.2", ["1.1"], "financement",
     "2025-12-31", ("01/01/2025", "31/12/2025"), ["objet_convention", "cout", "obligations", "annexes"]),
]
OPERATIONS = [  # (thématique, dispositif, budget code, unit, per-ETP volume): where each kind's lines go
    (1, "1.1", BUDGET[0][0], "diagnostics", 400),
    (1, "1.2", BUDGET[0][0], "places", 60),
    (1, "1.7", BUDGET[1][0], "personnes", None),
    (3, "3.2", BUDGET[2][0], "personnes", None),
    (4, "4.1", BUDGET[3][0], "jeunes", None),
]


def generate_avenants(out: Path, n: int, seed: int = 1) -> Path:
    """n avenants (one per structure, every kind in turn) and n // 10 new conventions; return ``out``.

    Line ids are ``a00000``… (avenants) and ``c00000``… (conventions); ``a00001`` is a financement line.
    """
    rng = random.Random(seed)
    (out / "thematiques").mkdir(parents=True, exist_ok=True)
    _dispositifs(out)
    reg = ["structures:"]
    per_op: dict[str, list[str]] = {disp: [] for _, disp, *_ in OPERATIONS}
    totals = {code: Decimal(0) for _, _, code, *_ in OPERATIONS}
    op_of = {disp: (code, unit, per_etp) for _, disp, code, unit, per_etp in OPERATIONS}
    for i in range(n):
        model, _t, disp, codes, nature, fin, periode, _c = AVENANTS[i % len(AVENANTS)]
        key = f"s{i:05d}"
        reg += _structure(rng, key, i, _convention("c1", f"2024-{i:05d}", 60000 + 3000 * (i % 30), codes, i % 4,
                                                    fin))
        code, unit, per_etp = op_of[disp]
        etp = Decimal(rng.randrange(5, 30)) / 10
        volume = int(etp * per_etp) if per_etp else rng.randrange(20, 150)
        amount = 0 if nature == "valorisation" else 1000 * rng.randrange(5, 90)
        totals[code] += amount
        per_op[disp].append(_ligne(f"a{i:05d}", i, key, "c1", nature, etp, (volume, unit), periode, amount, model))
    for j in range(n // 10):
        i = n + j
        key = f"s{i:05d}"
        reg += _structure(rng, key, i, [])
        amount = 1000 * rng.randrange(3, 30)
        totals[BUDGET[3][0]] += amount
        per_op["4.1"].append(_ligne(f"c{j:05d}", i, key, "nouvelle", "financement", None,
                                    (rng.randrange(8, 40), "jeunes"), ("01/01/2025", "31/12/2025"), amount,
                                    "convention-type"))
    (out / "structures.yaml").write_text("\n".join(reg) + "\n", encoding="utf-8")
    for th in sorted({t for t, *_ in OPERATIONS}):
        ops = [(TITRES[d], d, c, per_op[d]) for t, d, c, *_ in OPERATIONS if t == th and per_op[d]]
        if ops:
            (out / "thematiques" / f"t{th}.yaml").write_text(_thematique(th, ops), encoding="utf-8")
    (out / "budget.yaml").write_text(_budget({c: t for c, t in totals.items() if t or c == BUDGET[0][0]}),
                                     encoding="utf-8")
    modeles = []
    for model, titre, disp, codes, _nature, _fin, _periode, clauses in AVENANTS[:n]:
        modeles += [f"  {model}:", "    type: avenant", f"    titre: {titre}", f"    clauses: [{', '.join(clauses)}]",
                    f'    dispositifs: ["{disp}"]', "    annexes_initiales:",
                    *(f'      - {{numero: {2 + k}, dispositif: "{c}", titre: "{TITRES[c]}"}}'
                      for k, c in enumerate(codes))]
    modeles.append("  convention-type: {type: convention, titre: Convention type}")
    (out / "phase.yaml").write_text(_phase(modeles), encoding="utf-8")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", type=Path)
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--structures", type=int, default=500)
    ap.add_argument("--avenants", type=int, help="an n-avenant phase instead (n structures, one avenant each)")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.avenants:
        generate_avenants(args.out, args.avenants, args.seed)
    else:
        generate(args.out, args.lines, args.structures, args.seed)


if __name__ == "__main__":
    main()
