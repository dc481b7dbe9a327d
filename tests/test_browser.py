"""The workbench in a real browser: Debian's chromium driven by Playwright (``make chromium``).

Each test serves a copy of the example and of its built bundle (``built_example``) with uvicorn on a free
local port, and reads what a person would see; screenshots go to ``build/atelier/``.
"""

from __future__ import annotations

import io
import re
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT, tree_state
from openpyxl import load_workbook

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [pytest.mark.browser, pytest.mark.libreoffice,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium absent (make chromium)")]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = ROOT / "build" / "atelier"


def plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


@pytest.fixture
def served(built_example, tmp_path):
    """A copy of the example and of its bundle, served on 127.0.0.1; yields (address, dossier, build folder)."""
    import uvicorn

    from deliberation.web.app import create_app

    dossier = tmp_path / "phase-6-2024"
    shutil.copytree(FIXTURES / "phase-6-2024", dossier)
    out = tmp_path / "build"
    shutil.copytree(built_example, out)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(dossier, out), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", dossier, out
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        pg = browser.new_page(viewport={"width": 1360, "height": 900}, locale="fr-FR")
        yield pg
        browser.close()


def test_phase_page_figures_and_a_finding_source(served, page):
    """Verify the phase page shows the budget control with the example's figures, and a finding opens its line."""
    address, dossier, _ = served
    before = tree_state(dossier)
    page.goto(address + "/")
    row = page.locator("#budget tbody tr", has_text="C02-446A05")
    cells = [plain(c) for c in row.locator("td").all_inner_texts()]
    assert cells[4] == "712 000,00 €"  # the proposition of the rapport's budget line
    assert plain(page.inner_text("#total-phase")) == "871 198,00 €"
    assert "Thématique 1" in page.inner_text("#thematiques")
    page.screenshot(path=str(SHOTS / "phase.png"), full_page=True)
    group = page.locator("details.finding", has_text="dispositif.ratio")
    group.locator("summary").click()
    group.locator("a.loc", has_text="thematiques/t1.yaml:221").click()
    page.wait_for_url(re.compile(r"/source\?fichier=thematiques/t1\.yaml&ligne=221"))
    target = page.locator("span.cible")
    assert target.get_attribute("id") == "l221" and "etp:" in target.inner_text() or target.count() == 1
    assert page.locator("span.proche").count() == 4
    page.screenshot(path=str(SHOTS / "source.png"))
    for url in ("/documents", "/actes", "/actes/16", "/documents/bundle.pdf"):
        page.goto(address + url)
        assert page.locator("h1").count() == 1
    page.goto(address + "/actes")
    assert page.locator("#registre tbody tr").count() == 22
    page.screenshot(path=str(SHOTS / "registre.png"), full_page=True)
    page.goto(address + "/documents")
    page.screenshot(path=str(SHOTS / "documents.png"))
    assert tree_state(dossier) == before


def amended_workbook(amounts: dict[str, int]) -> bytes:
    """The example's annexe 4 with some lines' amounts changed."""
    wb = load_workbook(FIXTURES / "xlsx" / "phase-6-2024-annexe-4.xlsx")
    ws = wb.active
    header = [c.value for c in ws[1]]
    col_id, col_m = header.index("Ligne") + 1, next(i for i, h in enumerate(header, 1) if h and "Montant" in h)
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, col_id).value in amounts:
            ws.cell(r, col_m).value = amounts[ws.cell(r, col_id).value]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_excel_upload_apply_rebuild_and_tracked_changes(served, page, tmp_path):
    """Verify: upload an amended annexe 4, preview, apply, watch the rebuild reach 100 %, see the act's changes."""
    address, dossier, out = served
    workbook = tmp_path / "annexe-4-amendee.xlsx"
    # 1 000 € moved from one PLIE line to another: the operation's announced total is kept
    workbook.write_bytes(amended_workbook({"t1-o2-mempa-ple": 52700, "t1-o2-pbi-ple": 82900}))
    page.goto(address + "/excel")
    page.set_input_files("input[name=classeur]", str(workbook))
    page.click("#envoi button")
    page.wait_for_selector("#apercu")
    edits = page.locator("#valeurs tbody tr")
    assert edits.count() == 2
    assert [plain(t) for t in edits.first.locator("td").all_inner_texts()][1:] == [
        "t1-o2-mempa-ple", "montant", "53 700,00 €", "52 700,00 €"]
    assert "MEMPA" in page.inner_text("#chiffres")
    assert "aurait 0 erreur(s)" in page.inner_text("#apercu")
    page.screenshot(path=str(SHOTS / "excel.png"), full_page=True)
    page.click("#appliquer button")
    page.wait_for_selector("#production")
    page.wait_for_function("document.querySelector('#pourcent').textContent.trim() === '100 %'", timeout=120_000)
    page.wait_for_url(re.compile(r"fait=\d+"), timeout=30_000)  # the page reloads once the production is over
    message = page.inner_text("#issue")
    assert page.locator("#issue.ok").count() == 1, message
    assert "version 2 produite" in message and "31 inchangé(s)" in message
    converted = int(re.search(r"(\d+) PDF converti", message).group(1))
    assert 0 < converted < 10  # the incremental path: only the changed documents (of 35) are converted again
    page.screenshot(path=str(SHOTS / "production.png"))
    assert '"52 700,00"' in (dossier / "thematiques" / "t1.yaml").read_text(encoding="utf-8")
    page.goto(address + "/actes?q=PLIE")
    page.locator("#registre tbody tr", has_text="MEMPA").locator("a").click()
    assert plain(page.inner_text("#montant-acte")) == "52 700,00 €"
    suivi = page.locator("#suivi")
    assert any("53 700" in plain(t) for t in suivi.locator("del").all_inner_texts())
    assert any("52 700" in plain(t) for t in suivi.locator("ins").all_inner_texts())
    page.screenshot(path=str(SHOTS / "acte.png"), full_page=True)
    assert (out / "revisions" / "actes" / "mempa" / "avenant-plie.docx").is_file()


def test_record_an_amendment_through_the_form(served, page):
    """Verify the amendment form writes amendements.yaml, rebuilds and shows CHANGES.md with the new figure."""
    address, dossier, _ = served
    page.goto(address + "/amendements")
    page.select_option("select[name=cible]", "ligne")
    page.fill("input[name=cle]", "t1-o2-mempa-ple")
    page.fill("input[name=montant]", "50 000,00")
    page.fill("input[name=objet]", "Réduction du financement de la MEMPA")
    page.click("#amendement button")
    page.wait_for_selector("#enregistre")
    page.wait_for_url(re.compile(r"fait=\d+"), timeout=120_000)  # reloaded once the production is over
    assert page.locator("#issue.ok").count() == 1, page.inner_text("#issue")
    text = (dossier / "amendements.yaml").read_text(encoding="utf-8")
    assert 'objet: "Réduction du financement de la MEMPA"' in text and 'montant: "50 000,00"' in text
    changes = plain(page.inner_text("#changes"))
    assert "Version 2" in changes and "50 000,00 €" in changes
    assert "n°1 : Réduction du financement de la MEMPA" in changes
    page.screenshot(path=str(SHOTS / "amendements.png"), full_page=True)
