"""Issue 16, items 4, 5 and 11: ``import-xlsx`` writes all or nothing, bounds what it reads, and keeps out of builds.

Each attack runs on a temporary copy: the refusal, its exit code and French message are checked, and every
pre-existing file of the temporary tree is byte-identical afterwards (``tree_state``). Subprocesses run the
real command (kills, locks, peak memory).
"""

from __future__ import annotations

import errno
import io
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import FIXTURES, ROOT, mounted_tmpfs, slow_but, tree_state
from openpyxl import load_workbook

from deliberation import fsio, pipeline
from deliberation.bundle.lock import DossierLocked, dossier_lock, dossier_lock_path
from deliberation.cli import main
from deliberation.commands import import_xlsx
from deliberation.settings import Settings
from deliberation.xlsx.export import workbook
from deliberation.xlsx.layout import ANNEXE4_COLUMNS, SHEET_ANNEXE4, SHEET_BUDGET
from deliberation.xlsx.reading import MAX_CELLS, MAX_ROWS, read_workbook

CLI = [sys.executable, "-m", "deliberation", "import-xlsx"]
#: One ligne of each thématique file and one budget line: the import rewrites four files.
CHANGES = {"t1-o3-pdc-actif": 80000, "t3-o1-aifor": 31000, "t4-o1-mempa-escalade": 1234}
FILES = ("budget.yaml", "thematiques/t1.yaml", "thematiques/t3.yaml", "thematiques/t4.yaml")
ENGLISH = re.compile(r"not well-formed|mismatched|There is no item|File is not|Bad CRC|Bad magic|unclosed token|"
                     r"syntax error|no element found|Error -\d|\(\)")


@pytest.fixture(autouse=True)
def private_dirs(tmp_path_factory, monkeypatch):
    """Lock files and dry-run copies in folders of the test, outside the tree it compares (subprocesses inherit)."""
    base = tmp_path_factory.mktemp("prive")
    (base / "tmp").mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(base / "cache"))
    monkeypatch.setenv("TMPDIR", str(base / "tmp"))
    monkeypatch.setattr("tempfile.tempdir", str(base / "tmp"))


@pytest.fixture
def case(tmp_path) -> tuple[Path, Path]:
    """A dossier ``d`` (phase 6) and a workbook ``w.xlsx`` changing budget.yaml, t1, t3 and t4."""
    dossier = tmp_path / "d"
    shutil.copytree(FIXTURES / "phase-6-2024", dossier)
    book = tmp_path / "w.xlsx"
    _changed_workbook(dossier, book)
    return dossier, book


def _changed_workbook(dossier: Path, path: Path) -> None:
    checked = pipeline.check(Settings(source=dossier))
    wb = load_workbook(io.BytesIO(workbook(checked.dossier, checked.figures)))
    ws = wb[SHEET_ANNEXE4]
    col = {c.key: i for i, c in enumerate(ANNEXE4_COLUMNS, 1)}
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, col["id"]).value in CHANGES:
            ws.cell(r, col["montant"], CHANGES[ws.cell(r, col["id"]).value])
    wb[SHEET_BUDGET].cell(2, 5, 900000)  # Disponible of C02-446A05
    wb.save(path)


def _run(*args: str):
    return CliRunner().invoke(main, ["import-xlsx", *args])


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout)


def _stray(root: Path) -> list[str]:
    """Staged files, journals and temporary files of a write left in ``root``."""
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*")
                  if fsio.STAGED_SUFFIX in p.name or p.name.startswith(fsio.JOURNAL) or p.name.endswith(".tmp"))


def _copies(tmp_path: Path) -> list[str]:
    return [p.name for p in Path(os.environ["TMPDIR"]).glob("deliberation-import-*")]


def _new_state(case_: tuple[Path, Path], tmp_path: Path) -> dict:
    """The dossier's state once the workbook is imported (on a copy)."""
    dossier, book = case_
    other = tmp_path / "nouveau" / dossier.name
    shutil.copytree(dossier, other)
    assert _run(str(book), str(other)).exit_code == 0
    return tree_state(other)


# item 4: all or nothing -------------------------------------------------------------------------


