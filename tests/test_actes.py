"""@ctes pre-flight: act number, objet, classification (``check --actes``) and the transmitted PDFs (``--final``)."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, adopted_templates
from pypdf import PdfReader, PdfWriter

from deliberation import pipeline
from deliberation.bundle import publish
from deliberation.cli import main
from deliberation.findings import Loc, Severity
from deliberation.fmt import number
from deliberation.rules.transmission import ACTES_MAX_BYTES, check_numero, check_pdfs, numero_actes, transmitted
from deliberation.settings import Settings

PHASE = "phase.yaml"


def actes_findings(dossier, actes: bool = True):
    """The ``actes.*`` findings of a dossier, checked with (or without) the @ctes pre-flight."""
    findings = pipeline.check(Settings(source=dossier.root, actes=actes)).findings
    return [f for f in findings if f.code.startswith("actes.")]


def only(findings, code: str):
    (f,) = [f for f in findings if f.code == code]
    assert f.severity is Severity.ERROR
    return f


def pdf(pages: int = 1, password: str | None = None) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 200)
    if password is not None:
        writer.encrypt(password)
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# act number


def test_numero_is_normalised_upper_case_with_underscores():
    assert numero_actes("2024-587") == "2024_587"
    assert numero_actes("cp 2024/587.b") == "CP_2024_587_B"
    assert numero_actes("2024 - 587") == "2024_587"
    assert check_numero("cp 2024/587.b", Loc("x")) == []


def test_numero_with_a_forbidden_character(fictif):
    fictif.edit(PHASE, "  numero: 2025-100\n", "  numero: 2024/587ÉTÉ\n")
    assert not actes_findings(fictif, actes=False)  # a plain check says nothing of @ctes
    assert not [f for f in fictif.check() if f.severity is Severity.ERROR]
    f = only(actes_findings(fictif), "actes.numero")
    assert f.loc.file.endswith(PHASE) and f.loc.line == fictif.line_of(PHASE, "numero: 2024/587ÉTÉ")
    assert f.message == ("numéro de l'acte « 2024/587ÉTÉ » : transmis à @ctes comme « 2024_587ÉTÉ », refusé : "
                         "caractère(s) interdit(s) « É » (attendu : lettres A-Z, chiffres et « _ », 15 au plus)")


def test_numero_too_long(fictif):
    fictif.edit(PHASE, "  numero: 2025-100\n", "  numero: 2025-100-000000-1\n")
    f = only(actes_findings(fictif), "actes.numero")
    assert f.loc.line == fictif.line_of(PHASE, "numero: 2025-100-000000-1")
    assert "transmis à @ctes comme « 2025_100_000000_1 »" in f.message
    assert "17 caractères (au plus 15)" in f.message and "interdit" not in f.message


# ---------------------------------------------------------------------------
# objet


def test_objet_with_a_line_break(fictif):
    fictif.edit(PHASE, '2025-PHASE 2"\n  actes:', '2025\\nPHASE 2"\n  actes:')
    f = only(actes_findings(fictif), "actes.objet_ligne")
    assert f.loc.line == fictif.line_of(PHASE, "  titre: ")
    assert f.message == ("objet de l'acte (titre) : 1 saut(s) de ligne, refusé(s) par @ctes : écrivez le titre sur "
                         "une seule ligne")


def test_objet_of_500_characters(fictif):
    old = "  titre: \"APPELS À PROJETS DES POLITIQUES D'INCLUSION DURABLE 2025-PHASE 2\"\n"
    fictif.edit(PHASE, old, f"  titre: \"{'A' * 500}\"\n")
    f = only(actes_findings(fictif), "actes.objet_long")
    assert f.loc.line == fictif.line_of(PHASE, "  titre: ")
    assert f.message == "objet de l'acte (titre) : 500 caractères, au plus 499 pour @ctes (1 de trop)"


def test_objet_of_499_characters_once_normalised_passes(fictif):
    old = "  titre: \"APPELS À PROJETS DES POLITIQUES D'INCLUSION DURABLE 2025-PHASE 2\"\n"
    fictif.edit(PHASE, old, f"  titre: \"  {'A' * 200}    {'B' * 298}  \"\n")  # spaces run → 200 + 1 + 298
    assert actes_findings(fictif) == []


# ---------------------------------------------------------------------------
# nature and matière


def test_nature_missing(fictif):
    fictif.edit(PHASE, "    nature: 1\n", "")
    f = only(actes_findings(fictif), "actes.nature_manquante")
    assert f.loc.line == fictif.line_of(PHASE, "    matiere:")  # the actes block
    assert "1 Délibérations ; 2 Actes réglementaires" in f.message and "6 Autres" in f.message


def test_whole_classification_missing(fictif):
    fictif.edit(PHASE, '    nature: 1\n    matiere: "7.5"\n', "").edit(PHASE, "  actes:  #", "  # actes:  #")
    assert sorted(f.code for f in actes_findings(fictif)) == ["actes.matiere_manquante", "actes.nature_manquante"]
    assert {f.loc.line for f in actes_findings(fictif)} == {fictif.line_of(PHASE, "  numero: 2025-100")}


def test_nature_unknown_and_label_accepted(fictif):
    fictif.edit(PHASE, "    nature: 1\n", "    nature: 7\n")
    f = only(actes_findings(fictif), "actes.nature_inconnue")
    assert f.loc.line == fictif.line_of(PHASE, "    nature: 7")
    assert f.message.startswith("nature de l'acte « 7 » inconnue de @ctes ; attendu : 1 Délibérations ;")
    fictif.edit(PHASE, "    nature: 7\n", "    nature: délibérations\n")
    assert actes_findings(fictif) == []


@pytest.mark.parametrize("value", ["7,5", "75.1.2.3", "7.", "Subventions"])
def test_matiere_malformed(fictif, value):
    fictif.edit(PHASE, '    matiere: "7.5"\n', f'    matiere: "{value}"\n')
    f = only(actes_findings(fictif), "actes.matiere_format")
    assert f.loc.line == fictif.line_of(PHASE, "    matiere:")
    assert f.message.startswith(f"matière « {value} » : code @ctes attendu de la forme « 7 », « 7.5 » ou « 7.5.1 »")


def test_matiere_with_three_levels_passes(fictif):
    fictif.edit(PHASE, '    matiere: "7.5"\n', '    matiere: "7.10.2"\n')
    assert actes_findings(fictif) == []


# ---------------------------------------------------------------------------
# command line


def test_example_passes_check_actes():
    result = CliRunner().invoke(main, ["check", str(FIXTURES / "phase-6-2024"), "--actes"])
    assert result.exit_code == 0, result.output
    assert "[actes." not in result.output
    assert "0 erreur(s), 30 avertissement(s)" in result.stderr


def test_check_actes_fails_only_when_asked(fictif):
    fictif.edit(PHASE, '    matiere: "7.5"\n', '    matiere: "7,5"\n')
    assert CliRunner().invoke(main, ["check", str(fictif.root)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", str(fictif.root), "--actes"])
    assert result.exit_code == 1
    line = fictif.line_of(PHASE, "    matiere:")
    assert f"phase.yaml:{line}: ERROR: matière « 7,5 » : code @ctes attendu" in result.output
    assert "[actes.matiere_format]" in result.output


# ---------------------------------------------------------------------------
# transmitted PDFs


def test_transmitted_pdfs_are_the_act_its_rapport_and_annexes(fictif):
    d = pipeline.check(Settings(source=fictif.root)).dossier
    names = transmitted(d)
    assert names[:3] == ["01-rapport.pdf", "02-deliberation.pdf", "03-annexe-1-thematique-1.pdf"]
    assert all(n.endswith(".pdf") and "/" not in n for n in names)
    assert publish.SOMMAIRE_PDF not in names and publish.BUNDLE not in names


def test_encrypted_and_unreadable_pdfs(tmp_path):
    pdfs = {"01-rapport.pdf": pdf(), "02-deliberation.pdf": pdf(password="secret"),
            "03-annexe-1-x.pdf": b"%PDF-1.7\nnot really a PDF", "bundle.pdf": b"ignored: not transmitted"}
    names = ["01-rapport.pdf", "02-deliberation.pdf", "03-annexe-1-x.pdf"]
    findings = check_pdfs(pdfs, names, tmp_path)
    assert [f.code for f in findings] == ["actes.pdf_chiffre", "actes.pdf_illisible"]
    enc, bad = findings
    assert enc.loc == Loc(str(tmp_path / "02-deliberation.pdf")) and enc.severity is Severity.ERROR
    assert enc.message == ("02-deliberation.pdf : PDF chiffré (mot de passe ou restrictions d'usage) ; "
                           "@ctes refuse un PDF qu'il ne peut pas ouvrir")
    assert bad.loc == Loc(str(tmp_path / "03-annexe-1-x.pdf"))
    assert bad.message.startswith("03-annexe-1-x.pdf : PDF illisible (")
    assert check_pdfs({"01-rapport.pdf": pdf()}, ["01-rapport.pdf", "02-deliberation.pdf"])[0].code == \
        "actes.pdf_absent"


def test_size_limit(tmp_path):
    pdfs = {"01-rapport.pdf": pdf(1), "02-deliberation.pdf": pdf(3)}
    names = list(pdfs)
    total = sum(len(b) for b in pdfs.values())
    assert check_pdfs(pdfs, names, tmp_path, limit=total) == []  # at the limit: accepted
    (f,) = check_pdfs(pdfs, names, tmp_path, limit=total - 10)
    assert f.code == "actes.taille" and f.loc == Loc(str(tmp_path / "02-deliberation.pdf"))  # the heaviest
    assert f.message == (f"acte et annexes transmis à @ctes : 2 PDF, {number(total)} octets, au-delà de la "
                         f"limite de {number(total - 10)} octets : 10 octets de trop ; le plus lourd : "
                         f"02-deliberation.pdf, {number(len(pdfs['02-deliberation.pdf']))} octets")
    assert ACTES_MAX_BYTES == 150_000_000


def test_size_limit_in_megabytes():
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Subject": "x" * 1_300_000})
    buf = io.BytesIO()
    writer.write(buf)
    data = buf.getvalue()
    (f,) = check_pdfs({"02-deliberation.pdf": data}, ["02-deliberation.pdf"], limit=1_000_000)
    assert f.loc == Loc("02-deliberation.pdf")
    assert f.message == (f"acte et annexes transmis à @ctes : 1 PDF, 1,3 Mo ({number(len(data))} octets), au-delà "
                         f"de la limite de 1,0 Mo ({number(1_000_000)} octets) : {number(len(data) - 1_000_000)} "
                         f"octets de trop ; le plus lourd : 02-deliberation.pdf, 1,3 Mo ({number(len(data))} octets)")


@pytest.mark.libreoffice  # a PDF build: LibreOffice is started ahead
def test_final_build_refuses_an_encrypted_pdf_and_writes_nothing(fictif, tmp_path, monkeypatch):
    """The PDF pre-flight runs on the gathered files, before anything is written (no LibreOffice here)."""
    def fake_publish(checked, files, *args, **kwargs):
        names = transmitted(checked.dossier)
        pdfs = {n: pdf(password="x") if n == "02-deliberation.pdf" else pdf() for n in names}
        return pdfs, {n: "0" for n in names}

    monkeypatch.setattr(publish, "publish_pdfs", fake_publish)
    out = tmp_path / "out"
    built = pipeline.build(Settings(source=fictif.root, out_dir=out, final=True, pdf=True,
                                    templates=adopted_templates(tmp_path)))
    assert not built.written and not out.exists()
    f = only(built.checked.findings, "actes.pdf_chiffre")
    assert f.loc == Loc(str(out / "02-deliberation.pdf"))


@pytest.mark.libreoffice
def test_final_build_of_fictif_with_pdf_passes(tmp_path):
    """One real LibreOffice build: every transmitted PDF opens, none is encrypted, the total is far under 150 Mo."""
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(FIXTURES / "fictif"), "-o", str(out), "--final",
                                       "--modeles", str(adopted_templates(tmp_path))])
    assert result.exit_code == 0, result.output
    assert "[actes." not in result.output
    d = pipeline.check(Settings(source=FIXTURES / "fictif")).dossier
    names = transmitted(d)
    pdfs = {n: (out / n).read_bytes() for n in names}
    assert check_pdfs(pdfs, names, out) == []
    assert len(PdfReader(out / "02-deliberation.pdf").pages) >= 1
    assert sum(len(b) for b in pdfs.values()) < ACTES_MAX_BYTES
