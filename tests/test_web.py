"""The workbench's routes (``deliberation serve``), through Starlette's test client: pages, figures, safety."""

from __future__ import annotations

import html as htmllib
import io
import os
import re
import shutil
import subprocess
import sys
import time

import pytest
from conftest import FIXTURES, ROOT, tree_state
from openpyxl import load_workbook
from starlette.testclient import TestClient

from deliberation import pipeline
from deliberation.settings import Settings
from deliberation.web.app import MAX_UPLOAD, create_app

XLSX = FIXTURES / "xlsx" / "phase-6-2024-annexe-4.xlsx"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A copy of the example built Word-only, and a client of the workbench over it."""
    root = tmp_path_factory.mktemp("web")
    dossier = root / "phase-6-2024"
    shutil.copytree(FIXTURES / "phase-6-2024", dossier)
    out = root / "build"
    assert pipeline.build(Settings(source=dossier, out_dir=out)).written
    app = create_app(dossier, out, pdf=False)
    return dossier, out, app, TestClient(app)


def fresh_client(tmp_path, fixture: str = "phase-6-2024"):
    """A writable copy of ``fixture`` (``tmp_path/phase``), its build folder (``tmp_path/out``) and a client on both."""
    dossier, out = tmp_path / "phase", tmp_path / "out"
    shutil.copytree(FIXTURES / fixture, dossier)
    return dossier, out, TestClient(create_app(dossier, out, pdf=False))


def csrf(client: TestClient) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)


def plain(text: str) -> str:
    """Text with its no-break spaces as spaces."""
    return htmllib.unescape(text).replace("\u202f", " ").replace("\u00a0", " ")


def cells(html: str, table_id: str) -> list[list[str]]:
    body = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)]
            for r in rows]


def test_phase_page_shows_the_budget_control_and_findings(site):
    """Verify the phase page prints each budget line's AE, disponible, proposition and solde as compute does."""
    dossier, _, _, client = site
    before = tree_state(dossier)
    html = client.get("/").text
    checked = pipeline.check(Settings(source=dossier))
    rows = {r[0]: r for r in cells(html, "budget")[1:]}
    from deliberation import fmt

    for code, b in checked.figures.budget.items():
        assert rows[code][2:] == [fmt.money(b.ligne.ae), fmt.money(b.ligne.disponible), fmt.money(b.proposition),
                                  fmt.money(b.solde)]
    assert plain(rows["C02-446A05"][4]) == "712 000,00 €"
    assert "acte.modele_divergent" in html and "dispositif.ratio" in html
    assert 'href="/source?fichier=thematiques/t1.yaml&amp;ligne=221#l221"' in html  # the ratio finding's line
    assert "Version <strong id=\"version\">1</strong>" in html
    assert tree_state(dossier) == before  # reading changes nothing


def test_source_page_highlights_the_line(site):
    """Verify the source page marks the finding's line and its neighbours."""
    html = site[3].get("/source?fichier=thematiques/t1.yaml&ligne=221").text
    assert re.search(r'<span id="l221" class="cible"><i>221</i>', html)
    assert '<span id="l220" class="proche">' in html and '<span id="l223" class="proche">' in html


@pytest.mark.parametrize("url", ["/fichiers/../phase.yaml", "/fichiers/%2e%2e/phase.yaml", "/fichiers//etc/passwd",
                                 "/fichiers/%2Fetc%2Fpasswd", "/fichiers/actes/../../phase-6-2024/phase.yaml",
                                 "/fichiers/.deliberation-journal.json", "/source?fichier=../build/manifest.json",
                                 "/source?fichier=/etc/passwd", "/documents/../phase.yaml"])
def test_traversal_is_refused(site, url):
    """Verify a download outside the build folder (``..``, absolute path) gets 404 with a French message."""
    r = site[3].get(url)
    assert r.status_code == 404
    assert "introuvable" in r.text


