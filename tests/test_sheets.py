"""Issue 18: the annex sheets joined to each act say what the act does — no instalment asked of a valorisation.

Proven on the example (PIF, ID formation, MEMPA… valorisation-only sheets of dispositif 1.2) and on the
fictitious phase (alpha's 1.2 line made a valorisation).
"""

from __future__ import annotations

import re
from pathlib import Path

from deliberation import pipeline
from deliberation.render import inspect
from deliberation.render.acts import NO_INSTALMENT
from deliberation.render.inspect import typed
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def text_of(path: Path) -> str:
    return "\n".join(typed(x) for x in inspect.docx_lines(path))


def built(root: Path, out: Path):
    result = pipeline.build(Settings(source=root, out_dir=out))
    assert result.written
    return result


def sheet(text: str, numero: int) -> str:
    """The text of annex sheet ``numero`` of an act: its conditions and its description (« (suite) »)."""
    part = text.split(f"Annexe N°{numero} – ", 1)[1]
    return re.split(r"Annexe N°\d+ – ", part, maxsplit=1)[0]


def test_valorisation_only_sheets_ask_for_no_instalment_example(tmp_path):
    out = tmp_path / "out"
    result = built(ROOT / "fixtures" / "phase-6-2024", out)
    pif = text_of(out / "actes" / "pif" / "avenant-plateforme.docx")
    valorised = sheet(pif, 3)  # dispositif 1.2: « Valorisation de … », no amount from the phase
    assert "Coût | Valorisation de 4,5 ETP, sans financement supplémentaire" in valorised
    assert f"Modalités de versement | {NO_INSTALMENT}\nLa participation financière est imputée sur le chapitre " \
           "« C02-446A05 »" in valorised  # before: « Versement d'une avance de [montant … à compléter] … »
    assert "Versement d'une avance" not in valorised and "montant du versement n°1 à compléter" not in pif
    assert "Versement du solde annuel" not in valorised  # no instalment at all, not even without an amount
    for structure in ("pif", "id-formation", "mipe", "pbi", "adefi-plateforme"):  # every valorisation-only avenant
        text = text_of(out / "actes" / structure / "avenant-plateforme.docx")
        assert "Versement du solde annuel" not in text and "montant du versement n°1 à compléter" not in text
        assert "Un premier versement d'un montant de" in sheet(text, 2)  # the convention's own schedule stays
    (act,) = [a for a in result.checked.acts if a.structure_key == "pif"]
    from deliberation.acts import act_values
    _, blanks = act_values(act, result.checked.dossier)
    assert not [b for b in blanks if b.label == "montant du versement n°1"]  # not a blank of the PROJET either
    # a funded sheet of the same dispositif keeps its instalment (Tous Parrains: 60 000 € on 1.2)
    tp = text_of(out / "actes" / "tous-parrains" / "avenant-plateforme.docx")
    assert "Versement d'une avance de" in sheet(tp, 3) and NO_INSTALMENT not in tp
    assert "Versement du solde annuel" in sheet(tp, 3)


def test_valorisation_only_sheets_ask_for_no_instalment_fictif(fictif, tmp_path):
    # the sheet announces its instalments and adds one with no amount, as the catalogue's sheets do
    fictif.edit("dispositifs/1.2-fictif.md", "## Modalités de versement\n\n[[versements]]\n",
                "## Modalités de versement\n\nLes versements s'organisent comme suit :\n\n[[versements]]\n"
                "- Versement du solde annuel sous réserve du respect des clauses de la convention.\n")
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
    assert f"Modalités de versement | {NO_INSTALMENT}\nLa participation financière est imputée" in sheet(beta, 3)
    assert "% à la signature" not in beta and "échéancier des versements" not in beta
    assert "Versement du solde annuel" not in beta and "comme suit" not in sheet(beta, 3)
    alpha = text_of(out / "actes" / "association-alpha" / "avenant-plateforme.docx")
    assert "Les versements s'organisent comme suit :\n60 % à la signature de l'avenant, soit 30 000,00 €" \
           in sheet(alpha, 3)  # alpha's is funded: every instalment stays
    assert "Versement du solde annuel" in sheet(alpha, 3)


