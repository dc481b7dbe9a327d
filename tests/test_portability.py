"""The engine imports and runs without what only POSIX systems have (issue 17, point 1: Windows, macOS).

A crippled interpreter stands for Windows: ``fcntl`` (and the other POSIX-only modules) cannot be
imported, and ``os.killpg``, ``os.sync``, ``os.getuid``, ``os.fchmod``, ``os.pread``… and
``signal.SIGKILL`` are gone. Every module imports there, and ``--help``, ``check`` and
``build --sans-pdf`` exit 0 writing the same Word files as a normal build. The fallbacks themselves
(locks without ``pread``, killing without process groups, two renames, one flush per file) and the
lookup of LibreOffice in its usual install folders are tested one by one.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deliberation.bundle import lock, pdf, write
from deliberation.bundle.lock import DossierLocked, build_lock, dossier_lock
from deliberation.findings import BuildError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"

#: Run before anything else: what Windows lacks is taken away from this interpreter.
CRIPPLE = """
import os, signal, sys
for name in ("fcntl", "termios", "resource", "pwd", "grp"):
    sys.modules[name] = None
for name in ("killpg", "getpgid", "setsid", "sync", "getuid", "geteuid", "fchmod", "pread", "pwrite",
             "O_CLOEXEC", "O_NOFOLLOW", "O_NONBLOCK"):
    if hasattr(os, name):
        delattr(os, name)
del signal.SIGKILL
"""

RUN_CLI = CRIPPLE + """
from deliberation.cli import main
main(args=sys.argv[1:], prog_name="deliberation", standalone_mode=True)
"""

IMPORT_ALL = CRIPPLE + """
import importlib, json, pkgutil
import deliberation
failed = {}
names = []
for info in pkgutil.walk_packages(deliberation.__path__, "deliberation.",
                                  onerror=lambda name: failed.setdefault(name, repr(sys.exc_info()[1]))):
    names.append(info.name)
    try:
        importlib.import_module(info.name)
    except Exception as err:
        failed[info.name] = repr(err)
from deliberation.bundle import lock, write
print(json.dumps({"modules": names, "failed": failed, "fcntl": sys.modules.get("fcntl", "absent") is None,
                  "locker": lock._portalocker() is not None, "sigkill": write.SIGKILL == signal.SIGTERM}))
"""


def run(code: str, *args: str, env: dict) -> subprocess.CompletedProcess:
    """``python -c code args`` from the checkout, with ``env`` added to ours."""
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300, env={**os.environ, **env})


def docx_of(out: Path) -> dict[str, bytes]:
    """Every Word file under ``out`` (relative path → bytes)."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.docx"))}


@pytest.fixture
def cache(tmp_path) -> dict:
    """A private cache folder (parse cache, dossier locks) for the processes a test starts."""
    return {"XDG_CACHE_HOME": str(tmp_path / "cache")}


# -- a crippled interpreter -----------------------------------------------------------------------------------


def test_every_module_imports_without_posix_only_pieces(cache):
    done = run(IMPORT_ALL, env=cache)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["failed"] == {}
    assert len(report["modules"]) > 30 and "deliberation.bundle.lock" in report["modules"]
    assert report["fcntl"]  # never imported for real
    assert not report["locker"]  # no fcntl: portalocker cannot lock, so no lock is taken
    assert report["sigkill"]  # SIGTERM stands in for SIGKILL


@pytest.mark.slow
def test_help_check_and_build_run_without_posix_only_pieces(tmp_path, cache):
    dossier = tmp_path / "fictif"
    shutil.copytree(FIXTURES / "fictif", dossier)
    crippled, normal = tmp_path / "sorties" / "sans-posix", tmp_path / "normal" / "fictif"

    helped = run(RUN_CLI, "--help", env=cache)
    assert helped.returncode == 0, helped.stderr
    assert "Commandes" in helped.stdout and "build" in helped.stdout
    checked = run(RUN_CLI, "check", str(dossier), env=cache)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "0 erreur(s), 0 avertissement(s)" in checked.stderr
    built = run(RUN_CLI, "build", str(dossier), "-o", str(crippled), "--sans-pdf", env=cache)
    assert built.returncode == 0, built.stdout + built.stderr
    assert "Traceback" not in built.stderr
    assert sorted(p.name for p in crippled.parent.iterdir()) == ["sans-posix"]  # no lock file, no leftover

    reference = run("from deliberation.cli import main; import sys; main(args=sys.argv[1:])",
                    "build", str(dossier), "-o", str(normal), "--sans-pdf", env=cache)
    assert reference.returncode == 0, reference.stdout + reference.stderr
    ours, theirs = docx_of(crippled), docx_of(normal)
    assert len(ours) >= 6 and ours.keys() == theirs.keys()
    assert [name for name in ours if ours[name] != theirs[name]] == []
    assert sorted(p.relative_to(crippled).as_posix() for p in crippled.rglob("*")) == \
        sorted(p.relative_to(normal).as_posix() for p in normal.rglob("*"))