def test_downloads_come_from_the_build_folder(site):
    """Verify a listed file downloads with its bytes, and the zip holds the whole bundle."""
    _, out, _, client = site
    r = client.get("/fichiers/actes/registre.xlsx")
    assert r.status_code == 200 and r.content == (out / "actes" / "registre.xlsx").read_bytes()
    z = client.get("/telecharger/bundle.zip")
    import zipfile

    names = zipfile.ZipFile(io.BytesIO(z.content)).namelist()
    assert "build/manifest.json" in names and "build/actes/registre.xlsx" in names


def test_register_page_lists_acts_sorted_and_filtered(site):
    """Verify the register page: 22 acts, sorted by amount, filtered by status and text."""
    client = site[3]
    rows = cells(client.get("/actes").text, "registre")[1:]
    assert len(rows) == 22
    by_amount = cells(client.get("/actes?tri=montant&ordre=desc").text, "registre")[1:]
    assert by_amount[0][1] == "MEILL HC" and plain(by_amount[0][6]) == "175 050,00 €"
    assert cells(client.get("/actes?statut=complet").text, "registre")[1:] == []
    assert [r[1] for r in cells(client.get("/actes?q=actif").text, "registre")[1:]] == ["Pas-de-Calais Actif"]
    nc = cells(client.get("/actes?conformite=non+conforme").text, "registre")[1:]
    assert len(nc) == 4


def test_act_page_shows_review_and_model_diff(site):
    """Verify an act page: the rules that included each article with the data read, and the diff to its model."""
    html = site[3].get("/actes/1").text  # MEMPA's avenant, non conforme to avenant-5 + avenant-8
    assert "<code>fiches-jointes</code>" in html and "annexe 2 : fiche" in html
    assert "Écarts avec le modèle voté" in html and "<del>" in html
    assert re.search(r'href="/source\?fichier=structures.yaml&amp;ligne=\d+#l\d+"', html)
    pdc = site[3].get("/actes/16").text
    assert "Conforme : seuls les 10 blanc(s) déclaré(s) diffèrent" in pdc
    assert site[3].get("/actes/23").status_code == 404


def test_missing_or_wrong_csrf_is_refused(site):
    """Verify every form post without the CSRF token is refused (403) and writes nothing."""
    dossier, _, _, client = site
    before = tree_state(dossier)
    for url, data in (("/produire", {}), ("/amendements", {"cible": "ligne", "cle": "t1-o3-pdc-actif",
                                                           "montant": "1,00", "objet": "x", "date": "09/12/2024"}),
                      ("/excel/appliquer", {"classeur": "x"})):
        for token in (None, "faux"):
            r = client.post(url, data={**data, **({"csrf": token} if token else {})})
            assert r.status_code == 403 and "jeton CSRF absent ou invalide" in r.text
    r = client.post("/excel", data={}, files={"classeur": ("a.xlsx", XLSX.read_bytes())})
    assert r.status_code == 403
    assert tree_state(dossier) == before


def test_uploads_are_checked(site):
    """Verify an upload over 20 Mo, a file that is not a workbook and a renamed zip are refused in French."""
    client = site[3]
    token = csrf(client)
    oversized = b"PK\x03\x04" + b"0" * MAX_UPLOAD
    big = client.post("/excel", data={"csrf": token}, files={"classeur": ("gros.xlsx", oversized)})
    assert big.status_code == 413 and "plus de 20 Mo" in big.text
    fake = client.post("/excel", data={"csrf": token}, files={"classeur": ("faux.xlsx", b"%PDF-1.7 pas un classeur")})
    assert fake.status_code == 415 and "n'est pas un classeur Excel .xlsx" in plain(fake.text)
    buf = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<x/>")
    zipped = client.post("/excel", data={"csrf": token}, files={"classeur": ("doc.xlsx", buf.getvalue())})
    assert zipped.status_code == 415
    named = client.post("/excel", data={"csrf": token}, files={"classeur": ("a.csv", XLSX.read_bytes())})
    assert named.status_code == 415


