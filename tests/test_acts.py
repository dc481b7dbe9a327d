"""Avenants and conventions: what the documents say, article by article (issue 4)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import adopted_templates, templates_copy

from deliberation import fmt, pipeline
from deliberation.cli import main
from deliberation.findings import Severity, TemplateError
from deliberation.render import inspect
from deliberation.render.inspect import typed
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = re.compile(r"^Article (\d+) : (.+)$")
BLANK = re.compile(r"\[[^\]]*à compléter\]")
PROJET = re.compile(r"\bPROJET\b")


def docx_lines(path) -> list[str]:
    """The document's lines, no-break spaces made plain."""
    return [typed(x) for x in inspect.docx_lines(path)]


def docx_text(path) -> str:
    return "\n".join(typed(x) for x in docx_lines(path))


def build(dossier_root: Path, out: Path, **kw):
    return pipeline.build(Settings(source=dossier_root, out_dir=out, **kw))


@pytest.fixture(scope="module")
def phase6(tmp_path_factory):
    out = tmp_path_factory.mktemp("acts") / "out"
    result = build(ROOT / "fixtures" / "phase-6-2024", out)
    assert result.written
    return out, result.checked


def body(lines: list[str]) -> list[str]:
    """The lines before the annex sheets (the avenant itself)."""
    end = next((i for i, x in enumerate(lines) if x.startswith("Fait en deux exemplaires")), len(lines))
    return lines[:end]


def articles_of(lines: list[str]) -> list[tuple[int, str, list[str]]]:
    out: list[tuple[int, str, list[str]]] = []
    for x in body(lines):
        m = ARTICLE.match(x)
        if m:
            out.append((int(m.group(1)), m.group(2), []))
        elif out:
            out[-1][2].append(x)
    return out


def test_pdc_actif_avenant_reproduces_the_seed_figure_for_figure(phase6):
    out, _ = phase6
    path = out / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.docx"
    lines = docx_lines(path)
    text = "\n".join(lines)
    assert "AVENANT N°1" in lines  # seed l.775
    assert not BLANK.search(text)  # every value known: a PROJET only because its frame is a reconstruction
    assert [x for x in lines if PROJET.search(x)] == [
        "PROJET — valeurs à compléter : texte adopté de avenant.docx (reconstitution : tout le cadre (titre, objet, "
        "parties, visas, signatures, fiches jointes), qu'aucun modèle voté n'écrit ainsi)"]
    assert "Pas-de-Calais Actif, « Groupement d'intérêt public », dont le siège social se situe 23 rue du 11 " \
           "Novembre 62300 LENS, identifié(e) au répertoire SIRET sous le n° 18620009300083, représenté(e) par Mme " \
           "Françoise VASSEUR, Présidente, dûment autorisée par délibération en date du 1er octobre 2021," in lines
    assert "Vu : la convention n°2024-01213 signée le 14 août 2024 ;" in lines
    arts = articles_of(lines)
    assert [(n, t) for n, t, _ in arts] == [
        (1, "Objet de l'avenant"), (2, "Coût de l'opération"), (3, "Annexes"), (4, "Autres dispositions"),
    ]  # seed l.797-819
    # the voted text of model 10 (fixtures/phase-6-2024/modeles/avenant-10.md, seed l.797-825), blanks filled
    assert arts[0][2] == ["Le présent avenant a pour objet de modifier les articles 4 et 12 de la convention "
                          "2024-01213 définissant les modalités de partenariat entre le Département et Pas-de-Calais "
                          "Actif dans le cadre de l'accompagnement des bénéficiaires du RSA exerçant une activité "
                          "indépendante, signée le 14 août 2024."]
    cout = "\n".join(arts[1][2])
    assert "Pour la période du 1er juillet 2023 au 31 décembre 2025, le coût total de l'opération est estimé à un " \
           "montant maximum de 338 226,74 €." in cout
    assert "Pour la période du 1er janvier 2025 au 31 décembre 2025, le coût supplémentaire de l'opération est " \
           "estimé à un montant maximum de 79 850,00 €." in cout
    assert cout.startswith("L'article 4 de la convention 2024-01213 est supprimé et remplacé par les dispositions "
                           "suivantes :")
    assert "En outre, la contribution financière annuelle du Département définie selon les principes mentionnés " \
           "ci-dessus ne sera applicable que sous réserve des conditions suivantes :" in cout  # seed l.809
    assert cout.endswith("La transmission, dans les délais précisés en annexe, des documents de bilan. »")
    assert arts[2][2] == ["L'annexe 2 : Accompagnement des bénéficiaires du RSA exerçant une activité indépendante "
                          "est modifiée."]
    assert arts[3][2] == ["Les autres dispositions de la convention demeurent inchangées."]
    # the annex sheet (seed l.843-935)
    assert "Annexe N°2 – PAS-DE-CALAIS ACTIF" in lines
    assert "Durée | Du 01/07/2023 au 31/12/2025" in lines
    assert "Coût | 338 226,74 € + 79 850,00 €" in lines
    assert "une avance versée dès signature de la convention ; (145 437,50 €)" in text
    assert "un paiement intermédiaire sur l'année N+1 ; (108 232,56 €)" in text
    assert "Relatives aux 1,2 ETP supplémentaires :" in text
    assert "60 % à la signature de l'avenant, soit 47 910,00 €" in text
    assert "40 % au solde de la convention, soit 31 940,00 €" in text
    assert "La Directrice des Politiques d'Inclusion Durable," in text and "Sabine DESPIERRE." in text
    assert "La présidente," in text and "Françoise VASSEUR" in text