# -- the fallbacks, one by one ----------------------------------------------------------------------------------

PROBE = """
import sys
from pathlib import Path
from deliberation.bundle.lock import BuildLocked, build_lock, dossier_lock
for ctx in (dossier_lock(Path(sys.argv[1]), shared=False), build_lock(Path(sys.argv[2]))):
    try:
        with ctx:
            print("pris")
    except BuildLocked as err:
        print(err)
"""

HOLDER = """
import sys, time
from pathlib import Path
from deliberation.bundle.lock import dossier_lock
marker = Path(sys.argv[2])
with dossier_lock(Path(sys.argv[1]), shared=False):
    marker.write_text("tenu")
    while marker.exists():
        time.sleep(0.02)
"""


def test_locks_hold_and_name_their_pid_without_pread_or_pwrite(tmp_path, monkeypatch, cache):
    """Windows has no ``os.pread``/``os.pwrite``: the pid is written and read at offset 0 all the same."""
    monkeypatch.delattr(os, "pread")
    monkeypatch.delattr(os, "pwrite")
    monkeypatch.setenv("XDG_CACHE_HOME", cache["XDG_CACHE_HOME"])
    dossier, out = tmp_path / "dossier", tmp_path / "out"
    dossier.mkdir()
    with dossier_lock(dossier, shared=False), build_lock(out):
        probe = run(PROBE, str(dossier), str(out), env=cache)
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.splitlines() == [
        f"un autre import du dossier {dossier} est en cours (pid {os.getpid()}) : attendez sa fin puis relancez",
        f"une autre production est en cours dans {out} (pid {os.getpid()}) : attendez sa fin puis relancez",
    ]
    assert run(PROBE, str(dossier), str(out), env=cache).stdout.splitlines() == ["pris", "pris"]

    marker = tmp_path / "marqueur"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(dossier), str(marker)], cwd=ROOT,
                              env={**os.environ, **cache})
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert holder.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        with pytest.raises(DossierLocked, match=rf"un import du dossier .* est en cours \(pid {holder.pid}\)"):
            with dossier_lock(dossier, shared=True, wait=0.2):
                pass
    finally:
        marker.unlink(missing_ok=True)
        holder.wait(timeout=30)


def test_a_missing_portalocker_is_said_not_ignored(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "portalocker", None)
    lock._portalocker.cache_clear()
    try:
        with pytest.raises(BuildError, match="module portalocker absent : installez-le"):
            with build_lock(tmp_path / "out"):
                pass
    finally:
        lock._portalocker.cache_clear()
    assert not (tmp_path / ".out.lock").exists()


def test_libreoffice_is_killed_alone_where_there_are_no_process_groups(monkeypatch):
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    monkeypatch.delattr(os, "killpg")
    try:
        pdf._kill(proc)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def bundle(files: dict[str, bytes]) -> dict[str, bytes]:
    """``files`` and the manifest that makes them a bundle of this engine (so that the next one may replace it)."""
    manifest = {"moteur": {"nom": "deliberation"}, "sorties": {name: {} for name in files}}
    return {**files, write.MANIFEST_NAME: json.dumps(manifest).encode()}