def test_import_writes_the_four_files_and_leaves_nothing_behind(case, tmp_path):
    dossier, book = case
    before = tree_state(dossier)
    result = _run(str(book), str(dossier))
    assert result.exit_code == 0, result.output
    assert "Fichiers écrits : budget.yaml, thematiques/t1.yaml, thematiques/t3.yaml, thematiques/t4.yaml" \
        in result.output
    after = tree_state(dossier)
    assert {k for k in after if after[k] != before.get(k)} == set(FILES)
    assert after.keys() == before.keys() and _stray(dossier) == [] and _copies(tmp_path) == []
    assert not any(p.suffix == ".lock" for p in dossier.rglob("*"))  # the lock lives in the user's cache
    assert dossier_lock_path(dossier).parent == Path(os.environ["XDG_CACHE_HOME"]) / "deliberation" / "locks"


def test_symlinked_file_is_a_located_finding_before_anything_is_written(case, tmp_path):
    dossier, book = case
    real = tmp_path / "ailleurs" / "t4.yaml"
    real.parent.mkdir()
    shutil.move(dossier / "thematiques" / "t4.yaml", real)
    (dossier / "thematiques" / "t4.yaml").symlink_to(real)
    before = tree_state(tmp_path)
    result = _run(str(book), str(dossier))
    assert result.exit_code == 1, result.output
    assert (f"{dossier / 'thematiques' / 't4.yaml'}: ERROR: import impossible dans ce fichier : c'est un lien "
            "symbolique (le fichier lié n'est pas modifié) ; rien n'a été écrit [xlsx.ecriture]") in result.output
    assert "import refusé" in result.output and "Traceback" not in result.output
    assert tree_state(tmp_path) == before


def test_dossier_made_of_links_is_refused_cleanly(case, tmp_path):
    dossier, book = case
    shutil.move(dossier, tmp_path / "source")
    dossier.mkdir()
    (dossier / "thematiques").mkdir()
    for path in (tmp_path / "source").rglob("*"):
        if path.is_file():
            (dossier / path.relative_to(tmp_path / "source")).parent.mkdir(parents=True, exist_ok=True)
            (dossier / path.relative_to(tmp_path / "source")).symlink_to(path)
    before = tree_state(tmp_path)
    result = _run(str(book), str(dossier))
    assert result.exit_code == 1, result.output
    assert result.output.count("c'est un lien symbolique") == len(FILES)
    assert result.output.count("[xlsx.ecriture]") == len(FILES) and "Traceback" not in result.output
    assert tree_state(tmp_path) == before


def test_thematiques_folder_leading_out_is_refused(case, tmp_path):
    dossier, book = case
    shutil.move(dossier / "thematiques", tmp_path / "dehors")
    (dossier / "thematiques").symlink_to(tmp_path / "dehors")
    before = tree_state(tmp_path)
    result = _run(str(book), str(dossier))
    assert result.exit_code == 1, result.output
    assert "import impossible dans ce fichier : le dossier thematiques mène hors du dossier" in result.output
    assert "budget.yaml" not in result.output.split("Fichiers écrits")[0].split("[xlsx.ecriture]")[-1]
    assert tree_state(tmp_path) == before