# ---------------------------------------------------------------------------
# new conventions: annexes from 1, and the annex holds what articles 5 and 9 refer to


def _convention_lines(path: Path) -> tuple[str, str]:
    text = text_of(path)
    return text.split("Fait en deux exemplaires")[0], text.split("Annexe N°", 1)[1]


def test_new_convention_annexes_start_at_1_and_hold_instalments_and_bilan_fictif(tmp_path):
    out = tmp_path / "out"
    built(ROOT / "fixtures" / "fictif", out)
    body, annex = _convention_lines(out / "actes" / "ccas-de-gamma" / "convention-nouvelle.docx")
    assert "Dispositif « Projets collectifs jeunesse - FAJ collectif » (annexe 1)" in body
    assert "Annexe 1 : « Projets collectifs jeunesse - FAJ collectif »" in body and "Annexe 2" not in body
    assert annex.startswith("1 – CCAS DE GAMMA")
    assert "La participation financière est versée selon les modalités précisées en annexe." in body  # article 5
    assert "Modalités de versement | 80 % à la signature de la convention, soit 9 600,00 €" in annex
    assert "dans les conditions précisées en annexe." in body  # article 9
    assert "Bilan | Un bilan qualitatif et quantitatif est remis" in annex


def test_new_convention_annex_without_those_sections_shows_blanks_example(tmp_path):
    out = tmp_path / "out"
    result = built(ROOT / "fixtures" / "phase-6-2024", out)
    body, annex = _convention_lines(out / "actes" / "ccas-de-lievin" / "convention-nouvelle.docx")
    assert "Annexe 1 : « Expérimentation du coaching familial »" in body and "Annexe 2 :" not in body
    assert "Modalités de versement | [échéancier des versements à compléter]" in annex
    assert "Bilan | [conditions du bilan (section « Bilan » de la fiche 1.8) à compléter]" in annex
    (act,) = [a for a in result.checked.acts if a.structure_key == "ccas-lievin"]
    from deliberation.acts import act_values
    _, blanks = act_values(act, result.checked.dossier)
    assert "conditions du bilan (section « Bilan » de la fiche 1.8)" in [b.label for b in blanks]  # a PROJET
    for path in (out / "actes").rglob("convention-nouvelle.docx"):  # every new convention of the phase
        body, annex = _convention_lines(path)
        assert "(annexe 1)" in body and annex.startswith("1 – "), path
        assert "Modalités de versement |" in annex and "Bilan |" in annex, path