def test_bundle_swaps_by_two_renames_where_ctypes_cannot_load_the_c_library(tmp_path, monkeypatch):
    """On Windows ``ctypes.CDLL(None)`` raises TypeError: the exchange is skipped, the folders renamed."""
    def no_library(*args, **kwargs):
        raise TypeError("LoadLibrary() argument 1 must be str, not None")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert write._exchange(a, b) is False
    out = tmp_path / "out"
    write.write_bundle(out, bundle({"un.txt": b"1"}))
    write.write_bundle(out, bundle({"un.txt": b"2", "sous/deux.txt": b"3"}))
    assert (out / "un.txt").read_bytes() == b"2" and (out / "sous" / "deux.txt").read_bytes() == b"3"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "out"]  # nothing left beside it


def test_each_file_is_flushed_where_there_is_no_global_sync(tmp_path, monkeypatch):
    monkeypatch.delattr(os, "sync")
    flushed = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (flushed.append(fd), real_fsync(fd)))
    out = tmp_path / "out"
    write.write_bundle(out, bundle({"un.txt": b"1", "sous/deux.txt": b"2"}))
    assert len(flushed) == 3  # the two files and the manifest
    assert (out / "un.txt").read_bytes() == b"1" and (out / "sous" / "deux.txt").read_bytes() == b"2"


# -- LibreOffice in its usual install folders ---------------------------------------------------------------


def program(path: Path) -> Path:
    """A fake executable at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_soffice_lookup_order_on_windows(tmp_path, monkeypatch):
    """``DELIBERATION_SOFFICE``, then the PATH, then Program Files, then Program Files (x86)."""
    files, files86 = tmp_path / "Program Files", tmp_path / "Program Files (x86)"
    explicit = program(tmp_path / "ailleurs" / "soffice.exe")
    on_path = program(tmp_path / "bin" / "soffice.exe")
    installed = program(files / "LibreOffice" / "program" / "soffice.exe")
    installed86 = program(files86 / "LibreOffice" / "program" / "soffice.exe")
    empty = tmp_path / "vide"
    empty.mkdir()
    monkeypatch.chdir(empty)  # Windows looks in the current folder before the PATH
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("PATHEXT", ".exe")
    monkeypatch.delenv("ProgramW6432", raising=False)
    monkeypatch.setenv("ProgramFiles", str(files))
    monkeypatch.setenv("ProgramFiles(x86)", str(files86))
    monkeypatch.setenv("PATH", str(on_path.parent))
    monkeypatch.setenv("DELIBERATION_SOFFICE", str(explicit))
    assert pdf.soffice() == str(explicit)
    monkeypatch.setenv("DELIBERATION_SOFFICE", "")
    assert pdf.soffice() is None  # set but empty: LibreOffice absent, whatever is installed
    monkeypatch.delenv("DELIBERATION_SOFFICE")
    assert pdf.soffice() == str(on_path)
    monkeypatch.setenv("PATH", str(empty))
    assert pdf.soffice() == str(installed)
    installed.unlink()
    installed.mkdir()  # a folder of that name is no program
    assert pdf.soffice() == str(installed86)
    installed86.chmod(0o644)  # nor a file that cannot be run
    assert pdf.soffice() is None

    monkeypatch.delenv("ProgramFiles")
    monkeypatch.delenv("ProgramFiles(x86)")
    assert [p.parts[:2] for p in pdf.usual_paths()] == [(r"C:\Program Files", "LibreOffice"),
                                                        (r"C:\Program Files (x86)", "LibreOffice")]


def test_soffice_lookup_order_on_macos(tmp_path, monkeypatch):
    assert pdf.MACOS_SOFFICE == ("/Applications/LibreOffice.app/Contents/MacOS/soffice",)
    app = program(tmp_path / "Applications" / "LibreOffice.app" / "Contents" / "MacOS" / "soffice")
    on_path = program(tmp_path / "bin" / "soffice")
    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(pdf, "MACOS_SOFFICE", (str(app),))
    monkeypatch.delenv("DELIBERATION_SOFFICE", raising=False)
    monkeypatch.setenv("PATH", str(on_path.parent))
    assert pdf.soffice() == str(on_path)
    monkeypatch.setenv("PATH", str(tmp_path / "vide"))
    assert pdf.soffice() == str(app)
    monkeypatch.setenv("DELIBERATION_SOFFICE", "/ailleurs/soffice")
    assert pdf.soffice() == "/ailleurs/soffice"  # named, it wins even if missing (then said « introuvable »)


def test_no_usual_paths_on_linux(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    assert pdf.usual_paths() == []