def test_disk_full_while_staging_changes_nothing(case, tmp_path, monkeypatch):
    dossier, book = case
    real = fsio._stage
    staged = []

    def stage(path, data, target):
        if len(staged) == 3:  # the journal, budget.yaml, t1.yaml; then the disk is full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))
        staged.append(target)
        return real(path, data, target)

    monkeypatch.setattr(fsio, "_stage", stage)
    before = tree_state(tmp_path)
    result = _run(str(book), str(dossier))
    assert result.exit_code == 3, result.output
    assert f"ERREUR (build) : écriture impossible dans {dossier} : disque plein" in result.output
    assert "rien n'a été modifié" in result.output and "Traceback" not in result.output
    assert tree_state(tmp_path) == before and _stray(dossier) == []


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 1 MiB tmpfs (root only; skipped otherwise)."""
    with mounted_tmpfs(tmp_path, "1m") as mnt:
        yield mnt


def _fill(mnt: Path, keep: int) -> None:
    """Fill ``mnt`` up to ``keep`` free bytes."""
    with open(mnt / "lest", "wb") as fh:
        while os.statvfs(mnt).f_bavail * os.statvfs(mnt).f_frsize > keep:
            try:
                fh.write(b"\0" * 4096)
                fh.flush()
            except OSError:
                break


@pytest.mark.slow
def test_real_disk_full_changes_nothing(case, small_tmpfs):
    dossier, book = case
    target = small_tmpfs / "d"
    shutil.copytree(dossier, target)
    _fill(small_tmpfs, 24 * 1024)  # room for a file or two of the four staged ones, not for all
    before = tree_state(small_tmpfs)
    result = _cli(str(book), str(target))
    assert result.returncode == 3, result.stderr
    assert f"ERREUR (build) : écriture impossible dans {target} : disque plein" in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_state(small_tmpfs) == before and _stray(target) == []


@pytest.mark.slow
def test_read_only_dossier_changes_nothing(case, small_tmpfs):
    dossier, book = case
    target = small_tmpfs / "d"
    shutil.copytree(dossier, target)
    done = subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"remontage en lecture seule impossible : {done.stderr.strip()}")
    before = tree_state(small_tmpfs)
    result = _cli(str(book), str(target))
    assert result.returncode == 1, result.stderr
    assert f"{target / 'budget.yaml'}: ERROR: import impossible dans ce fichier : fichier en lecture seule" \
        in result.stdout
    assert "Traceback" not in result.stderr
    assert tree_state(small_tmpfs) == before


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_read_only_folder_changes_nothing(case, tmp_path):
    dossier, book = case
    (dossier / "thematiques").chmod(0o555)
    try:
        before = tree_state(tmp_path)
        result = _run(str(book), str(dossier))
        assert result.exit_code == 1, result.output
        assert "en lecture seule ; rien n'a été écrit [xlsx.ecriture]" in result.output
        assert tree_state(tmp_path) == before
    finally:
        (dossier / "thematiques").chmod(0o755)


@pytest.mark.slow
def test_dry_run_copy_is_removed_even_on_error(case, tmp_path, monkeypatch):
    dossier, book = case
    before = tree_state(tmp_path)
    result = _run(str(book), str(dossier), "--essai")
    assert result.exit_code == 0, result.output
    assert "--essai : aucun fichier écrit" in result.output and "Contrôle du dossier :" in result.output
    assert tree_state(tmp_path) == before and _copies(tmp_path) == []
    real, calls = pipeline.check, []

    def failing(settings):
        calls.append(settings.source)
        if len(calls) == 2:  # the check of the copy
            raise RuntimeError("panne")
        return real(settings)

    monkeypatch.setattr(pipeline, "check", failing)
    with pytest.raises(RuntimeError):
        import_xlsx([book], dossier, dry_run=True)
    assert calls[1].parts[-2].startswith("deliberation-import-") and not calls[1].exists()
    assert tree_state(tmp_path) == before and _copies(tmp_path) == []


def test_dry_run_copy_of_a_killed_import_is_swept(case, tmp_path):
    dossier, book = case
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = Path(os.environ["TMPDIR"]) / f"deliberation-import-{dead.pid}-abcd"
    (stale / "d").mkdir(parents=True)
    alive = Path(os.environ["TMPDIR"]) / f"deliberation-import-{os.getppid()}-efgh"
    alive.mkdir()
    assert _run(str(book), str(dossier), "--essai").exit_code == 0
    assert not stale.exists() and alive.is_dir()


@pytest.mark.slow
def test_dry_run_copy_keeps_links_inside_the_copy(case, tmp_path):
    """An absolute link to a folder of the dossier is followed into the copy, never into the dossier."""
    dossier, book = case
    shutil.move(dossier / "thematiques", dossier / "donnees")
    (dossier / "thematiques").symlink_to(dossier / "donnees")
    plain = _fresh(FIXTURES / "phase-6-2024", tmp_path, "sans-lien")
    before = tree_state(tmp_path)
    result = _run(str(book), str(dossier), "--essai")
    assert result.exit_code == 0, result.output
    assert re.search(r"t1-o3-pdc-actif +montant : 79 850,00 € → 80 000,00 €", result.output)
    expected = _run(str(book), str(plain), "--essai").output
    assert "Contrôle du dossier : 27 erreur(s), 30 avertissement(s)" in expected  # amounts no longer add up
    assert result.output.replace(str(dossier), "D") == expected.replace(str(plain), "D")
    assert tree_state(tmp_path) == before


@pytest.mark.slow
def test_interrupted_commit_is_completed_by_the_next_import(case, tmp_path):
    dossier, book = case
    new = _new_state(case, tmp_path)

    def killed():
        raise SystemExit("tué ici")  # the journal says « commit »: every file is staged

    files = {rel: (tmp_path / "nouveau" / "d" / rel).read_bytes() for rel in FILES}
    with pytest.raises(SystemExit):
        fsio.write_files(dossier, files, before_commit=killed)
    assert (dossier / fsio.JOURNAL).is_file()
    result = _cli(str(book), str(dossier), "--essai")
    assert result.returncode == 0, result.stderr
    assert f"attention : écriture interrompue terminée dans {dossier} : 4 fichier(s) mis à jour" in result.stderr
    assert "Valeurs modifiées (0) : aucune" in result.stdout
    assert tree_state(dossier) == new and _stray(dossier) == []


@pytest.mark.parametrize("command", ["check", "build"])
@pytest.mark.slow
def test_interrupted_commit_is_completed_by_the_next_check_or_build(case, tmp_path, command):
    dossier, _ = case
    new = _new_state(case, tmp_path)

    def killed():
        raise SystemExit("tué ici")

    files = {rel: (tmp_path / "nouveau" / "d" / rel).read_bytes() for rel in FILES}
    with pytest.raises(SystemExit):
        fsio.write_files(dossier, files, before_commit=killed)
    extra = ["-o", str(tmp_path / "sortie"), "--no-pdf"] if command == "build" else []
    result = _cli_any(command, str(dossier), *extra)
    assert f"écriture interrompue terminée dans {dossier} : 4 fichier(s) mis à jour [import.interrompu]" \
        in result.stdout, result.stdout + result.stderr
    assert tree_state(dossier) == new and _stray(dossier) == []


def _cli_any(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deliberation", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


KILLER = r"""
import os, signal, sys
from deliberation import fsio
mode, k = sys.argv[1], int(sys.argv[2])
count = [0]
def die():
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "stage":  # before the k-th staged file (the journals count)
    real_stage = fsio._stage
    def stage(*a):
        count[0] += 1
        if count[0] == k:
            die()
        return real_stage(*a)
    fsio._stage = stage