def test_one_document_per_structure_and_convention(phase6):
    out, checked = phase6
    d = checked.dossier
    pairs = {(ligne.structure, ligne.convention) for _, _, ligne in d.lignes()}
    docs = sorted((out / "actes").rglob("*.docx"))
    assert len(docs) == len(pairs) == 22
    assert len([p for p in docs if p.name == "convention-nouvelle.docx"]) == len(
        {s for s, c in pairs if c == "nouvelle"}) == 6
    for p in docs:
        assert p.with_suffix("").with_suffix(".revue.md").exists() or (p.parent / (p.stem + ".revue.md")).exists()
    # designated with the article the registry declares (« le CCAS de Liévin »), like « le Département »
    by_name = {fmt.designation(d.structures[s].nom, d.structures[s].article)["nom"] for s, _ in pairs}
    for p in docs:
        text = docx_text(p)
        assert any(f"ci-après désigné(e) par « {n} »" in text for n in by_name), p


def modified_in_body(arts) -> set[int]:
    """Articles of the initial convention that the avenant's articles say they modify (read from the text)."""
    found: set[int] = set()
    for _, _, lines in arts[1:-1]:
        first = lines[0] if lines else ""
        for m in re.finditer(r"[Ll]'article (\d+)(?:-\d+)?\b|de l'article (\d+)", first):
            found.add(int(m.group(1) or m.group(2)))
    return found


def listed_in_objet(arts) -> set[int]:
    m = re.search(r"modifier (?:les articles|l'article) ([\d ;et]+?) de la convention", arts[0][2][0])
    assert m, arts[0][2][0]
    return {int(x) for x in re.findall(r"\d+", m.group(1))}


def test_every_avenant_is_numbered_and_cross_referenced(phase6):
    out, _ = phase6
    avenants = sorted((out / "actes").rglob("avenant-*.docx")) + sorted(out.glob("*-annexe-*-avenant-*.docx"))
    assert len(avenants) == 16 + 6
    for p in avenants:
        lines = docx_lines(p)
        arts = articles_of(lines)
        assert [n for n, _, _ in arts] == list(range(1, len(arts) + 1)), p  # contiguous, no double « Article 4 »
        assert arts[0][1] == "Objet de l'avenant" and arts[-1][1] == "Autres dispositions"
        voted = "pas-de-calais-actif" in str(p) or "annexe-10" in str(p)  # model 10: its voted text, as voted
        if not voted:
            assert listed_in_objet(arts) == modified_in_body(arts), p
        # annexes announced in article 1 of the convention, listed in article 12, attached after the signatures
        text = "\n".join(lines)
        attached = [int(n) for n in re.findall(r"^Annexe N°(\d+) – ", text, re.M)]
        listed = [int(n) for n in re.findall(r"^Annexe (\d+) : « ", text, re.M)]
        announced = [int(n) for n in re.findall(r"\(annexe (\d+)\)$", text, re.M)]
        if voted:  # « L'annexe 2 : … est modifiée. » (seed l.817)
            listed = [int(n) for n in re.findall(r"^L'annexe (\d+) : ", text, re.M)]
        assert attached == listed, p
        if announced:
            assert announced == listed, p
        assert attached == list(range(attached[0], attached[0] + len(attached))), p