def test_excel_preview_then_apply(tmp_path):
    """Verify an amended annexe 4: the preview shows before → after and writes nothing; « Appliquer » writes it."""
    dossier, _, client = fresh_client(tmp_path)
    wb = load_workbook(XLSX)
    ws = wb.active
    header = [c.value for c in ws[1]]
    col_id, col_m = header.index("Ligne") + 1, next(i for i, h in enumerate(header, 1) if h and "Montant" in h)
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, col_id).value == "t1-o3-pdc-actif")
    ws.cell(row, col_m).value = 70000
    buf = io.BytesIO()
    wb.save(buf)
    before = tree_state(dossier)
    token = csrf(client)
    r = client.post("/excel", data={"csrf": token}, files={"classeur": ("annexe-4.xlsx", buf.getvalue())})
    assert r.status_code == 200
    edits = cells(r.text, "valeurs")[1:]
    assert len(edits) == 1 and edits[0][1] == "t1-o3-pdc-actif"
    assert [plain(x) for x in edits[0][3:]] == ["79 850,00 €", "70 000,00 €"]
    figures = {(row[1], row[2]): [plain(x) for x in row[3:]] for row in cells(r.text, "chiffres")[1:]}
    assert figures["C02-446A05 Indemnisation des organismes référents", "proposition"] == [
        "712 000,00 €", "702 150,00 €", "−9 850,00 €"]
    assert "Appliquer" in r.text and tree_state(dossier) == before
    key = re.search(r'name="classeur" value="([0-9a-f]+)"', r.text).group(1)
    applied = client.post("/excel/appliquer", data={"csrf": token, "classeur": key}, follow_redirects=False)
    assert applied.status_code == 303
    assert '"70 000,00"' in (dossier / "thematiques" / "t1.yaml").read_text(encoding="utf-8")
    wait_production(client)


def wait_production(client: TestClient, limit: float = 120) -> dict:
    end = time.monotonic() + limit
    while time.monotonic() < end:
        state = client.get("/produire/etat").json()
        if not state["running"]:
            return state
        time.sleep(0.1)
    raise AssertionError("production sans fin")


def test_amendment_form_writes_amendements_yaml(tmp_path):
    """Verify the form appends an amendment (comments kept), refuses an unknown target, and rebuilds."""
    dossier, _, client = fresh_client(tmp_path, "phase-6-2024-amended")
    token = csrf(client)
    before = (dossier / "amendements.yaml").read_text(encoding="utf-8")
    bad = client.post("/amendements", data={"csrf": token, "cible": "ligne", "cle": "t1-inconnue", "montant": "1,00",
                                            "objet": "Essai", "date": "09/12/2024"})
    assert "ligne inconnue « t1-inconnue »" in bad.text and "[amendement.cible_inconnue]" in bad.text
    assert (dossier / "amendements.yaml").read_text(encoding="utf-8") == before
    ok = client.post("/amendements", data={"csrf": token, "cible": "ligne", "cle": "t1-o2-mempa-ple",
                                           "montant": "50 000,00", "objet": "Réduction MEMPA", "date": "09/12/2024"},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/amendements?enregistre=3"
    text = (dossier / "amendements.yaml").read_text(encoding="utf-8")
    assert text.startswith(before.rstrip("\n")) and "# FICTIFS" in text
    assert 'numero: 3\n    date: 09/12/2024\n    objet: "Réduction MEMPA"' in text
    assert '- ligne: t1-o2-mempa-ple\n        montant: "50 000,00"' in text
    state = wait_production(client)
    assert state["ok"], state
    page = client.get("/amendements").text
    assert "Journal des versions" in page and "Réduction MEMPA" in page


def test_concurrent_productions_share_the_build_lock(tmp_path):
    """Verify a second « Produire » while one runs is told so, and a build held elsewhere is reported in French."""
    dossier, out, client = fresh_client(tmp_path)
    token = csrf(client)
    first = client.post("/produire", data={"csrf": token}, headers={"Accept": "application/json"})
    second = client.post("/produire", data={"csrf": token}, headers={"Accept": "application/json"})
    assert first.status_code == 202
    assert second.status_code == 409 and "une production est en cours" in second.json()["message"]
    assert wait_production(client)["ok"]
    holder = subprocess.Popen(  # another process (the command line) holds the output folder
        [sys.executable, "-c", "import sys, time; from pathlib import Path; from deliberation.bundle.lock import "
         "build_lock\nwith build_lock(Path(sys.argv[1])):\n    print('pris', flush=True); time.sleep(60)", str(out)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "pris"
        client.post("/produire", data={"csrf": token}, headers={"Accept": "application/json"})
        state = wait_production(client)
    finally:
        holder.kill()
        holder.wait()
    assert state["ok"] is False and "une autre production est en cours" in state["message"]
    assert "le jeu précédent est conservé" in state["message"]
    assert client.get("/fichiers/manifest.json").status_code == 200  # the previous bundle is still served


def test_failed_build_shows_its_findings(tmp_path):
    """Verify a dossier with errors: the production is refused with its findings, the previous bundle kept."""
    dossier, out, client = fresh_client(tmp_path)
    token = csrf(client)
    client.post("/produire", data={"csrf": token})
    assert wait_production(client)["ok"]
    path = dossier / "budget.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("C02-446A05", "C02-XXXX", 1), encoding="utf-8")
    client.post("/produire", data={"csrf": token})
    state = wait_production(client)
    assert state["ok"] is False and "le dossier a des erreurs" in state["message"]
    assert any("[ref." in e for e in state["errors"])
    assert client.get("/fichiers/manifest.json").status_code == 200  # the previous bundle still served
    assert "Version <strong id=\"version\">1</strong>" in client.get("/").text


def test_a_non_local_bind_needs_the_token(tmp_path):
    """Verify a token-protected workbench refuses a missing or wrong token (403, French) and accepts the right one."""
    app = create_app(FIXTURES / "phase-6-2024", tmp_path / "out", token="s3cret", pdf=False)
    client = TestClient(app)
    for r in (client.get("/"), client.get("/?jeton=faux"), client.get("/", headers={"X-Jeton": "faux"})):
        assert r.status_code == 403 and "Jeton d'accès requis" in r.text
    ok = client.get("/?jeton=s3cret")
    assert ok.status_code == 200 and "deliberation_jeton" in ok.headers["set-cookie"]
    assert client.get("/actes").status_code == 200  # the cookie carries it on
    from deliberation.web.app import serve

    with pytest.raises(ValueError, match="donnez un jeton d'accès"):
        serve(FIXTURES / "phase-6-2024", tmp_path / "out", host="0.0.0.0", token=None)


def test_serve_command_refuses_a_non_local_bind_without_token(monkeypatch):
    """Verify ``deliberation serve --host 0.0.0.0`` without a token stops with a French message (exit 2)."""
    from click.testing import CliRunner

    from deliberation.cli import main

    monkeypatch.delenv("DELIBERATION_JETON", raising=False)
    r = CliRunner().invoke(main, ["serve", str(FIXTURES / "phase-6-2024"), "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "donnez un jeton d'accès (--jeton ou la variable DELIBERATION_JETON)" in r.output


def test_nothing_in_the_dossier_changes_when_browsing(site):
    """Verify every reading page leaves the dossier byte for byte as it was."""
    dossier, _, _, client = site
    before = tree_state(dossier)
    for url in ("/", "/documents", "/actes", "/actes/5", "/amendements", "/excel", "/source?fichier=phase.yaml"):
        assert client.get(url).status_code == 200
    assert tree_state(dossier) == before