elif mode == "write":  # halfway through the k-th write
    real_write = os.write
    def write(fd, data):
        count[0] += 1
        if count[0] == k:
            real_write(fd, bytes(data)[: len(data) // 2])
            die()
        return real_write(fd, data)
    fsio.os.write = write
elif mode == "rename":  # after k staged files are renamed (k = all: before the journal goes)
    real_replace, real_unlink = os.replace, os.unlink
    def replace(src, dst, *a, **kw):
        if str(src).endswith(fsio.STAGED_SUFFIX):
            if count[0] == k:
                die()
            count[0] += 1
        return real_replace(src, dst, *a, **kw)
    def unlink(path, *a, **kw):
        if str(path).endswith(fsio.JOURNAL) and count[0] == k:
            die()
        return real_unlink(path, *a, **kw)
    os.replace, os.unlink = replace, unlink
from deliberation.cli import main
main(sys.argv[3:], prog_name="deliberation")
"""


@pytest.mark.slow
def test_kill_at_any_point_leaves_the_old_set_or_the_new_one(case, tmp_path):
    """SIGKILL at each step of the write and at random instants: after recovery, old or new files, whole."""
    dossier, book = case
    old, new = tree_state(dossier), _new_state(case, tmp_path)
    start = time.monotonic()
    assert _cli(str(book), str(_fresh(dossier, tmp_path, "mesure"))).returncode == 0
    duration = time.monotonic() - start
    points = [("stage", k) for k in range(1, 7)] + [("write", k) for k in range(1, 7)]
    points += [("rename", k) for k in range(len(FILES) + 1)]
    rng = random.Random(20241216)
    points += [("random", round(rng.uniform(0.3, duration), 3)) for _ in range(8)]
    outcomes = []
    for i, (mode, k) in enumerate(points):
        target = _fresh(dossier, tmp_path, f"k{i}")
        args = [str(book), str(target)]
        if mode == "random":
            proc = subprocess.Popen([*CLI, *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(k)
            proc.send_signal(signal.SIGKILL)
        else:
            proc = subprocess.Popen([sys.executable, "-c", KILLER, mode, str(k), "import-xlsx", *args], cwd=ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        code = proc.wait(timeout=120)
        if mode != "random":
            assert code == -signal.SIGKILL, (mode, k, code)
        if mode == "rename":  # killed amid the renames: the journal says « commit », the files are mixed
            assert (target / fsio.JOURNAL).is_file()
            renamed = [rel for rel in FILES if tree_state(target)[rel] == new[rel]]
            assert len(renamed) == k, (k, renamed)
        if i % 4 == 3:  # the next command: an import --dry-run
            done = _cli(str(book), str(target), "--essai")
            assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        else:
            fsio.recover_files(target)
        state = tree_state(target)
        assert state in (old, new), (mode, k, sorted(set(state.items()) ^ set(old.items())))
        assert _stray(target) == [] and _copies(tmp_path) == []
        outcomes.append("old" if state == old else "new")
        print(f"kill {mode} {k}: {outcomes[-1]}")
    assert "old" in outcomes and "new" in outcomes


def _fresh(dossier: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / name / dossier.name
    shutil.copytree(dossier, target)
    return target


# item 5: limits -----------------------------------------------------------------------------------

CT = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
      'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
      '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" '
      'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override '
      'PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
      'spreadsheetml.worksheet+xml"/></Types>')
RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
        '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WB = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
      'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet '
      'name="Annexe 4" sheetId="1" r:id="rId1"/></sheets></workbook>')
WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
           '2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
           '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
              'spreadsheetml/2006/main">')


def _package(path: Path, chunks, compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A minimal .xlsx whose sheet XML is the bytes ``chunks`` yields (streamed: any size)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in (("[Content_Types].xml", CT), ("_rels/.rels", RELS), ("xl/workbook.xml", WB),
                           ("xl/_rels/workbook.xml.rels", WB_RELS)):
            zf.writestr(name, text)
        info = zipfile.ZipInfo("xl/worksheets/sheet1.xml", (2024, 12, 16, 0, 0, 0))
        info.compress_type = compression
        with zf.open(info, "w", force_zip64=True) as fh:
            for chunk in chunks:
                fh.write(chunk)
    return path


def _sheet(rows, dimension: str | None = None):
    yield (SHEET_HEAD + (f'<dimension ref="{dimension}"/>' if dimension else "") + "<sheetData>").encode()
    yield from rows
    yield b"</sheetData></worksheet>"


def _zeros():  # one cell holding 500 MB of zeros: ~500 KB compressed
    yield b"<row><c><v>"
    block = b"0" * (1 << 20)
    for _ in range(500):
        yield block
    yield b"</v></c></row>"


def _cells(rows: int, per_row: int):
    row = b"<row>" + b"<c><v>1</v></c>" * per_row + b"</row>"
    for _ in range(rows):
        yield row


@pytest.fixture(scope="module")
def bombs(tmp_path_factory) -> dict[str, Path]:
    """Hostile workbooks, built once."""
    d = tmp_path_factory.mktemp("bombes")
    return {
        "zeros": _package(d / "zeros.xlsx", _sheet(_zeros())),
        "dix-millions": _package(d / "dix-millions.xlsx", _sheet(_cells(10_000, 1_000), "A1:ALL10000")),
        "dix-millions-sans-dimension": _package(d / "dix-millions-sd.xlsx", _sheet(_cells(10_000, 1_000))),
    }


#: Runs the command as the child of a small launcher and prints its peak RSS (KiB) on a last line. A child
#: forked straight from pytest would report pytest's own peak: Linux keeps it across ``exec``.
_LAUNCHER = ("import os, subprocess, sys\n"
             "p = subprocess.Popen(sys.argv[1:])\n"
             "_, status, usage = os.wait4(p.pid, 0)\n"
             "sys.stdout.flush(); print(usage.ru_maxrss, flush=True)\n"
             "sys.exit(os.waitstatus_to_exitcode(status))\n")


def _measured(*args: str) -> tuple[int, str, float, int]:
    """Run the command: exit code, output, seconds, peak RSS in MiB of the command alone."""
    out = Path(os.environ["TMPDIR"]) / "sortie.txt"
    start = time.monotonic()
    with open(out, "w") as fh:
        code = subprocess.call([sys.executable, "-c", _LAUNCHER, *CLI, *args], cwd=ROOT, stdout=fh,
                               stderr=subprocess.STDOUT)
    seconds = time.monotonic() - start
    *lines, peak = out.read_text().rstrip("\n").split("\n")
    return code, "\n".join(lines), seconds, int(peak) // 1024


@pytest.mark.parametrize(("bomb", "code", "words"), [
    ("zeros", "xlsx.taille", "xl/worksheets/sheet1.xml fait 500,0 Mo une fois décompressé (au plus 50,0 Mo"),
    ("dix-millions", "xlsx.taille", "xl/worksheets/sheet1.xml fait 143,2 Mo une fois décompressé"),
    ("dix-millions-sans-dimension", "xlsx.taille", "xl/worksheets/sheet1.xml fait 143,2 Mo une fois décompressé"),
])
@pytest.mark.slow
def test_zip_bomb_is_refused_fast_in_little_memory(bombs, case, tmp_path, bomb, code, words):
    dossier, _ = case
    path = bombs[bomb]
    before = tree_state(tmp_path)
    exit_code, output, seconds, peak = _measured(str(path), str(dossier))
    print(f"\n{bomb}: {path.stat().st_size // 1024} Ko, refusé en {seconds:.2f} s, pic mémoire {peak} Mo")
    assert exit_code == 1, output
    assert f"{path}: ERROR: classeur trop volumineux : " in output and f"[{code}]" in output
    assert words in output and "Traceback" not in output
    assert seconds <= 2.0 and peak <= 200
    assert tree_state(tmp_path) == before


def _refusal(path: Path) -> tuple[str, str, str]:
    tables, findings = read_workbook(path, path.name)
    assert tables == [] and len(findings) == 1, findings
    f = findings[0]
    return f.code, f.message, f.loc.file


def test_declared_dimension_is_refused_before_parsing(tmp_path):
    path = _package(tmp_path / "w.xlsx", _sheet([b"<row><c><v>1</v></c></row>"], "A1:XFD1048576"))
    start = time.monotonic()
    code, message, where = _refusal(path)
    assert time.monotonic() - start < 0.5
    assert (code, where) == ("xlsx.cellules", "w.xlsx!Annexe 4")
    assert message == ("classeur trop grand : la feuille « Annexe 4 » va jusqu'à la ligne 1 048 576 et la colonne "
                       "16 384 (dimension déclarée A1:XFD1048576), soit 17 179 869 184 cellules : au plus 50 000 "
                       "lignes et 200 000 cellules par feuille")


def test_cells_are_measured_when_the_dimension_lies(tmp_path):
    """A stored (uncompressed) sheet: no size or ratio limit applies, the cells read do."""
    rows = _cells(MAX_CELLS // 100 + 1, 100)
    path = _package(tmp_path / "w.xlsx", _sheet(rows, "A1"), zipfile.ZIP_STORED)
    code, message, where = _refusal(path)
    assert (code, where) == ("xlsx.cellules", "w.xlsx!Annexe 4")
    assert message == ("classeur trop grand : la feuille « Annexe 4 » va jusqu'à la ligne 2 001 et la colonne 100, "
                       "soit 200 100 cellules : au plus 50 000 lignes et 200 000 cellules par feuille")


def test_cells_are_counted_when_their_references_lie(tmp_path):
    """Cells all named A1: the extent stays one cell, their number is still bounded."""
    rows = [b"<row>" + b'<c r="A1"><v>1</v></c>' * 1000 + b"</row>"] * (MAX_CELLS // 1000 + 1)
    path = _package(tmp_path / "w.xlsx", _sheet(rows), zipfile.ZIP_STORED)
    code, message, _ = _refusal(path)
    assert code == "xlsx.cellules"
    assert message.startswith("classeur trop grand : la feuille « Annexe 4 » a plus de 200 000 cellules")


@pytest.mark.parametrize(("xml", "words"), [
    ('<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>', "cellules fusionnées A1:XFD1048576"),
    ('<hyperlinks><hyperlink ref="A1:ZZ100000" location="A1"/></hyperlinks>', "lien A1:ZZ100000"),
])
def test_merges_and_links_over_huge_ranges_are_refused(tmp_path, xml, words):
    """openpyxl makes one object per cell of a merged range or of a link's range: the range is bounded."""
    path = _package(tmp_path / "w.xlsx", [SHEET_HEAD.encode(), b"<sheetData/>", xml.encode(), b"</worksheet>"])
    code, message, _ = _refusal(path)
    assert code == "xlsx.cellules" and words in message


def test_sparse_far_cell_is_refused(tmp_path):
    path = _package(tmp_path / "w.xlsx", _sheet([f'<row r="{MAX_ROWS + 1}"><c r="A{MAX_ROWS + 1}"><v>1</v></c>'
                                                 "</row>".encode()]))
    code, message, _ = _refusal(path)
    assert code == "xlsx.cellules" and "va jusqu'à la ligne 50 001" in message


def test_highly_compressed_member_is_refused(tmp_path):
    path = _package(tmp_path / "w.xlsx", _sheet([b" " * (20 << 20)]))
    code, message, _ = _refusal(path)
    assert code == "xlsx.taille" and "se décompresse" in message and "au plus 100 fois" in message


def test_file_over_the_size_limit_is_not_read(tmp_path):
    path = tmp_path / "gros.xlsx"
    with open(path, "wb") as fh:
        fh.truncate(21 * 1024 * 1024)
    code, message, _ = _refusal(path)
    assert (code, message) == ("xlsx.taille", "classeur trop volumineux : 21,0 Mo (au plus 20,0 Mo)")


def _valid() -> bytes:
    return (FIXTURES / "xlsx" / "situation-budgetaire.xlsx").read_bytes()


def _rezip(data: bytes, edit) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            content = edit(info.filename, src.read(info.filename))
            if content is not None:
                out.writestr(info.filename, content)
    return buf.getvalue()


def _damaged_member(data: bytes) -> bytes:
    """Flip bytes inside the compressed data of the sheet: its CRC (or inflating) fails."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    info = zf.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 20
    out = bytearray(data)
    for i in range(start, start + 40):
        out[i] ^= 0x5A
    return bytes(out)


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
                  b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol2;</t></si></sst>')


@pytest.mark.parametrize(("name", "make", "reason"), slow_but([
    ("texte", lambda d: b"code;disponible\nC02;1\n", "ce n'est pas un fichier Excel .xlsx (pas une archive zip"),
    ("vide", lambda d: b"", "ce n'est pas un fichier Excel .xlsx (pas une archive zip"),
    ("ole", lambda d: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "un ancien .xls, ou un classeur protégé"),
    ("tronqué", lambda d: d[: len(d) // 2], "archive zip endommagée (répertoire de l'archive introuvable"),
    ("abîmé", _damaged_member, "archive zip endommagée ("),
    ("xml", lambda d: _rezip(d, lambda n, c: c.replace(b"</sheetData>", b"</sheetDat>")
                             if n == "xl/worksheets/sheet1.xml" else c),
     "XML invalide dans xl/worksheets/sheet1.xml (ligne 1 : balise fermante qui ne correspond pas)"),
    ("doctype", lambda d: _rezip(d, lambda n, c: BILLION_LAUGHS if n == "xl/styles.xml" else c),
     "XML refusé dans xl/styles.xml : déclaration DOCTYPE"),
    ("sans-workbook", lambda d: _rezip(d, lambda n, c: None if n == "xl/workbook.xml" else c),
     "la partie"),
    ("ods", lambda d: _zip({"mimetype": "application/vnd.oasis.opendocument.spreadsheet", "content.xml": "<a/>"}),
     "classeur OpenDocument (.ods), pas Excel"),
    ("docx", lambda d: _zip({"[Content_Types].xml": CT, "word/document.xml": "<a/>"}),
     "un document Word, pas un classeur Excel .xlsx"),
], "texte", "doctype"))
def test_unreadable_workbooks_say_why_in_french(case, tmp_path, name, make, reason):
    dossier, _ = case
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(make(_valid()))
    before = tree_state(tmp_path)
    result = _run(str(path), str(dossier))
    assert result.exit_code == 1, result.output
    line = next(x for x in result.output.splitlines() if x.startswith(f"{path}: ERROR: classeur illisible : "))
    assert reason in line and line.endswith("[xlsx.illisible]")
    assert not ENGLISH.search(line), line
    assert tree_state(tmp_path) == before


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_a_folder_or_a_fifo_is_not_read(case, tmp_path):
    dossier, _ = case
    fifo = tmp_path / "tube.xlsx"
    os.mkfifo(fifo)
    (tmp_path / "vide").mkdir()
    result = _run(str(fifo), str(tmp_path / "vide"), str(dossier))
    assert result.exit_code == 1
    assert f"{fifo}: ERROR: classeur illisible : ce n'est pas un fichier ordinaire" in result.output
    assert f"{tmp_path / 'vide'}: ERROR: classeur illisible : c'est un dossier" in result.output


@pytest.mark.slow
def test_workbook_at_the_limits_is_imported(case, tmp_path):
    """A budget situation of 19 999 rows × 10 columns (just under 200 000 cells) is read."""
    from openpyxl import Workbook

    dossier, _ = case
    wb = Workbook()
    ws = wb.active
    ws.append(["Code opération", "Disponible", *[f"Colonne {i}" for i in range(8)]])
    ws.append(["C02-446A05", 900000, *["x"] * 8])
    for r in range(19_997):
        ws.append([f"Z{r:05d}", r, *[f"t{r}"] * 8])
    wb.save(tmp_path / "grand.xlsx")
    assert 19_999 * 10 < MAX_CELLS
    result = _run(str(tmp_path / "grand.xlsx"), str(dossier), "--essai")
    assert result.exit_code == 0, result.output
    assert "C02-446A05  disponible : 915 067,73 € → 900 000,00 €" in result.output


# item 11: builds and imports of one dossier ---------------------------------------------------------

HOLDER = r"""
import os, sys, time
from pathlib import Path
from deliberation.bundle.lock import dossier_lock
dossier, shared, marker = Path(sys.argv[1]), sys.argv[2] == "shared", Path(sys.argv[3])
with dossier_lock(dossier, shared=shared):
    marker.write_text(str(os.getpid()))
    while marker.exists():
        time.sleep(0.02)
"""


@pytest.fixture
def holder(tmp_path):
    """Start a process holding a dossier's lock until its marker is removed."""
    procs = []

    def start(dossier: Path, shared: bool) -> subprocess.Popen:
        marker = tmp_path / f"marqueur-{len(procs)}"
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(dossier), "shared" if shared else "x",
                                 str(marker)], cwd=ROOT)
        procs.append((proc, marker))
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        return proc

    yield start
    for proc, marker in procs:
        marker.unlink(missing_ok=True)
        proc.wait(timeout=30)


