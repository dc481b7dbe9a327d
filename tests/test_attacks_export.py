"""Attacks on the exports: `export scdl -o` aimed at what must not be replaced, formulas in CSV and XLSX cells."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import Dossier, slow_but

from deliberation import pipeline
from deliberation.opendata import BY_NAME, FIELDS, FREE_TEXT, SCHEMA, check_value, neutralise
from deliberation.settings import Settings
from deliberation.xlsx.export import workbook
from deliberation.xlsx.layout import ANNEXE4_COLUMNS, SHEET_ANNEXE4

TIMEOUT = 60  # seconds: an export that blocks (on a FIFO) fails instead of hanging the suite
FORMULAS = ["=cmd|' /C calc'!A0", "+1", "-1+2", "@SUM(A1)", "\tX", "\rX"]


def snapshot(root: Path) -> dict[str, tuple]:
    """Every entry under ``root``: regular files by SHA-256, links by target, folders and special files by kind."""
    out: dict[str, tuple] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            st = os.lstat(path)
            rel = str(path.relative_to(root))
            if stat.S_ISREG(st.st_mode):
                out[rel] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
            elif stat.S_ISLNK(st.st_mode):
                out[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ("dir",)
            else:  # a device, a FIFO: its kind only (never read)
                out[rel] = ("special", stat.S_IFMT(st.st_mode), st.st_rdev)
    return out


def export(dossier: Path, *args: str, cwd: Path | None = None, umask: int = 0o022) -> subprocess.CompletedProcess:
    """Run ``deliberation export scdl DOSSIER ARGS`` in a child process (its own umask, a timeout)."""
    return subprocess.run([sys.executable, "-m", "deliberation", "export", "scdl", str(dossier), *args],
                          capture_output=True, timeout=TIMEOUT, cwd=cwd, umask=umask, check=False)


def rows_of(data: bytes) -> list[dict[str, str]]:
    """The CSV read back with the csv module."""
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    assert tuple(reader.fieldnames) == FIELDS
    return list(reader)


def refused(run: subprocess.CompletedProcess, target: Path, why: str) -> None:
    """Assert the French refusal of ``target``: exit 3, ERREUR line, no traceback, nothing on stdout."""
    err = run.stderr.decode("utf-8")
    assert run.returncode == 3, err
    assert f"ERREUR (build) : écriture refusée : {target} : {why} (rien n'a été écrit)" in err
    assert "Traceback" not in err and run.stdout == b""


# ---------------------------------------------------------------------------
# item 2: -o aimed at what must not be replaced


@pytest.mark.slow
def test_output_on_existing_folder_is_refused(fictif: Dossier, tmp_path):
    """Verify that -o on a folder exits 3 with a French message and leaves the folder as it was."""
    target = tmp_path / "sortie.csv"
    target.mkdir()
    (target / "garde.txt").write_bytes(b"contenu")
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", str(target))
    refused(run, target, "c'est un dossier, pas un fichier")
    assert snapshot(tmp_path) == before


def test_output_on_symlink_is_refused(fictif: Dossier, tmp_path):
    """Verify that -o on a symbolic link is refused: the link and the file it points to are unchanged."""
    linked = tmp_path / "cible.csv"
    linked.write_bytes(b"ancien contenu\n")
    link = tmp_path / "lien.csv"
    link.symlink_to(linked)
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", str(link))
    refused(run, link, "c'est un lien symbolique (le fichier lié n'est pas modifié)")
    assert snapshot(tmp_path) == before
    assert link.is_symlink() and linked.read_bytes() == b"ancien contenu\n"


@pytest.mark.slow
def test_output_on_dangling_symlink_is_refused(fictif: Dossier, tmp_path):
    """Verify that a link to nothing is refused too: the file it names is not created."""
    link = tmp_path / "lien.csv"
    link.symlink_to(tmp_path / "absent.csv")
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", str(link))
    refused(run, link, "c'est un lien symbolique (le fichier lié n'est pas modifié)")
    assert snapshot(tmp_path) == before and not (tmp_path / "absent.csv").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFO on this system")
@pytest.mark.slow
def test_output_on_fifo_is_refused_without_hanging(fictif: Dossier, tmp_path):
    """Verify that -o on a FIFO is refused at once (never opened: no reader would block the export)."""
    fifo = tmp_path / "tube.csv"
    os.mkfifo(fifo)
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", str(fifo))  # raises TimeoutExpired if the export blocks
    refused(run, fifo, "ce n'est pas un fichier ordinaire (périphérique, tube ou socket)")
    assert snapshot(tmp_path) == before and stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="creating a device needs root")
@pytest.mark.slow
def test_output_on_device_is_refused(fictif: Dossier, tmp_path):
    """Verify that -o on a character device (as /dev/full, run as root) leaves it a device.

    The device is a private copy of /dev/null (major 1, minor 3) in the temporary folder, so that a
    regression cannot harm the system's own devices.
    """
    device = tmp_path / "full"
    os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", str(device))
    refused(run, device, "ce n'est pas un fichier ordinaire (périphérique, tube ou socket)")
    assert snapshot(tmp_path) == before
    st = os.lstat(device)
    assert stat.S_ISCHR(st.st_mode) and st.st_rdev == os.makedev(1, 3)


@pytest.mark.parametrize(("umask", "mode"), slow_but([(0o022, 0o644), (0o077, 0o600)], (0o022, 0o644)))
def test_new_file_mode_follows_umask(fictif: Dossier, tmp_path, umask, mode):
    """Verify that a new CSV gets the mode the umask gives (not always 0600)."""
    out = tmp_path / "subventions.csv"
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", str(out), umask=umask)
    assert run.returncode == 0, run.stderr.decode()
    assert "2 subvention(s) écrite(s) dans" in run.stderr.decode()
    assert stat.S_IMODE(os.stat(out).st_mode) == mode
    after = snapshot(tmp_path)
    assert after.pop("subventions.csv")[0] == "file" and after == before  # no temporary file left behind


@pytest.mark.slow
def test_existing_file_keeps_its_mode(fictif: Dossier, tmp_path):
    """Verify that an existing CSV is replaced with its own mode kept, whatever the umask."""
    out = tmp_path / "subventions.csv"
    out.write_bytes(b"ancien\n")
    out.chmod(0o640)
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", str(out), umask=0o077)
    assert run.returncode == 0, run.stderr.decode()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o640
    assert len(rows_of(out.read_bytes())) == 2
    after = snapshot(tmp_path)
    assert after.pop("subventions.csv") != before.pop("subventions.csv") and after == before


@pytest.mark.slow
def test_output_dash_is_standard_output(fictif: Dossier, tmp_path):
    """Verify that -o - writes the CSV on standard output and creates no file named « - »."""
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", "-", cwd=tmp_path)
    assert run.returncode == 0, run.stderr.decode()
    assert len(rows_of(run.stdout)) == 2
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------
# item 7: formulas in the CSV


def _shown(value: str) -> str:
    return value.replace("\t", "\\t").replace("\r", "\\r")


def _first(value: str) -> str:
    return {"\t": "une tabulation", "\r": "un retour chariot"}.get(value[0], f"« {value[0]} »")


@pytest.mark.parametrize("value", slow_but(FORMULAS, FORMULAS[0]), ids=["cmd", "plus", "minus", "at", "tab", "cr"])
def test_formula_in_beneficiary_name_is_neutralised(fictif: Dossier, tmp_path, value):
    """Verify that a raison sociale read as a formula is prefixed with « ' », with one located warning."""
    fictif.edit("structures.yaml", "raison_sociale: Association Alpha Insertion",
                f"raison_sociale: {json.dumps(value)}")
    out = tmp_path / "subventions.csv"
    before = snapshot(tmp_path)
    run = export(fictif.root, "-o", str(out))
    err = run.stderr.decode("utf-8")
    assert run.returncode == 0, err
    rows = rows_of(out.read_bytes())
    assert rows[0]["nomBeneficiaire"] == "'" + value
    assert rows[1]["nomBeneficiaire"] == "Centre communal d'action sociale de Gamma"
    line = fictif.line_of("structures.yaml", "raison_sociale: ")
    assert (f"structures.yaml:{line}: WARNING: structure alpha (Association Alpha) : nomBeneficiaire "
            f"(SCDL Subventions 2.1.1) : formule possible dans un tableur, valeur commençant par {_first(value)} "
            f"neutralisée (préfixée d'une apostrophe) : « {_shown(value)} » [scdl.formule]") in err
    assert err.count("[scdl.formule]") == 1 and "ERROR" not in err
    after = snapshot(tmp_path)
    assert after.pop("subventions.csv")[0] == "file" and after == before


@pytest.mark.slow
def test_formula_in_operation_title_is_neutralised(fictif: Dossier, tmp_path):
    """Verify that an objet starting with a formula (the operation's title) is neutralised at the title."""
    fictif.edit("thematiques/t4.yaml", "titre: Projets collectifs jeunesse - FAJ collectif", 'titre: "=1+1"')
    before = snapshot(tmp_path)
    run = export(fictif.root)
    err = run.stderr.decode("utf-8")
    assert run.returncode == 0, err
    assert rows_of(run.stdout)[1]["objet"] == "'=1+1 — Séjour de remobilisation pour 20 jeunes"
    line = fictif.line_of("thematiques/t4.yaml", 'titre: "=1+1"')
    assert (f"t4.yaml:{line}: WARNING: opération 4.1, titre : objet (SCDL Subventions 2.1.1) : formule possible "
            "dans un tableur, valeur commençant par « = » neutralisée (préfixée d'une apostrophe) : « =1+1 » "
            "[scdl.formule]") in err
    assert snapshot(tmp_path) == before


def test_formula_in_description_stays_inside_the_objet(fictif: Dossier):
    """Verify that a description « =1+1 » never starts a cell (the objet starts with the title): no change."""
    fictif.edit("thematiques/t4.yaml", "description: Séjour de remobilisation pour 20 jeunes", 'description: "=1+1"')
    run = export(fictif.root)
    assert run.returncode == 0 and b"scdl.formule" not in run.stderr
    assert rows_of(run.stdout)[1]["objet"] == "Projets collectifs jeunesse - FAJ collectif — =1+1"


@pytest.mark.slow
def test_formula_in_attribuant_name_is_reported_once(fictif: Dossier):
    """Verify that the attribuant's name, on every row, is neutralised everywhere and reported once."""
    fictif.edit("phase.yaml", "attribuant: {nom: Département fictif,", 'attribuant: {nom: "@SUM(A1)",')
    run = export(fictif.root)
    err = run.stderr.decode("utf-8")
    assert run.returncode == 0, err
    assert {r["nomAttribuant"] for r in rows_of(run.stdout)} == {"'@SUM(A1)"}
    assert err.count("[scdl.formule]") == 1
    assert "phase.yaml, attribuant : nomAttribuant (SCDL Subventions 2.1.1) : formule possible" in err


@pytest.mark.slow
def test_neutralised_long_objet_still_fits(fictif: Dossier):
    """Verify that the apostrophe is added before the 256-character cut: the objet stays within the schema."""
    long_title = 'titre: "-' + "x" * 300 + '"'
    fictif.edit("thematiques/t4.yaml", "titre: Projets collectifs jeunesse - FAJ collectif", long_title)
    run = export(fictif.root)
    err = run.stderr.decode("utf-8")
    assert run.returncode == 0, err
    objet = rows_of(run.stdout)[1]["objet"]
    assert objet.startswith("'-x") and objet.endswith("…") and len(objet) == 256
    assert check_value(BY_NAME["objet"], objet) is None
    assert "[scdl.formule]" in err and "[scdl.objet_tronque]" in err


def test_only_free_text_can_start_with_a_formula_character():
    """Verify that every field but the free-text ones rejects a value read as a formula (or is a plain number).

    Patterns (SIRET, RNA, period), enums, dates and booleans reject every formula start; a number field
    accepts only a signed number (« -5 », read as a number by a spreadsheet, not as a formula). A
    neutralised free text passes its field's rules.
    """
    assert FREE_TEXT == ("nomAttribuant", "referenceDecision", "nomBeneficiaire", "objet", "conditionsVersement",
                         "idRAE", "dispositifAide")
    for f in SCHEMA:
        for value in ("=1", "+1", "-1", "@1", "\t1", "\r1", "-1+2"):
            problem = check_value(f, value)
            if f.name in FREE_TEXT:
                assert check_value(f, neutralise(value)) is None, (f.name, value)
            elif f.type == "number" and re.fullmatch(r"[+-]\d+", value):
                pass  # a signed number, not a formula
            else:
                assert problem is not None, (f.name, value)
    assert neutralise("Association") == "Association" and neutralise("'=1") == "'=1"


# ---------------------------------------------------------------------------
# item 7: formulas in annexe-4.xlsx


_ENGINE_FORMULA = re.compile(r"=(SUBTOTAL\(9,[A-Z]+\d+:[A-Z]+\d+\)|SUMIFS\(.+\)|SUM\([A-Z]+\d+:[A-Z]+\d+\)"
                             r"|[A-Z]+\d+-[A-Z]+\d+|0)")


@pytest.mark.parametrize("value", ["=1+1", "=cmd|' /C calc'!A0", "@SUM(A1)", "+1", "-1+2"])
def test_xlsx_structure_named_formula_is_a_string_cell(fictif: Dossier, value):
    """Verify that a structure named « =1+1 » is a text cell of annexe-4.xlsx, never a formula."""
    fictif.edit("structures.yaml", "nom: Association Alpha\n", f"nom: {json.dumps(value)}\n")
    before = snapshot(fictif.root)
    checked = pipeline.check(Settings(source=fictif.root))
    assert [f for f in checked.findings if not f.code.startswith("orthographe.")] == []  # « cmd » is no French
    data = workbook(checked.dossier, checked.figures)  # the bytes of annexe-4.xlsx
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb[SHEET_ANNEXE4]
    col = next(i for i, c in enumerate(ANNEXE4_COLUMNS, 1) if c.key == "nom")
    cells = [row[col - 1] for row in ws.iter_rows(min_row=2) if row[col - 1].value == value]
    assert len(cells) == 2 and all(c.data_type == "s" for c in cells)  # alpha has two lines
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode("utf-8")
    for c in cells:
        assert re.search(rf'<c r="{c.coordinate}" t="inlineStr"><is><t[^>]*>', sheet), c.coordinate
    for s in wb.worksheets:  # the only formulas are the engine's own totals
        for row in s.iter_rows():
            for c in row:
                if c.data_type == "f":
                    assert _ENGINE_FORMULA.fullmatch(c.value), (s.title, c.coordinate, c.value)
    assert snapshot(fictif.root) == before