def test_new_convention_with_two_dispositifs_numbers_them_1_and_2_each_annex_complete_fictif(fictif, tmp_path):
    # variant: alpha's 1.2 line goes to gamma's new convention, which then has two dispositifs (1.2, then 4.1)
    fictif.edit("thematiques/t1.yaml", "        structure: alpha\n        convention: plateforme\n        nature: "
                "financement", "        structure: gamma\n        convention: nouvelle\n        nature: financement")
    fictif.edit("thematiques/t1.yaml", "        montant: \"50 000,00\"\n        document: avenant-accueil",
                "        montant: \"50 000,00\"\n        document: convention-type")
    out = tmp_path / "out"
    result = built(fictif.root, out)
    path = out / "actes" / "ccas-de-gamma" / "convention-nouvelle.docx"
    body, _ = _convention_lines(path)
    assert "Dispositif « Accompagnement équilibré social-professionnel » (annexe 1)\n" \
           "Dispositif « Projets collectifs jeunesse - FAJ collectif » (annexe 2)" in body  # article 1
    assert "Annexe 1 : « Accompagnement équilibré social-professionnel »\n" \
           "Annexe 2 : « Projets collectifs jeunesse - FAJ collectif »" in body  # article 12
    text = text_of(path)
    first, second = sheet(text, 1), sheet(text, 2)
    assert "Annexe N°1 – CCAS DE GAMMA" in text and "Annexe N°2 – CCAS DE GAMMA" in text
    assert "Annexe N°3" not in text and "Annexe N°0" not in text
    # articles 5, 6 and 9 send the reader to each annex: instalments, chapter, bilan are there
    assert "Modalités de versement | 60 % à la signature de l'avenant, soit 30 000,00 €" in first
    assert "chapitre « C02-446A05 »" in first and "chapitre « C02-428C01 »" in second
    assert "Bilan | [conditions du bilan (section « Bilan » de la fiche 1.2) à compléter]" in first  # sheet has none
    assert "Modalités de versement | 80 % à la signature de la convention, soit 9 600,00 €" in second
    assert "Bilan | Un bilan qualitatif et quantitatif est remis" in second
    (act,) = [a for a in result.checked.acts if a.structure_key == "gamma"]
    from deliberation.acts import act_values
    _, blanks = act_values(act, result.checked.dossier)
    assert [b.label for b in blanks] == ["conditions du bilan (section « Bilan » de la fiche 1.2)"]  # a PROJET


# ---------------------------------------------------------------------------
# a catalogue sheet's own dates against the act's period


def test_sheet_period_contradicting_the_act_is_an_error_fictif(fictif, tmp_path):
    sheet_file = "dispositifs/1.2-fictif.md"
    fictif.edit(sheet_file, "## Territoire d'intervention", "\n".join((
        "## Durée de l'opération", "",
        "La durée de l'opération est fixée à 6 mois, soit du 01/01/2027 au 30/06/2027.", "",
        "L'appel à projets est ouvert du 12/01/2030 au 15/02/30 inclus.", "",
        "Le bilan final est à remettre au plus tard le 31/03/2027. Pour la période 2026/2027, le financement est "
        "subordonné aux objectifs.", "",
        "Le bilan intermédiaire est à remettre au plus tard le 31/03/2026, selon la loi du 18 décembre 2023 ; "
        "l'appel à projets 2025 était ouvert du 15/01/2024 au 14/02/2024.", "",
        "## Territoire d'intervention")))
    line = fictif.line_of(sheet_file, "soit du 01/01/2027")
    found = [f for f in pipeline.check(Settings(source=fictif.root)).findings if f.code == "fiche.periode_contraire"]
    assert all(f.severity.name == "ERROR" and f.loc.file.endswith("1.2-fictif.md") for f in found)
    said = {(f.loc.line, f.message.split(" : ", 1)[1].split(" (du ")[0]) for f in found}
    assert said == {  # the act's period: its convention's (2024-2025) and its lines' (2025)
        (line, "« soit du 01/01/2027 au 30/06/2027 » contredit la période de l'acte"),
        (line + 2, "« du 12/01/2030 au 15/02/30 » tombe hors des années de l'acte (l'appel à projets le précède d'un "
                   "an au plus)"),
        (line + 4, "« au plus tard le 31/03/2027 » fixe une échéance hors de l'acte (de son début au 31/12/2026)"),
        (line + 4, "« période 2026/2027 » donne à l'opération d'autres années que l'acte"),
    }  # line + 6: a deadline within the act, a law's date and a call a year before the act: nothing to say
    f = next(f for f in found if f.loc.line == line)
    assert "(du 01/01/2024 au 31/12/2025) : Association Alpha — avenant à la convention « plateforme » ; écrivez " \
           "« [[periode]] », que le moteur remplit pour chaque acte" in f.message
    call = next(f for f in found if f.loc.line == line + 2)
    assert call.message.endswith("Association Alpha — avenant à la convention « plateforme » ; retirez de la fiche "
                                 "ce qui date un autre appel à projets")
    assert any("« au plus tard le 31/03/2027 »" in f.message and "écrivez l'échéance par rapport à l'opération"
               in f.message for f in found)
    fictif.edit(sheet_file, "soit du 01/01/2027 au 30/06/2027", "soit [[periode]]")
    fictif.edit(sheet_file, "L'appel à projets est ouvert du 12/01/2030 au 15/02/30 inclus.\n\n", "")
    fictif.edit(sheet_file, "au plus tard le 31/03/2027. Pour la période 2026/2027",
                "au plus tard le 31/03/2026. Pour la période [[annees]]")
    assert [f for f in pipeline.check(Settings(source=fictif.root)).findings
            if f.code in ("fiche.periode_contraire", "fiche.champ_inconnu")] == []
    out = tmp_path / "out"
    built(fictif.root, out)
    alpha = text_of(out / "actes" / "association-alpha" / "avenant-plateforme.docx")
    assert "La durée de l'opération est fixée à 6 mois, soit du 01/01/2025 au 30/06/2025." in alpha
    assert "Pour la période 2025, le financement est subordonné aux objectifs." in alpha  # its lines' year


def test_sheet_period_contradicting_the_act_is_an_error_example(phase6, tmp_path):
    # sheet 1.1 states the 2024 instalment « pour l'opération du 01/01/2024 au 31/12/2024 »: right for the
    # plateforme conventions (2024-2025); a convention starting in 2025 contradicts it
    assert [f for f in pipeline.check(Settings(source=phase6.root)).findings
            if f.code == "fiche.periode_contraire"] == []
    phase6.edit("structures.yaml", "periode: {debut: 01/01/2024, fin: 31/12/2025}",
                "periode: {debut: 01/01/2025, fin: 31/12/2025}")  # MEMPA's plateforme convention
    (f,) = [f for f in pipeline.check(Settings(source=phase6.root)).findings if f.code == "fiche.periode_contraire"]
    assert f.loc.file.endswith("1.1-dynamisation-accueil.md") and f.loc.line == 65
    assert "« pour l'opération du 01/01/2024 au 31/12/2024 » contredit la période de l'acte (du 01/01/2025 au " \
           "31/12/2025) : MEMPA — avenant à la convention « plateforme »" in f.message


def test_call_for_projects_of_another_year_in_a_sheet_is_an_error_example(phase6):
    # the dossier's own copy of the catalogue sheet 1.2 (joined to the avenants of 2024-2025), with the
    # 2026 call's opening that the catalogue sheets of 2026 carried
    catalogue = ROOT / "deliberation" / "annexes" / "dispositifs" / "1.2-accompagnement-equilibre.md"
    text = catalogue.read_text(encoding="utf-8").replace(
        "## Modalités de versement", "## Durée de l'appel à projets\n\nL'appel à projets est ouvert du 12/01/2026 "
        "au 15/02/26 inclus.\n\n## Modalités de versement")
    (phase6.root / "dispositifs").mkdir()
    phase6.write("dispositifs/1.2.md", text)
    line = phase6.line_of("dispositifs/1.2.md", "ouvert du 12/01/2026")
    checked = pipeline.check(Settings(source=phase6.root))
    found = [f for f in checked.findings if f.code == "fiche.periode_contraire"]
    assert {(f.loc.file.rsplit("/", 1)[-1], f.loc.line) for f in found} == {("1.2.md", line)}  # not the law's date
    assert all(f.severity.name == "ERROR" and "« du 12/01/2026 au 15/02/26 » tombe hors des années de l'acte"
               in f.message for f in found)
    assert any("MEMPA — avenant à la convention « plateforme »" in f.message for f in found)
    joined = [a for a in checked.acts if not a.is_model and any(x.code == "1.2" for x in a.sheets)]
    named = sum(min(3, f.message.count(" — avenant")) + sum(int(n) for n in re.findall(r"et (\d+) autre", f.message))
                for f in found)
    assert named == len(joined) > 10  # every act it is joined to is named (three, then a count)