@pytest.mark.slow
def test_import_during_a_build_is_refused_at_once(case, tmp_path, holder):
    dossier, book = case
    build = holder(dossier, shared=True)
    before = tree_state(tmp_path)
    start = time.monotonic()
    result = _cli(str(book), str(dossier))
    assert time.monotonic() - start < 10
    assert result.returncode == 3, result.stderr
    assert (f"ERREUR (build) : une production du dossier {dossier} est en cours (pid {build.pid}) : relancez "
            "l'import après elle") in result.stderr
    assert "Traceback" not in result.stderr
    assert tree_state(tmp_path) == before
    dry = _cli(str(book), str(dossier), "--essai")  # a dry run writes nothing: it runs beside the build
    assert dry.returncode == 0, dry.stderr
    assert tree_state(tmp_path) == before


@pytest.mark.slow
def test_second_import_is_refused_and_a_build_waits_for_the_import(case, tmp_path, holder):
    dossier, book = case
    other = holder(dossier, shared=False)
    before = tree_state(tmp_path)
    result = _run(str(book), str(dossier))
    assert result.exit_code == 3
    assert (f"ERREUR (build) : un autre import du dossier {dossier} est en cours (pid {other.pid}) : attendez sa "
            "fin puis relancez") in result.output
    start = time.monotonic()
    with pytest.raises(DossierLocked, match=rf"un import du dossier .* est en cours \(pid {other.pid}\) depuis "
                                            r"plus de 0,5 s : relancez la production après lui"):
        with dossier_lock(dossier, shared=True, wait=0.5):
            pass
    assert 0.5 <= time.monotonic() - start < 5
    assert tree_state(tmp_path) == before


def test_shared_locks_coexist_and_nest_in_one_process(case, tmp_path, holder):
    dossier, _ = case
    holder(dossier, shared=True)
    with dossier_lock(dossier, shared=True, wait=0), dossier_lock(dossier, shared=True, wait=0):
        with pytest.raises(DossierLocked, match="une production du dossier"):
            with dossier_lock(dossier, shared=False):
                pass
    with dossier_lock(tmp_path / "autre", shared=False), dossier_lock(tmp_path / "autre", shared=True):
        pass  # a check inside an import (same process) does not wait for itself


def test_lock_module_imports_without_fcntl(tmp_path):
    """Windows has no fcntl: the module imports, and its locks are not taken."""
    code = ("import sys; sys.modules['fcntl'] = None\n"
            "from pathlib import Path\n"
            "from deliberation.bundle.lock import build_lock, dossier_lock\n"
            f"with dossier_lock(Path({str(tmp_path)!r}), shared=False), build_lock(Path({str(tmp_path / 'o')!r})):\n"
            "    print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr
