"""The numbered bundle in PDF: page counts, merged dossier, manifest, reproducible and atomic (issue 5)."""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SOFFICE, files_of, needs_lo
from pypdf import PdfReader

from deliberation import pipeline
from deliberation.cli import main
from deliberation.render.inspect import typed
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def pdf_text(data: bytes) -> list[str]:
    return [typed(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    if not SOFFICE:
        pytest.skip("LibreOffice absent")
    out = tmp_path_factory.mktemp("pdf") / "out"
    result = pipeline.build(Settings(source=ROOT / "fixtures" / "phase-6-2024", out_dir=out, pdf=True))
    assert result.written
    return out


@pytest.mark.libreoffice
@needs_lo
def test_every_document_has_its_pdf_and_states_its_real_page_count(bundle):
    docx = sorted(bundle.rglob("*.docx"))
    assert len(docx) == 12 + 22
    for p in docx:
        pdf = p.with_suffix(".pdf")
        assert pdf.is_file(), p
        pages = pdf_text(pdf.read_bytes())
        text = "\n".join(pages)
        stated = re.findall(r"Ce document comprend (\d+) pages", text)
        if "actes" in p.parts or "-avenant-" in p.name:
            assert stated == [str(len(pages))], (p.name, stated, len(pages))
    pdc = pdf_text((bundle / "actes" / "pas-de-calais-actif" / "avenant-2024-01213.pdf").read_bytes())
    assert "338 226,74 €" in "\n".join(pdc) and "79 850,00 €" in "\n".join(pdc)


@pytest.mark.libreoffice
@needs_lo
def test_merged_dossier_has_sommaire_bookmarks_labels_and_stamps(bundle):
    reader = PdfReader(io.BytesIO((bundle / "bundle.pdf").read_bytes()))
    numbered = sorted(p for p in bundle.glob("[0-9][0-9]-*.pdf") if p.name != "00-sommaire.pdf")
    assert len(PdfReader(str(bundle / "00-sommaire.pdf")).pages) == 2  # kept for rebuilds
    counts = [len(PdfReader(str(p)).pages) for p in numbered]
    assert len(reader.pages) == 2 + sum(counts)
    # the page label is the dossier's page number, printed « N/M » on every page (issue 19)
    assert reader.page_labels == [str(n) for n in range(1, len(reader.pages) + 1)]
    # one bookmark per document, annexes nested; each points at the page the sommaire gives
    top = [x for x in reader.outline if not isinstance(x, list)]
    nested = next(x for x in reader.outline if isinstance(x, list))
    assert [x.title for x in top] == ["Sommaire", "Rapport", "Délibération", "Annexes"]
    assert [x.title for x in nested][:1] == ["Annexe 1 – Thématique 1"] and len(nested) == 10
    sommaire = typed(reader.pages[1].extract_text())
    expected_page = 3
    for item, n in zip([*top[1:3], *nested], counts, strict=True):
        assert reader.get_destination_page_number(item) + 1 == expected_page
        assert f"{item.title} {expected_page}" in sommaire
        expected_page += n
    # the stamp at the foot of every page after the front matter, page i of n within its document
    for i, page in enumerate(reader.pages[2:], 3):
        text = typed(page.extract_text())
        assert re.search(r"Délibération n°2024-587( — (Rapport n°36|Annexe \d+))? — page \d+/\d+", text), i
    annex5 = typed(reader.pages[16].extract_text())
    assert "Délibération n°2024-587 — Annexe 5 — page 1/" in annex5


@pytest.mark.libreoffice
@needs_lo
def test_manifest_lists_outputs_and_inputs_with_their_hashes(bundle):
    data = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    files = files_of(bundle)
    del files["manifest.json"]
    assert sorted(data["sorties"]) == sorted(files)
    for name, entry in data["sorties"].items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest()
        assert entry["octets"] == len(files[name])
    assert data["sorties"]["bundle.pdf"]["pages"] == len(PdfReader(str(bundle / "bundle.pdf")).pages)
    # 7 pages before issue 23; the sheet's conditions are now on a page of their own, its description after
    assert data["sorties"]["actes/pas-de-calais-actif/avenant-2024-01213.docx"]["pages"] == 8
    entrees = data["entrees"]
    for name in ("dossier/structures.yaml", "dossier/thematiques/t1.yaml", "templates/avenant.docx",
                 "templates/clauses/cout.md", "annexes/dispositifs/1.7-activite-independante.md"):
        assert name in entrees, name
    assert entrees["dossier/structures.yaml"] == hashlib.sha256(
        (ROOT / "fixtures" / "phase-6-2024" / "structures.yaml").read_bytes()).hexdigest()
    assert data["options"] == {"final": False, "pdf": True, "pdfa": False, "strict": False}
    assert data["date"] == "2024-12-09" and data["moteur"]["nom"] == "deliberation"
    text = (bundle / "manifest.json").read_text(encoding="utf-8")
    assert str(ROOT) not in text and "/tmp" not in text


@pytest.mark.libreoffice
@needs_lo
def test_two_builds_give_identical_bytes_pdf_included(tmp_path):
    fictif = ROOT / "fixtures" / "fictif"
    a, b = tmp_path / "a", tmp_path / "b"
    assert pipeline.build(Settings(source=fictif, out_dir=a, pdf=True)).written
    assert pipeline.build(Settings(source=fictif, out_dir=b, pdf=True, jobs=1)).written
    fa, fb = files_of(a), files_of(b)  # 10 documents, the sommaire, bundle.pdf, the register, actes.pdf: 14 PDFs
    assert sorted(fa) == sorted(fb) and len([n for n in fa if n.endswith(".pdf")]) == 14
    assert [n for n in fa if fa[n] != fb[n]] == []


@pytest.mark.libreoffice
@needs_lo
def test_pdfa_is_declared_and_reproducible(tmp_path):
    fictif = ROOT / "fixtures" / "fictif"
    outs = []
    for name in ("a", "b"):
        out = tmp_path / name
        assert pipeline.build(Settings(source=fictif, out_dir=out, pdf=True, pdfa=True)).written
        outs.append(out)
    data = (outs[0] / "02-deliberation.pdf").read_bytes()
    reader = PdfReader(io.BytesIO(data))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "2025-03-10T00:00:00Z" in xmp
    assert data == (outs[1] / "02-deliberation.pdf").read_bytes()
    # a draft's « PROJET » (issue 19): under PDF/A, LibreOffice draws the Word watermark, every font embedded
    for page in reader.pages:
        assert "PROJET" in page.extract_text()
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            assert "/FontDescriptor" in font or "/DescendantFonts" in font, font
    manifest = json.loads((outs[0] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["pdfa"] is True


def test_missing_libreoffice_is_said_and_no_pdf_builds_word_alone(tmp_path, monkeypatch):
    out = tmp_path / "out"
    fictif = str(ROOT / "fixtures" / "fictif")
    assert CliRunner().invoke(main, ["build", fictif, "-o", str(out), "--sans-pdf"]).exit_code == 0
    before = files_of(out)
    assert before and not [n for n in before if n.endswith(".pdf")]
    monkeypatch.setenv("DELIBERATION_SOFFICE", "")
    result = CliRunner().invoke(main, ["build", fictif, "-o", str(out)])
    assert result.exit_code == 3
    assert "LibreOffice introuvable" in result.output and "--sans-pdf" in result.output
    assert files_of(out) == before  # the previous bundle is untouched
    assert not list(tmp_path.glob(".out.*"))


def test_act_file_names_are_safe(fictif, tmp_path):
    fictif.edit("structures.yaml", "nom: Association Alpha", 'nom: "../../etc/passwd: CON*?<>|"')
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif.root, out_dir=out)).written
    folders = sorted(p.name for p in (out / "actes").iterdir() if p.is_dir())  # the register is a file
    assert folders == ["beta-emploi", "ccas-de-gamma", "etc-passwd-con"]
    assert all(out in p.resolve().parents for p in out.rglob("*"))
    assert not (tmp_path / "etc").exists()


def test_build_killed_between_the_two_renames_is_recovered(tmp_path):
    from deliberation.bundle.write import recover

    fictif = ROOT / "fixtures" / "fictif"
    out = tmp_path / "out"
    assert pipeline.build(Settings(source=fictif, out_dir=out)).written
    before = files_of(out)
    # the worst moment: the old bundle moved aside, the new one not yet in place, a half-written temp folder
    out.rename(tmp_path / ".out.old-abc12345")
    partial = tmp_path / ".out.tmp-def_6789"
    partial.mkdir()
    (partial / "01-rapport.docx").write_bytes(b"PK half")
    recover(out)
    assert files_of(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.slow
def test_sigkill_mid_build_leaves_the_previous_bundle_and_the_next_build_succeeds(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    source = ROOT / "fixtures" / "phase-6-2024"
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "deliberation", "build", str(source), "-o", str(out), "--sans-pdf"]
    assert subprocess.run(cmd, capture_output=True, cwd=ROOT).returncode == 0
    before = files_of(out)
    for delay in (0.5, 1.5, 3.0):
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        if out.exists():
            assert files_of(out) == before
    assert subprocess.run(cmd, capture_output=True, cwd=ROOT).returncode == 0
    assert files_of(out) == before  # same dossier, same bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.mark.libreoffice
@needs_lo
def test_documents_beyond_one_launcher_batch_are_all_converted(monkeypatch):
    from deliberation.bundle import pdf
    from deliberation.render.documents import render_documents

    checked = pipeline.check(Settings(source=ROOT / "fixtures" / "fictif"))
    docx = {n: b for n, b in render_documents(checked).items() if n.endswith(".docx")}
    monkeypatch.setattr(pdf, "MAX_FILES_PER_BATCH", 2)  # as if LibreOffice's launcher took 2 files at most
    out = pdf.convert(docx, pdf.ConvertOptions(jobs=2))
    assert sorted(out) == sorted(n[:-5] + ".pdf" for n in docx) and len(out) == 10
    assert all(pdf.page_count(data) >= 1 for data in out.values())


# -- LibreOffice kept warm (pdf.Office) -------------------------------------------------------------------------

def _converters_in(folder: Path) -> list[int]:
    from deliberation.bundle.write import processes_naming

    return processes_naming([folder, folder.as_uri()])


@pytest.fixture(scope="module")
def fictif_docx():
    from deliberation.render.documents import render_documents

    checked = pipeline.check(Settings(source=ROOT / "fixtures" / "fictif"))
    return {n: b for n, b in render_documents(checked).items() if n.endswith(".docx")}


@pytest.mark.libreoffice
@needs_lo
def test_a_warm_libreoffice_converts_and_gives_the_bytes_of_a_cold_one(fictif_docx, tmp_path):
    """Verify that LibreOffice started ahead listens on the pipe we expect, takes the batch, and that
    the PDFs (normalised) are those of LibreOffice started for the batch; nothing is left running."""
    import datetime as dt

    from deliberation.bundle import pdf

    when = dt.datetime(2024, 12, 9, tzinfo=dt.UTC)
    docs = dict(sorted(fictif_docx.items())[:3])
    cold = pdf.convert(docs, pdf.ConvertOptions(jobs=1, scratch=tmp_path))
    opts = pdf.ConvertOptions(jobs=2, scratch=tmp_path)
    with pdf.Office(2, opts) as office:
        assert len(office.profiles) == 2 and _converters_in(office.root)
        taken = []
        real_take = office.take

        def take(profile):
            taken.append(real_take(profile))
            return taken[-1]

        office.take = take
        warm = pdf.convert(docs, pdf.ConvertOptions(jobs=2, scratch=tmp_path, office=office))
        root = office.root
    assert taken == [True, True]  # both started ahead take a share of the 3 documents
    assert sorted(warm) == sorted(cold)
    for name in cold:
        assert pdf.normalise_pdf(warm[name], when) == pdf.normalise_pdf(cold[name], when), name
    assert not root.exists() and not _converters_in(root)
    assert not any(p.exists() for k in range(2) for p in pdf.ipc_pipes(root / f"warm-{k}"))


@pytest.mark.libreoffice
@needs_lo
def test_a_warm_libreoffice_that_died_is_replaced_by_one_started_for_the_batch(fictif_docx, tmp_path):
    import os
    import signal

    from deliberation.bundle import pdf

    docs = dict(sorted(fictif_docx.items())[:2])
    opts = pdf.ConvertOptions(jobs=1, scratch=tmp_path)
    with pdf.Office(1, opts) as office:
        os.killpg(office._procs[office.profiles[0]].pid, signal.SIGKILL)
        out = pdf.convert(docs, pdf.ConvertOptions(jobs=1, scratch=tmp_path, office=office))
        assert office.profiles == []
    assert sorted(out) == sorted(n[:-5] + ".pdf" for n in docs)
    assert all(pdf.page_count(data) >= 1 for data in out.values())
    assert list(tmp_path.iterdir()) == []


def test_nothing_is_started_ahead_without_a_libreoffice_installation(tmp_path, monkeypatch):
    """A program named soffice that is not LibreOffice (no versionrc beside it) is never run ahead."""
    from deliberation.bundle import pdf

    fake = tmp_path / "bin" / "soffice"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\ntouch {tmp_path}/ran\n")
    fake.chmod(0o755)
    monkeypatch.setenv("DELIBERATION_SOFFICE", str(fake))
    with pdf.Office(2, pdf.ConvertOptions(scratch=tmp_path)) as office:
        assert office.profiles == []
    assert not (tmp_path / "ran").exists()


@pytest.mark.libreoffice
@needs_lo
def test_an_interrupted_build_leaves_no_warm_libreoffice(tmp_path):
    """SIGTERM while LibreOffice started ahead converts: exit 130, no LibreOffice left, no scratch."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "deliberation", "build", str(ROOT / "fixtures" / "fictif"),
                             "-o", str(out)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    scratch: list[Path] = []
    while time.monotonic() < deadline and proc.poll() is None:
        scratch = list(tmp_path.glob(".out.tmp-pdf-*"))
        if scratch and _converters_in(scratch[0]):
            break
        time.sleep(0.02)
    assert scratch and proc.poll() is None
    seen = _converters_in(scratch[0])
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    time.sleep(0.2)
    left = [p for p in seen if Path(f"/proc/{p}").exists()]
    assert not [p for p in left if b"soffice" in Path(f"/proc/{p}/cmdline").read_bytes()]
    assert not _converters_in(scratch[0]) and list(tmp_path.iterdir()) == []


@pytest.mark.libreoffice
@needs_lo
def test_libreoffice_started_ahead_is_stopped_when_nothing_is_to_convert(tmp_path, monkeypatch):
    from deliberation.bundle import pdf, publish

    started: list[int] = []
    offices: list = []
    converted: list[list[str]] = []

    class Recorded(pdf.Office):
        def __init__(self, count, opts):
            started.append(count)
            offices.append(self)
            super().__init__(count, opts)

    real_convert = publish.convert

    def convert(docs, opts=None):
        converted.append(sorted(docs))
        return real_convert(docs, opts)

    monkeypatch.setattr(pdf, "Office", Recorded)
    monkeypatch.setattr(publish, "convert", convert)
    monkeypatch.setenv("DELIBERATION_CACHE", str(tmp_path / "cache"))  # no page break remembered yet
    out = tmp_path / "out"
    settings = Settings(source=ROOT / "fixtures" / "fictif", out_dir=out, pdf=True)
    assert pipeline.build(settings).written
    # -j 2 while checking; the documents, then fictif's two avenant models again (LibreOffice had left their
    # « Article 3 » at the foot of page 1: bundle/keep.py), then the sommaire
    assert started == [2] and len(converted) == 3
    assert converted[1] == ["06-annexe-4-avenant-accueil.docx", "07-annexe-5-avenant-valorisation.docx"]
    again = pipeline.build(settings)
    assert again.unchanged and started == [2, 1]  # a bundle with PDFs there: one while checking…
    assert len(converted) == 3  # … stopped once the plan showed nothing to convert
    assert not offices[-1]._procs and not offices[-1].root.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cache", "out"]
    # elsewhere, the same dossier: the page breaks found for the two models are put in at once
    other = tmp_path / "other"
    assert pipeline.build(Settings(source=ROOT / "fixtures" / "fictif", out_dir=other, pdf=True)).written
    assert len(converted) == 5 and "06-annexe-4-avenant-accueil.docx" in converted[3]  # documents, sommaire
    for pdf_file in out.rglob("*.pdf"):  # the same PDFs as after a second conversion
        assert (other / pdf_file.relative_to(out)).read_bytes() == pdf_file.read_bytes(), pdf_file


@pytest.mark.libreoffice
@needs_lo
def test_pdfs_normalised_over_the_cores_are_those_normalised_one_by_one(bundle, monkeypatch):
    import datetime as dt

    from deliberation.bundle import pdf

    raw = {str(p.relative_to(bundle)): p.read_bytes() for p in sorted(bundle.rglob("*.pdf"))}
    when = dt.datetime(2025, 1, 2, tzinfo=dt.UTC)  # another date than the build's: every PDF is rewritten
    titles = {n: Path(n).stem for n in raw}
    one = {n: pdf.normalise_pdf(data, when, titles[n]) for n, data in raw.items()}
    monkeypatch.setattr(pdf, "NORMALISE_PARALLEL_FROM", 1)
    many = pdf.normalise_many(raw, when, titles, jobs=2)
    assert many == one and len(many) == len(raw) > 30
    assert all(b"20250102000000" in data for data in many.values())  # pypdf writes « D\\07220250102… »
    pdf._PAGES.clear()
    again = pdf.normalise_many(raw, when, titles, jobs=2)
    assert [pdf.page_count(again[n]) for n in sorted(raw)] == [len(PdfReader(io.BytesIO(raw[n])).pages)
                                                               for n in sorted(raw)]


@pytest.mark.libreoffice
@needs_lo
def test_a_signal_while_libreoffice_starts_leaves_nothing_running(tmp_path, monkeypatch):
    """Ctrl-C right after the second LibreOffice is spawned, before it is recorded: both are killed."""
    import subprocess

    from deliberation.bundle import pdf

    real = subprocess.Popen
    spawned: list = []

    def popen(*args, **kwargs):
        spawned.append(real(*args, **kwargs))
        if len(spawned) == 2:
            raise KeyboardInterrupt
        return spawned[-1]

    monkeypatch.setattr(pdf.subprocess, "Popen", popen)
    with pytest.raises(KeyboardInterrupt):
        pdf.Office(2, pdf.ConvertOptions(scratch=tmp_path))
    assert len(spawned) == 2
    for proc in spawned:
        assert proc.wait(timeout=10) is not None
    assert list(tmp_path.iterdir()) == []
