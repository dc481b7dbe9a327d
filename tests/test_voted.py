"""Issue 18: acts faithful to the voted text — voted model texts, act-vs-model comparison, annexes that are acts.

Every rule runs on the real example (phase-6-2024, model 10 voted as a filled act) and on the fictitious
phase (fictif: two models declared by their articles, a voted text written in the test).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pytest
from conftest import Dossier
from docx import Document

from deliberation import pipeline
from deliberation.render import inspect
from deliberation.render.inspect import typed
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SEED = Path("/work/shared/seeds/004_3eda40cb78383031.txt")
if not SEED.exists():
    SEED = ROOT.parent / "shared" / "seeds" / "004_3eda40cb78383031.txt"

#: Recorded word-level similarity of the Pas-de-Calais Actif avenant (and annexe 10) with seed l.773-935
#: (0.972 with one sheet table; 0.923 since issue 23 splits the sheet into the act's conditions, then the
#: dispositif's description on its own page: the seed's one table, rows reordered).
RECORDED_SIMILARITY = 0.923


def text_of(path: Path) -> str:
    return "\n".join(typed(x) for x in inspect.docx_lines(path))


def words(text: str) -> list[str]:
    """Lower-case words; the seed's extraction markup (HTML tags, ``^{er}`` superscripts) is not text."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\^\{([^}]*)\}", r"\1", text)
    return re.findall(r"\w+", text.lower())


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, words(a), words(b), autojunk=False).ratio()


def check(root: Path, **kw):
    return pipeline.check(Settings(source=root, **kw))


def build(root: Path, out: Path):
    result = pipeline.build(Settings(source=root, out_dir=out))
    assert result.written, [f.message for f in result.checked.findings if f.severity.name == "ERROR"]
    return result


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("voted") / "out"
    build(ROOT / "fixtures" / "phase-6-2024", out)
    return out


# ---------------------------------------------------------------------------
# the example: model 10 voted as the filled avenant n°1 of Pas-de-Calais Actif


@pytest.mark.skipif(not SEED.exists(), reason="seeds absent")
def test_pdc_actif_avenant_and_annexe_10_reproduce_the_voted_text(example):
    seed = "\n".join(SEED.read_text(encoding="utf-8").splitlines()[772:935])
    act = example / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.docx"
    (annex,) = example.glob("*-annexe-10-avenant-10.docx")
    assert text_of(annex) == text_of(act)  # the délibération votes the act that is signed
    for path in (act, annex):
        # its frame (avenant.docx) is a reconstruction: a PROJET whose banner says so; the text is the rest
        (banner,) = [x for x in text_of(path).splitlines() if x.startswith("PROJET")]
        assert banner.startswith("PROJET — valeurs à compléter : texte adopté de avenant.docx (reconstitution")
        ratio = similarity(text_of(path).replace(banner, ""), seed)
        assert ratio >= 0.92, ratio  # 0.95 before issue 23 (sheet rows reordered into two tables)
        assert ratio >= RECORDED_SIMILARITY - 0.005, ratio  # no silent drift from the recorded figure


def test_review_sheet_says_conforme_only_when_only_blanks_differ(example):
    pdc = (example / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.revue.md").read_text("utf-8")
    assert "- Conformité au modèle avenant-10 : conforme — comparé mot à mot (texte voté) : seuls les 10 " \
           "blanc(s) déclaré(s) diffèrent" in pdc
    assert "## Écarts avec le modèle" not in pdc
    mempa = (example / "actes" / "mempa" / "avenant-plateforme.revue.md").read_text("utf-8")
    assert "Conformité au modèle avenant-5 + avenant-8 : **non conforme**" in mempa  # both models, not only 5
    assert "### Coût de l'opération (absent de l'acte, article 3 du modèle)" in mempa


def test_voted_text_changes_reach_the_act_and_the_annex(phase6, tmp_path):
    """A word changed in the voted text is in the act and in annexe 10; the act stays conforme."""
    phase6.edit("modeles/avenant-10.md", "Les autres dispositions de la convention demeurent inchangées.",
                "Toutes les autres dispositions de la convention demeurent inchangées.")
    out = tmp_path / "out"
    build(phase6.root, out)
    act = text_of(out / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.docx")
    assert "Toutes les autres dispositions de la convention demeurent inchangées." in act
    assert text_of(next(out.glob("*-annexe-10-*.docx"))) == act
    manifest = (out / "manifest.json").read_text("utf-8")
    assert "modeles/avenant-10.md" in manifest  # an input: a change rebuilds


def test_an_act_whose_articles_differ_from_the_voted_text_is_reported_with_the_quote(phase6, tmp_path):
    """The data no longer calls for a cost article: the act drops it, the voted text has it."""
    phase6.edit("structures.yaml", "        avenants: 0  # l'avenant de la phase", "        clauses: {cout: non}\n"
                "        avenants: 0  # l'avenant de la phase")
    findings = check(phase6.root).findings
    (f,) = [f for f in findings if f.code == "acte.modele_divergent" and "Pas-de-Calais Actif" in f.message]
    assert "le modèle prévoit en plus : coût de l'opération (article 4)" in f.message
    assert "le texte voté dit : « L'article 4 de la convention [[numero_convention]] est supprimé" in f.message
    assert "(avenant-10.md:14)" in f.message
    out = tmp_path / "out"
    build(phase6.root, out)
    sheet = (out / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.revue.md").read_text("utf-8")
    assert "**non conforme**" in sheet
    assert "### Coût de l'opération (absent de l'acte, article 2 du modèle)" in sheet
    assert "> L'article 4 de la convention 2024-01213 est supprimé et remplacé" in sheet  # valued as the act
    assert sheet.count("### ") == 1  # the voted objet is fixed text (« les articles 4 et 12 »): only the cost differs


# ---------------------------------------------------------------------------
# the fictitious phase: a voted text written for the test


ACCUEIL = """# Avenant accueil

## Objet de l'avenant {objet}

Le présent avenant a pour objet de modifier [[articles_modifies]] de la convention n°[[numero_convention]]\
[[motifs]].

## Objet de la convention {objet_convention}

L'article 1 est réécrit pour [[structure]].

## Coût de l'opération {cout}

Pour la période du [[debut_phase]] au [[fin_phase]], le coût supplémentaire est de [[montant_phase]] ; le coût \
total, de [[cout_total]].

## Obligations de l'organisme {obligations}

L'organisme utilise les outils de France Travail.

## Annexes {annexes}

[[annexes]] sont jointes, dont l'annexe [[annexe_numero]] : « [[annexe_titre]] ».

## Autres dispositions {autres}

Rien d'autre ne change.
"""


def voted_fictif(fictif: Dossier, text: str = ACCUEIL) -> Dossier:
    (fictif.root / "modeles").mkdir()
    fictif.write("modeles/accueil.md", text)
    fictif.edit("phase.yaml", "titre: Avenant accueil,", "titre: Avenant accueil, texte: modeles/accueil.md,")
    return fictif


def test_fictif_act_follows_its_voted_text_word_for_word(fictif, tmp_path):
    voted_fictif(fictif)
    assert [f for f in check(fictif.root).findings] == []
    out = tmp_path / "out"
    build(fictif.root, out)
    alpha = text_of(out / "actes" / "association-alpha" / "avenant-plateforme.docx")
    assert "Le présent avenant a pour objet de modifier les articles 1 ; 4 ; 8 et 12 de la convention " \
           "n°2024-00100, afin de redéfinir" in alpha
    assert "Pour la période du 1er janvier 2025 au 30 juin 2025, le coût supplémentaire est de 50 000,00 € ; le " \
           "coût total, de 170 000,00 €." in alpha
    assert "les annexes 2 et 3 sont jointes, dont l'annexe 2 : « Dynamisation" in alpha
    assert "Article 6 : Autres dispositions\nRien d'autre ne change." in alpha
    sheet = (out / "actes" / "association-alpha" / "avenant-plateforme.revue.md").read_text("utf-8")
    assert "conforme — comparé mot à mot (texte voté)" in sheet
    # the blank model (annexe 4) is the voted text with its blanks shown
    model = text_of(next(out.glob("*-annexe-4-avenant-accueil.docx")))
    assert "le coût supplémentaire est de [montant de la phase] ; le coût total, de [coût total]." in model
    assert "L'article 1 est réécrit pour [nom de la structure]." in model
    # beta cites another model (declared by its articles): untouched by this text
    beta = text_of(out / "actes" / "beta-emploi" / "avenant-plateforme.docx")
    assert "Rien d'autre ne change." not in beta


def test_fictif_divergence_from_the_voted_text_is_reported(fictif):
    """The voted text has no obligations article (and the model declares none): the act needs one."""
    voted_fictif(fictif, ACCUEIL.replace("## Obligations de l'organisme {obligations}\n\nL'organisme utilise les "
                                         "outils de France Travail.\n\n", ""))
    assert [f.code for f in check(fictif.root).findings] == []  # declared clauses rule: text words only some
    fictif.edit("phase.yaml", "clauses: [objet_convention, cout, obligations, annexes]", "clauses: []")
    findings = check(fictif.root).findings
    (f,) = [f for f in findings if f.code == "acte.modele_divergent"]
    assert "Association Alpha" in f.message and "le modèle ne prévoit pas : obligations de l'organisme" in f.message


@pytest.mark.parametrize("text, code, line, words", [
    (ACCUEIL.replace("{cout}", ""), "modele.texte_article", 11, "ne dit pas quel article d'avenant il est"),
    (ACCUEIL.replace("{cout}", "{prix}"), "modele.texte_article", 11, "« {prix} » n'est pas un article"),
    (ACCUEIL.replace("[[montant_phase]]", "[[montant]]"), "modele.champ_inconnu", 13, "blanc « [[montant]] » inconnu"),
    (ACCUEIL.replace("{annexes}", "{cout}"), "modele.texte_article", 19, "figure deux fois"),
    (ACCUEIL.replace("# Avenant accueil", "Préambule libre"), "modele.texte_article", 1, "texte avant le premier"),
    ("Rien.\n", "modele.texte_article", 1, "aucun article"),
    (ACCUEIL.replace("Rien d'autre ne change.", "- a\n  - b\n    - c\n      - d\n        - e"),
     "texte.imbrication", 28, "niveau"),
])
def test_voted_text_mistakes_are_located(fictif, text, code, line, words):
    voted_fictif(fictif, text)
    findings = [f for f in check(fictif.root).findings if f.code == code]
    assert findings, [f.message for f in check(fictif.root).findings]
    f = findings[0]
    assert f.loc.file.endswith("modeles/accueil.md") and f.loc.line == line and words in f.message, (f.loc, f.message)


def test_voted_article_must_be_a_declared_one(fictif):
    voted_fictif(fictif)
    fictif.edit("phase.yaml", "clauses: [objet_convention, cout, obligations, annexes]",
                "clauses: [objet_convention, obligations, annexes]")
    (f,) = [f for f in check(fictif.root).findings if f.code == "modele.texte_article"]
    assert "le texte voté a l'article {cout} « Coût de l'opération », que le modèle ne déclare pas" in f.message
    assert f.loc.file.endswith("modeles/accueil.md") and f.loc.line == 11


def test_voted_text_path_must_stay_in_the_dossier(fictif, phase6):
    fictif.edit("phase.yaml", "titre: Avenant accueil,", "titre: Avenant accueil, texte: ../phase.yaml,")
    (f,) = [f for f in check(fictif.root).findings if f.code == "modele.texte"]
    assert "doit être un chemin dans le dossier" in f.message and f.loc.file.endswith("phase.yaml")
    phase6.edit("phase.yaml", "texte: modeles/avenant-10.md", "texte: modeles/absent.md")
    (f,) = [f for f in check(phase6.root).findings if f.code == "modele.texte"]
    assert "texte voté introuvable : modeles/absent.md" in f.message


def test_a_filled_act_annex_must_name_an_act_citing_the_model(phase6, fictif):
    phase6.edit("phase.yaml", "acte: pdc-actif/2024-01213", "acte: pdc-actif/autre")
    (f,) = [f for f in check(phase6.root).findings if f.code == "modele.acte"]
    assert "« pdc-actif/autre » ne désigne aucun acte de la phase" in f.message and f.severity.name == "ERROR"
    fictif.edit("phase.yaml", "titre: Avenant de valorisation,", "titre: Avenant de valorisation, "
                "acte: alpha/plateforme,")
    (f,) = [f for f in check(fictif.root).findings if f.code == "modele.acte"]
    assert "ne cite pas ce modèle (ses lignes citent : avenant-accueil)" in f.message


# ---------------------------------------------------------------------------
# a voted term (model 9: « du 1er janvier 2024 au 30 juin 2025 inclus ») against the act's data


def test_model_9_keeps_its_voted_term_and_sentences(example):
    plie = text_of(example / "actes" / "mempa" / "avenant-plie.docx")
    assert "« La présente convention s'applique sur la période du 1er janvier 2024 au 30 juin 2025 inclus. La " \
           "conclusion d'une nouvelle convention pourra être négociée" in plie
    assert "- Pour la période du 1er janvier 2024 au 31 décembre 2024 : [montant de la convention initiale à " \
           "compléter]" in plie.replace("\n", "\n- ").replace("- - ", "- ")
    nine = text_of(next(example.glob("*-annexe-9-avenant-9.docx")))
    assert "du 1er janvier 2024 au 30 juin 2025 inclus" in nine and "[début de la convention]" not in nine
    for n in (5, 6):  # one cost sentence: the total over the convention
        model = text_of(next(example.glob(f"*-annexe-{n}-avenant-{n}.docx")))
        assert "« Pour la durée de la convention le coût total de l'opération est estimé à un montant maximum de " \
               "[coût total]. »" in model
        assert "coût supplémentaire" not in model
    tp = text_of(example / "actes" / "tous-parrains" / "avenant-plateforme.docx")
    assert "« Pour la durée de la convention le coût total de l'opération est estimé à un montant maximum de " \
           "[coût total à compléter]. »" in tp and "coût supplémentaire" not in tp


def test_a_line_beyond_the_voted_term_is_an_error(phase6):
    assert [f for f in check(phase6.root).findings if f.code == "modele.terme"] == []
    phase6.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}",
                "periode: {debut: 01/01/2025, fin: 31/12/2025}")
    found = [f for f in check(phase6.root).findings if f.code == "modele.terme"]
    assert found and all(f.severity.name == "ERROR" for f in found)
    assert "le texte voté (avenant-9.md:" in found[0].message
    assert "fixe la fin de la convention au 30/06/2025, les données de l'acte au 31/12/2025" in found[0].message
    assert found[0].loc.file.endswith("t1.yaml")


def test_fictif_voted_term_is_checked_against_the_registry_and_lines(fictif):
    term = ACCUEIL.replace("## Coût de l'opération {cout}", "## Période d'application {duree}\n\nLa convention "
                           "s'applique du 1er janvier 2024 au 30 juin 2026 inclus.\n\n## Coût de l'opération {cout}")
    voted_fictif(fictif, term)
    fictif.edit("phase.yaml", "clauses: [objet_convention, cout, obligations, annexes]",
                "clauses: [objet_convention, duree, cout, obligations, annexes]")
    fictif.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}",
                "periode: {debut: 01/01/2026, fin: 30/06/2026}")
    assert [f for f in check(fictif.root).findings if f.code == "modele.terme"] == []
    fictif.edit("thematiques/t1.yaml", "fin: 30/06/2026", "fin: 31/03/2026")
    (f,) = [f for f in check(fictif.root).findings if f.code == "modele.terme"]
    assert "au 30/06/2026, les données de l'acte au 31/03/2026" in f.message
    fictif.edit("structures.yaml", "periode: {debut: 2024-01-01, fin: 2025-12-31}\n        montant: \"120 000,00\"",
                "periode: {debut: 2024-02-01, fin: 2025-12-31}\n        montant: \"120 000,00\"")
    starts = [f for f in check(fictif.root).findings if "fait commencer la convention" in f.message]
    assert len(starts) == 1 and "le 01/01/2024, le registre le 01/02/2024" in starts[0].message


# ---------------------------------------------------------------------------
# templates carry their status: adopted text or reconstruction


def test_acts_from_reconstructions_are_projets_and_say_which_parts(fictif, tmp_path):
    out = tmp_path / "out"
    build(fictif.root, out)
    gamma = text_of(out / "actes" / "ccas-de-gamma" / "convention-nouvelle.docx")
    assert "PROJET — valeurs à compléter : texte adopté de convention.docx (reconstitution : articles 2, 5, 6, 7, " \
           "9, 10, 11 et 13" in gamma
    sheet = (out / "actes" / "ccas-de-gamma" / "convention-nouvelle.revue.md").read_text("utf-8")
    assert "- Statut : **PROJET** — aucun blanc, mais des textes reconstitués (ci-dessous)" in sheet
    assert "  - `convention.docx` — parties : articles 2, 5, 6, 7, 9, 10, 11 et 13 (dont « Litiges … tribunal " \
           "administratif de Lille »)" in sheet
    alpha = (out / "actes" / "association-alpha" / "avenant-plateforme.revue.md").read_text("utf-8")
    assert "  - `clauses/objet.md` — d'après : article 1 « Objet de l'avenant » des modèles d'avenant n°5 à 10" \
           in alpha
    assert "  - `avenant.docx` — parties : tout le cadre (titre, objet, parties, visas, signatures, fiches " \
           "jointes)" in alpha  # the frame unifies the voted models' frames: no one of them word for word
    assert "`clauses/autres.md`" not in alpha  # word for word the article of models 5 to 9: adopted
    # the models voted as annexes have no banner (they are no act) but every page's stamp says PROJET
    annex = next(out.glob("*-annexe-4-avenant-accueil.docx"))
    assert "PROJET" not in text_of(annex)
    assert [typed(p.text) for p in Document(str(annex)).sections[0].footer.paragraphs if p.text] == [
        "PROJET (modèle reconstitué) — Délibération n°2025-100 — Annexe 4 — page /"]


def test_final_refuses_reconstructions_naming_the_template(fictif, tmp_path):
    from conftest import adopted_templates

    result = pipeline.build(Settings(source=fictif.root, out_dir=tmp_path / "out", final=True))
    assert not result.written and not (tmp_path / "out").exists()
    errors = [f for f in result.checked.findings if f.code == "acte.reconstitution"]
    # every shipped template but the two clause texts found word for word in the voted models (autres, duree)
    assert {f.message.split(" ")[0] for f in errors} == {"convention.docx", "avenant.docx", "rapport.docx",
                                                          "deliberation.docx", "annexe-narrative.docx",
                                                          "annexe-repartition.docx", "clauses/objet.md",
                                                          "clauses/objet_convention.md", "clauses/cout.md",
                                                          "clauses/obligations.md", "clauses/annexes.md"}
    conv = next(f for f in errors if f.message.startswith("convention.docx"))
    assert "n'est pas le texte adopté : reconstitution (convention type adoptée par la Commission Permanente du 12 " \
           "juin 2023, dont le texte manque)" in conv.message
    assert "production définitive impossible de 1 document (CCAS de Gamma — nouvelle convention)" in conv.message
    assert conv.loc.file.endswith("statuts.yaml") and conv.severity.name == "ERROR"
    rapport = next(f for f in errors if f.message.startswith("rapport.docx"))
    assert "production définitive impossible de 1 document (01-rapport)" in rapport.message
    cout = next(f for f in errors if f.message.startswith("clauses/cout.md"))  # located in the clause's header
    assert cout.loc.file.endswith("clauses/cout.md") and cout.loc.line == 5
    assert "déclarez-le « adopté » dans son en-tête" in cout.message
    # the Département's adopted texts in place: --final goes through, nothing is a PROJET
    adopted = adopted_templates(tmp_path)
    result = pipeline.build(Settings(source=fictif.root, out_dir=tmp_path / "final", final=True, templates=adopted))
    assert result.written, [f.message for f in result.checked.findings if f.severity.name == "ERROR"]
    assert "PROJET" not in text_of(tmp_path / "final" / "actes" / "ccas-de-gamma" / "convention-nouvelle.docx")


def test_example_final_names_the_reconstructed_convention_type(phase6):
    from deliberation.acts import reconstructed
    from deliberation.load.modeles import load_statuts
    from deliberation.resources import templates_dir

    checked = pipeline.check(Settings(source=phase6.root, final=True))
    conv = [f for f in checked.findings if f.code == "acte.reconstitution" and f.message.startswith("convention.docx")]
    assert conv and "production définitive impossible de 6 documents" in conv[0].message
    # Pas-de-Calais Actif's avenant is all voted text: only its frame, avenant.docx, is a reconstruction
    (pdc,) = [a for a in checked.acts if a.structure_key == "pdc-actif" and not a.is_model]
    statuts, _ = load_statuts(templates_dir())
    assert [f for f, _ in reconstructed(pdc, checked.dossier, statuts)] == ["avenant.docx"]


def test_undeclared_templates_are_reconstructions(fictif, tmp_path):
    from conftest import templates_copy

    templates = templates_copy(tmp_path)
    (templates / "statuts.yaml").unlink()
    findings = pipeline.check(Settings(source=fictif.root, final=True, templates=templates)).findings
    (f,) = [f for f in findings if f.code == "acte.reconstitution" and f.message.startswith("avenant.docx")]
    assert "statut non déclaré dans statuts.yaml" in f.message
