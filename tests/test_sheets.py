"""Issue 18: the annex sheets joined to each act say what the act does — no instalment asked of a valorisation.

Proven on the example (PIF, ID formation, MEMPA… valorisation-only sheets of dispositif 1.2) and on the
fictitious phase (alpha's 1.2 line made a valorisation).
"""

from __future__ import annotations

from pathlib import Path

from deliberation import pipeline
from deliberation.fmt import plain
from deliberation.render import inspect
from deliberation.render.acts import NO_INSTALMENT
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def text_of(path: Path) -> str:
    return "\n".join(plain(x) for x in inspect.docx_lines(path))


def built(root: Path, out: Path):
    result = pipeline.build(Settings(source=root, out_dir=out))
    assert result.written
    return result


def sheet(text: str, numero: int) -> str:
    """The text of annex sheet ``numero`` of an act."""
    part = text.split(f"Annexe N°{numero} – ", 1)[1]
    return part.split("Annexe N°", 1)[0]


def test_valorisation_only_sheets_ask_for_no_instalment_example(tmp_path):
    out = tmp_path / "out"
    result = built(ROOT / "fixtures" / "phase-6-2024", out)
    pif = text_of(out / "actes" / "pif" / "avenant-plateforme.docx")
    valorised = sheet(pif, 3)  # dispositif 1.2: « Valorisation de … », no amount from the phase
    assert "Coût | Valorisation de 4,5 ETP, sans financement supplémentaire" in valorised
    assert f"Modalités de versement | {NO_INSTALMENT}" in valorised
    assert "Versement d'une avance" not in valorised and "montant du versement n°1 à compléter" not in pif
    (act,) = [a for a in result.checked.acts if a.structure_key == "pif"]
    from deliberation.acts import act_values
    _, blanks = act_values(act, result.checked.dossier)
    assert not [b for b in blanks if b.label == "montant du versement n°1"]  # not a blank of the PROJET either
    # a funded sheet of the same dispositif keeps its instalment (Tous Parrains: 60 000 € on 1.2)
    tp = text_of(out / "actes" / "tous-parrains" / "avenant-plateforme.docx")
    assert "Versement d'une avance de" in sheet(tp, 3) and NO_INSTALMENT not in tp


def test_valorisation_only_sheets_ask_for_no_instalment_fictif(fictif, tmp_path):
    out = tmp_path / "before"
    built(fictif.root, out)
    alpha = text_of(out / "actes" / "association-alpha" / "avenant-plateforme.docx")
    assert "60 % à la signature de l'avenant, soit 30 000,00 €" in sheet(alpha, 3) and NO_INSTALMENT not in alpha
    # beta valorises 1 ETP on dispositif 1.2 too (no amount): its 1.2 sheet states no instalment
    fictif.edit("thematiques/t1.yaml", "        description: Financement de 2 ETP, soit un maximum de 140 places",
                "        description: Financement de 2 ETP, soit un maximum de 140 places\n"
                "      - id: t1-o2-beta\n        territoire: Calaisis\n        structure: beta\n"
                "        convention: plateforme\n        nature: valorisation\n        etp: 1\n"
                "        volume: {nombre: 60, unite: places}\n        periode: {debut: 01/01/2025, fin: 31/12/2025}\n"
                "        montant: 0\n        document: avenant-valorisation\n"
                "        description: Valorisation d'1 ETP, soit un maximum de 60 places")
    out = tmp_path / "after"
    built(fictif.root, out)
    beta = text_of(out / "actes" / "beta-emploi" / "avenant-plateforme.docx")
    assert f"Modalités de versement | {NO_INSTALMENT}" in sheet(beta, 3)
    assert "% à la signature" not in beta and "échéancier des versements" not in beta
    alpha = text_of(out / "actes" / "association-alpha" / "avenant-plateforme.docx")
    assert "60 % à la signature de l'avenant, soit 30 000,00 €" in sheet(alpha, 3)  # alpha's is funded