def test_models_are_annexes_with_visible_blanks(phase6):
    out, checked = phase6
    # annexe 10 is the filled « AVENANT N°1 » of Pas-de-Calais Actif (seed l.773), the very act it signs
    (ten,) = out.glob("*-annexe-10-avenant-10.docx")
    signed = out / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.docx"
    assert docx_text(ten) == docx_text(signed)  # the same text; its stamp names annexe 10
    for n in range(5, 10):
        (path,) = out.glob(f"*-annexe-{n}-avenant-{n}.docx")
        text = docx_text(path)
        assert f"Annexe {n} — Modèle d'avenant n°{n}" in text
        assert "[nom de la structure]" in text and "[SIRET]" in text
        assert "à compléter" not in text and not PROJET.search(text)
    nine = docx_lines(next(out.glob("*-annexe-9-avenant-9.docx")))
    assert listed_in_objet(articles_of(nine)) == {1, 3, 4, 8, 12}  # « articles 1 ; 3 ; 4 ; 8 et 12 », seed l.672
    seven = articles_of(docx_lines(next(out.glob("*-annexe-7-avenant-7.docx"))))
    assert [t for _, t, _ in seven] == [
        "Objet de l'avenant", "Objet de la convention", "Obligations de l'organisme", "Annexes",
        "Autres dispositions",
    ]  # the seed numbers two « Article 4 » (l.495, l.502)


def test_delib_cites_the_model_annexes(phase6):
    out, _ = phase6
    text = docx_text(next(out.glob("02-deliberation.docx")))
    assert "dans les termes des projets joints en annexes 5, 6, 7, 8, 9 et 10" in text


def test_review_sheet_explains_each_article(phase6):
    out, _ = phase6
    sheet = (out / "actes" / "mempa" / "avenant-plateforme.revue.md").read_text(encoding="utf-8")
    assert "| 2 | Objet de la convention | 1 | dispositifs-modifies |" in sheet
    assert "coût de l'opération (article 4) — règle `montant-attribue` : valorisation seule" in sheet
    assert "- Conformité au modèle avenant-5 + avenant-8 : **non conforme** — 2 article(s) diffèrent" in sheet
    gap = sheet.split("## Écarts avec le modèle")[1].split("## Valeurs propres")[0]
    assert "### Coût de l'opération (absent de l'acte, article 3 du modèle)" in gap  # model 5's cost article
    assert "~~; 4~~" in gap  # the objet article lists article 4 in the model, not in the act
    assert "SIRET (structures.yaml:7)" in sheet
    assert "/work/" not in sheet and str(ROOT) not in sheet  # no machine-specific path


def test_explain_prints_the_review_sheet():
    result = CliRunner().invoke(main, ["explain", str(ROOT / "fixtures" / "phase-6-2024"), "Pas-de-Calais Actif"])
    assert result.exit_code == 0, result.output
    assert "| 2 | Coût de l'opération | 4 | montant-attribue |" in result.output
    assert "montant attribué par la phase : 79 850,00 €" in result.output
    assert "période d'application (article 3) — règle `periode-prolongee`" in result.output
    result = CliRunner().invoke(main, ["explain", str(ROOT / "fixtures" / "phase-6-2024"), "inconnue"])
    assert result.exit_code == 2 and "pdc-actif" in result.output


@pytest.mark.libreoffice  # the final build (with PDF) starts LibreOffice ahead
def test_missing_siret_makes_a_draft_and_final_refuses(phase6, tmp_path):
    dest = tmp_path / "d"
    shutil.copytree(ROOT / "fixtures" / "phase-6-2024", dest)
    path = dest / "structures.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('    siret: "18620009300083"  # seed l.785\n', ""), encoding="utf-8")
    line = next(i for i, x in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if x == "  pdc-actif:")
    findings = pipeline.check(Settings(source=dest)).findings
    (f,) = [f for f in findings if f.code == "acte.incomplet" and "Pas-de-Calais Actif" in f.message]
    assert f.severity is Severity.WARNING and f.loc.line == line and "SIRET" in f.message
    out = tmp_path / "out"
    assert build(dest, out).written
    text = docx_text(out / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.docx")
    assert "PROJET — valeurs à compléter : SIRET" in text
    assert "identifié(e) au répertoire SIRET sous le n° [SIRET à compléter]" in text
    # adopted templates: the only thing left to refuse is the blank
    result = CliRunner().invoke(main, ["build", str(dest), "-o", str(tmp_path / "final"), "--final", "-v",
                                       "--modeles", str(adopted_templates(tmp_path))])
    assert result.exit_code == 1 and "[acte.reconstitution]" not in result.output
    assert "ERROR: Pas-de-Calais Actif — avenant à la convention « 2024-01213 » : production définitive " \
           "impossible, valeur(s) à compléter : SIRET [acte.incomplet]" in result.output
    assert not (tmp_path / "final").exists()


@pytest.mark.libreoffice
def test_complete_registry_builds_final_without_any_blank(tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(ROOT / "fixtures" / "fictif"), "-o", str(out), "--final",
                                       "--modeles", str(adopted_templates(tmp_path))])
    assert result.exit_code == 0, result.output
    docs = sorted(out.rglob("*.docx"))
    assert len(docs) == 10  # rapport, délibération, 2 narratives, annexe 3, 2 models, 3 acts
    for p in docs:
        text = docx_text(p)
        assert not PROJET.search(text) and not BLANK.search(text), p
    alpha = docx_text(out / "actes" / "association-alpha" / "avenant-plateforme.docx")
    assert "AVENANT N°1" in alpha
    assert "60 % à la signature de l'avenant, soit 30 000,00 €" in alpha
    assert "40 % au solde, sur production du bilan final, soit 20 000,00 €" in alpha
    beta = docx_text(out / "actes" / "beta-emploi" / "avenant-plateforme.docx")
    assert "AVENANT N°2" in beta and "modifier les articles 8 et 12" in beta
    gamma = docx_lines(out / "actes" / "ccas-de-gamma" / "convention-nouvelle.docx")
    assert "CONVENTION" in gamma
    assert [int(m.group(1)) for x in gamma if (m := ARTICLE.match(x))] == list(range(1, 14))
    assert any("période du 1er janvier 2025 au 31 décembre 2025 inclus" in x for x in gamma)
    assert any("montant maximum de 12 000,00 €." in x for x in gamma)


# ---------------------------------------------------------------------------
# rules of the clause model, one by one


def acts_of(dossier_root: Path):
    checked = pipeline.check(Settings(source=dossier_root))
    return {(a.structure_key, a.convention_key): a for a in checked.acts}, checked.findings


def test_period_extension_adds_article_3(fictif):
    fictif.edit("structures.yaml", "periode: {debut: 2024-01-01, fin: 2025-12-31}\n        montant: \"120",
                "periode: {debut: 2024-01-01, fin: 2025-03-31}\n        montant: \"120")
    acts, _ = acts_of(fictif.root)
    d = next(x for x in acts["alpha", "plateforme"].decisions if x.clause == "duree")
    assert d.included and d.rule == "periode-prolongee"


def test_valorisation_only_leaves_the_cost_alone(fictif):
    acts, _ = acts_of(fictif.root)
    beta = acts["beta", "plateforme"]
    assert beta.included == ["obligations", "annexes"]  # 1.1 only, as before: article 1 unchanged
    cout = next(x for x in beta.decisions if x.clause == "cout")
    assert not cout.included and "valorisation seule" in cout.reason


def test_undecidable_article_needs_an_explicit_decision(fictif):
    fictif.edit("structures.yaml",
                '          - {numero: 2, dispositif: "1.1", titre: "Dynamisation des parcours : accueil et '
                'accompagnement des BRSA"}\n        versements:\n          - {libelle: premier versement, montant: '
                '"30', '        versements:\n          - {libelle: premier versement, montant: "30')
    fictif.edit("structures.yaml", "        avenants: 1\n        annexes:\n", "        avenants: 1\n")
    acts, findings = acts_of(fictif.root)
    (f,) = [f for f in findings if f.code == "acte.clause_indecise"]
    assert "Beta Emploi" in f.message and "objet de la convention (article 1)" in f.message
    assert any(f.code == "acte.incomplet" and "décision sur l'article" in f.message for f in findings)
    fictif.edit("structures.yaml", "        avenants: 1\n",
                "        avenants: 1\n        clauses: {objet_convention: non}\n")
    acts, findings = acts_of(fictif.root)
    assert not [f for f in findings if f.code.startswith("acte.")]
    d = next(x for x in acts["beta", "plateforme"].decisions if x.clause == "objet_convention")
    assert d.explicit and not d.included


def test_explicit_decision_against_the_data_is_reported(fictif):
    fictif.edit("structures.yaml", "        avenants: 0\n", "        avenants: 0\n        clauses: {cout: non}\n")
    _, findings = acts_of(fictif.root)
    (f,) = [f for f in findings if f.code == "acte.clause_contredite"]
    assert "le registre dit non alors que les données disent oui" in f.message


def test_model_divergence_and_legal_form(fictif):
    _, findings = acts_of(fictif.root)
    assert [f for f in findings if f.code.startswith(("acte.", "modele."))] == []  # each act matches its model
    fictif.edit("phase.yaml", "clauses: [objet_convention, cout, obligations, annexes]",
                "clauses: [obligations, annexes]")
    _, findings = acts_of(fictif.root)
    (f,) = [f for f in findings if f.code == "acte.modele_divergent"]
    assert "Association Alpha" in f.message and "le modèle ne prévoit pas : coût de l'opération" in f.message


def test_a_model_without_articles_is_compared_too(fictif):
    """Issue 18: a model declaring no article used to pass every act as conforming."""
    fictif.edit("phase.yaml", ", clauses: [objet_convention, cout, obligations, annexes]", "")
    _, findings = acts_of(fictif.root)
    (empty,) = [f for f in findings if f.code == "modele.sans_article"]
    assert empty.loc.file.endswith("phase.yaml") and "Avenant accueil" in empty.message
    (f,) = [f for f in findings if f.code == "acte.modele_divergent"]
    assert "Association Alpha" in f.message and "le modèle ne déclare aucun article" in f.message
    assert "le modèle ne prévoit pas : coût de l'opération (article 4)" in f.message
    fictif.edit("thematiques/t4.yaml", "document: convention-type", "document: avenant-accueil")
    _, findings = acts_of(fictif.root)
    (f,) = [f for f in findings if f.code == "acte.forme"]
    assert f.severity is Severity.ERROR and "prévoit une nouvelle convention" in f.message


def test_structure_text_is_data_not_markdown_or_template(fictif, tmp_path):
    fictif.edit("structures.yaml", "nom: Association Alpha", "nom: \"**Alpha** {{ 7*7 }} [[duree]] <w:t>\"")
    out = tmp_path / "out"
    assert build(fictif.root, out).written
    (path,) = [p for p in (out / "actes").rglob("avenant-plateforme.docx") if "beta" not in str(p)]
    text = docx_text(path)
    assert "partenariat entre le Département du Pas-de-Calais et l'**Alpha** {{ 7*7 }} [[duree]] <w:t> concourant" \
        in text
    assert "Annexe N°2 – **ALPHA** {{ 7*7 }} [[DUREE]] <W:T>" in text


# ---------------------------------------------------------------------------
# template checks


def test_clause_text_with_unknown_name_or_bad_tag_is_refused(fictif, tmp_path):
    from deliberation.render.documents import render_documents

    templates = templates_copy(tmp_path)
    path = templates / "clauses" / "cout.md"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("{{ acte.cout.total }}", "{{ montant_inconnu }}"), encoding="utf-8")
    checked = pipeline.check(Settings(source=fictif.root))
    with pytest.raises(TemplateError, match=r"cout\.md: nom\(s\) inconnu\(s\) : montant_inconnu"):
        render_documents(checked, templates)
    path.write_text(original.replace("{% else %}", "{% sinon %}"), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"cout\.md:\d+: balise mal formée"):
        render_documents(checked, templates)
    (templates / "clauses" / "annexes.md").unlink()
    path.write_text(original, encoding="utf-8")
    with pytest.raises(TemplateError, match=r"annexes\.md: texte de clause introuvable"):
        render_documents(checked, templates)


def test_unknown_sheet_field_is_located(fictif):
    (fictif.root / "dispositifs" / "1.2-fictif.md").write_text(
        (fictif.root / "dispositifs" / "1.2-fictif.md").read_text(encoding="utf-8").replace(
            "[[territoire]]", "[[territoir]]"), encoding="utf-8")
    (f,) = [f for f in fictif.check() if f.code == "fiche.champ_inconnu"]
    assert f.loc.file.endswith("1.2-fictif.md") and f.loc.line == 27 and "[[territoir]]" in f.message
