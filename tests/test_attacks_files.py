"""Issue 16, items 9 and 13: special files and links in a dossier, and a parse cache others could write.

Each attack is reproduced on a temporary copy of the fictitious dossier and checked in a fresh process
(with a time limit): the answer is a French finding naming the file, the exit code is 1, nothing is
read that should not be (no secret quoted, no endless read, no planted pickle run), and every file
that was there before is byte-identical afterwards.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import slow_but

from deliberation import fsio
from deliberation.load import yaml as loader
from deliberation.model import Budget, PhaseInfo, Registre, Thematique

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
SECRET = "root:$6$S3CR3T-HASH-ne-doit-jamais-paraitre:19000:0:99999:7:::"
SPECIAL = "ERROR: pas un fichier ordinaire (tube, périphérique…) : tube nommé (FIFO)"
EXTERNAL = "ERROR: lien symbolique menant hors du dossier : non suivi, contenu non lu"
CLASSES = {"phase.yaml": PhaseInfo, "budget.yaml": Budget, "structures.yaml": Registre}


# ---------------------------------------------------------------------------
# helpers


def snapshot(root: Path, skip: Path | None = None) -> dict[str, object]:
    """Every entry under ``root`` (``skip`` excepted): SHA-256 of a regular file, target of a link, else its kind.

    Never opens anything but a regular file (a FIFO would block), never follows a link.
    """
    state: dict[str, object] = {}
    for top, dirs, names in os.walk(root):
        if skip is not None:
            dirs[:] = [d for d in dirs if Path(top, d) != skip]
        for name in names + [d for d in dirs if os.path.islink(os.path.join(top, d))]:
            path = os.path.join(top, name)
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                state[path] = ("lien", os.readlink(path))
            elif stat.S_ISREG(st.st_mode):
                state[path] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            else:
                state[path] = ("spécial", stat.S_IFMT(st.st_mode))
    return state


#: ``deliberation check ARGV[1]``, writing its own memory high-water mark (KiB) to ``$DLB_TEST_HWM`` at exit.
#: Not ``ru_maxrss`` from ``wait4``: Linux counts in it the resident set of the forked copy of the parent
#: before ``exec``, here pytest's worker (over 300 MB late in a full run), not the command's.
_HWM = """import atexit, os, sys
def _hwm():
    with open('/proc/self/status') as f, open(os.environ['DLB_TEST_HWM'], 'w') as out:
        out.write(next(line.split()[1] for line in f if line.startswith('VmHWM:')))
atexit.register(_hwm)
from deliberation import cli
sys.argv = ['deliberation', 'check', sys.argv[1]]
cli.main()
"""


def run_check(root: Path, cache: Path | str, timeout: float = 20) -> tuple[int, str, str, int]:
    """``deliberation check root`` in a fresh process: exit code, stdout, stderr and peak memory (KiB).

    The process is killed after ``timeout`` seconds (a hang fails the test) and may not map more than
    2 GiB (an endless read fails fast instead of exhausting the machine).
    """
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryFile() as o, tempfile.TemporaryFile() as e:
        hwm = Path(scratch) / "hwm"  # outside the trees compared
        env = {**os.environ, "DELIBERATION_CACHE": str(cache), "DLB_TEST_HWM": str(hwm)}

        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

        proc = subprocess.Popen([sys.executable, "-c", _HWM, str(root)], stdout=o, stderr=e,
                                stdin=subprocess.DEVNULL, env=env, cwd=ROOT, preexec_fn=limit)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = code = os.waitstatus_to_exitcode(status)
        assert code >= 0, f"check tué (signal {-code}) : bloqué plus de {timeout} s ?"
        o.seek(0)
        e.seek(0)
        peak = int(hwm.read_text()) if hwm.exists() else usage.ru_maxrss
        return code, o.read().decode("utf-8"), e.read().decode("utf-8"), peak


@pytest.fixture
def tree(tmp_path, fictif):
    """The fictitious dossier copy, a folder outside it holding a secret, and a private cache folder."""
    outside = tmp_path / "ailleurs"
    outside.mkdir()
    (outside / "secret.yaml").write_text(SECRET + "\n", encoding="utf-8")
    (outside / "fiche.md").write_text(f"---\n{SECRET}\n---\n{SECRET}\n", encoding="utf-8")
    cache = tmp_path / "cache"
    cache.mkdir(mode=0o700)
    return fictif.root, outside, cache


# ---------------------------------------------------------------------------
# item 9: tubes, devices, links


@pytest.mark.parametrize("name", slow_but(["thematiques/t9.yaml", "phase.yaml", "dispositifs/9.9.md"], "phase.yaml"))
def test_a_fifo_in_the_dossier_is_a_finding_not_a_hang(tree, name):
    root, _, cache = tree
    (root / name).unlink(missing_ok=True)
    os.mkfifo(root / name)
    before = snapshot(root.parent, skip=cache)
    code, out, err, _ = run_check(root, cache)
    assert code == 1, err
    assert f"{root / name}: {SPECIAL}" in out
    assert "[fichier.special]" in out
    assert snapshot(root.parent, skip=cache) == before


def test_a_link_to_dev_zero_is_refused_at_once_with_little_memory(tree):
    root, _, cache = tree
    (root / "thematiques" / "t9.yaml").symlink_to("/dev/zero")
    (root / "budget.yaml").unlink()
    (root / "budget.yaml").symlink_to("/dev/zero")
    before = snapshot(root.parent, skip=cache)
    code, out, err, peak = run_check(root, cache)
    assert code == 1, err
    assert f"{root / 'thematiques' / 't9.yaml'}: {EXTERNAL}" in out
    assert f"{root / 'budget.yaml'}: {EXTERNAL}" in out
    assert peak < 300_000, f"mémoire de pointe {peak} Kio"
    assert snapshot(root.parent, skip=cache) == before


def test_devices_are_never_opened_and_reads_stop_at_the_limit(tmp_path):
    with pytest.raises(fsio.NotRegularError):
        fsio.read_regular("/dev/zero", 10)
    text, findings = loader.read_text(Path("/dev/zero"), "zero.yaml")  # no dossier to stay in: still refused
    assert text is None and [f.code for f in findings] == ["fichier.special"]
    assert findings[0].message.startswith("pas un fichier ordinaire (tube, périphérique…) : périphérique")
    big = tmp_path / "gros.yaml"
    with big.open("wb") as fh:  # sparse: no disk used, nothing read
        fh.truncate(loader.MAX_BYTES + 1)
    text, findings = loader.read_text(big, "gros.yaml")
    assert text is None and [f.code for f in findings] == ["fichier.taille"]
    limit = loader.MAX_BYTES
    assert findings[0].message == f"fichier trop gros : {limit + 1} octets (au plus {limit} octets)"
    with pytest.raises(fsio.TooBigError):
        fsio.read_regular(big, 100)


@pytest.mark.parametrize("name, target", slow_but([
    ("thematiques/x.yaml", "secret.yaml"),
    ("phase.yaml", "secret.yaml"),
    ("amendements.yaml", "secret.yaml"),
    ("dispositifs/x.md", "fiche.md"),
    ("thematiques", "."),  # a whole folder
    ("dispositifs", "."),
], ("phase.yaml", "secret.yaml"), ("thematiques", ".")))
def test_a_link_leading_out_of_the_dossier_is_refused_and_never_quoted(tree, name, target):
    root, outside, cache = tree
    link = root / name
    if link.is_dir():
        shutil.rmtree(link)
    link.unlink(missing_ok=True)
    link.symlink_to(outside / target)
    before = snapshot(root.parent, skip=cache)
    code, out, err, _ = run_check(root, cache)
    assert code == 1, err
    assert f"{link}: {EXTERNAL}" in out and "[fichier.lien_externe]" in out
    assert "S3CR3T" not in out + err
    assert snapshot(root.parent, skip=cache) == before


def test_the_secret_would_be_quoted_if_it_were_read(tree):
    """The control for the test above: read as a dossier file, the line is quoted in a finding."""
    root, outside, cache = tree
    shutil.copyfile(outside / "secret.yaml", root / "thematiques" / "x.yaml")
    code, out, _, _ = run_check(root, cache)
    assert code == 1 and "S3CR3T" in out


@pytest.mark.slow
def test_links_inside_the_dossier_are_still_followed(tree):
    root, _, cache = tree
    reference = run_check(root, "")[:2]  # what the untouched copy gives, with no cache
    (root / "sources").mkdir()
    (root / "thematiques" / "t1.yaml").rename(root / "sources" / "t1.yaml")
    (root / "thematiques" / "t1.yaml").symlink_to("../sources/t1.yaml")
    (root / "dispositifs").rename(root / "sources" / "dispositifs")
    (root / "dispositifs").symlink_to("sources/dispositifs")
    alias = root.parent / "alias"
    alias.symlink_to(root.name)  # the dossier itself reached through a link
    before = snapshot(root.parent, skip=cache)
    for source in (root, alias):
        code, out, err, _ = run_check(source, cache)
        assert (code, out) == (reference[0], reference[1].replace(str(root), str(source))), err
    assert snapshot(root.parent, skip=cache) == before


def test_the_amended_example_holds_exact_copies_of_the_example():
    """``phase-6-2024-amended`` repeats the example's files (links out of a dossier are not followed)."""
    base, amended = FIXTURES / "phase-6-2024", FIXTURES / "phase-6-2024-amended"
    names = ["phase.yaml", "budget.yaml", "structures.yaml",
             *(f"thematiques/{p.name}" for p in sorted((base / "thematiques").glob("*.yaml"))),
             *(f"modeles/{p.name}" for p in sorted((base / "modeles").glob("*.md")))]
    for name in names:
        assert not (amended / name).is_symlink(), name
        assert (amended / name).read_bytes() == (base / name).read_bytes(), (
            f"{name} : recopier fixtures/phase-6-2024/{name} dans fixtures/phase-6-2024-amended/")


# ---------------------------------------------------------------------------
# item 13: the parse cache


class Planted:
    """Unpickled, it creates the file ``marker``: what an attacker's entry would run."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'w').close()",)


def plant(root: Path, cache: Path, marker: Path) -> int:
    """Put a live pickle at the exact cache path of every file a check of ``root`` reads; return how many."""
    payload = pickle.dumps(Planted(marker))
    files = [(root / name, cls) for name, cls in CLASSES.items()]
    files += [(p, Thematique) for p in sorted((root / "thematiques").glob("*.yaml"))]
    for i, (path, cls) in enumerate(files):
        key = loader.cache_key(str(path), cls, path.read_text("utf-8"))
        entry = cache / key[:2] / key
        entry.parent.mkdir(parents=True, exist_ok=True)
        # bare (the old format), or behind 32 bytes where the new format keeps its signature
        entry.write_bytes(payload if i % 2 else b"\0" * 32 + payload)
    return len(files)


@pytest.mark.slow
def test_a_pickle_planted_in_the_cache_is_never_loaded(tree, tmp_path):
    root, _, cache = tree
    control = tmp_path / "controle"
    pickle.loads(pickle.dumps(Planted(control)))  # noqa: S301 - the payload is live
    assert control.exists()
    reference = run_check(root, "")[:2]
    marker = tmp_path / "execute"
    assert plant(root, cache, marker) == 5
    before = snapshot(root.parent, skip=cache)
    for _ in range(2):  # the first check writes signed entries over the planted ones, the second reads them
        code, out, err, _ = run_check(root, cache)
        assert (code, out) == reference, err
        assert not marker.exists()
    assert snapshot(root.parent, skip=cache) == before
    key = cache / fsio.KEY_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o1777])
@pytest.mark.slow
def test_a_cache_folder_others_can_write_is_ignored(tree, tmp_path, mode):
    root, _, cache = tree
    reference = run_check(root, "")[:2]
    marker = tmp_path / "execute"
    plant(root, cache, marker)
    (cache / fsio.KEY_FILE).write_bytes(b"k" * 32)  # even a key someone else chose
    os.chmod(cache / fsio.KEY_FILE, 0o600)
    os.chmod(cache, mode)
    before = snapshot(tmp_path)  # the cache folder included: nothing is written there either
    code, out, err, _ = run_check(root, cache)
    assert (code, out) == reference, err
    assert not marker.exists()
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="changer de propriétaire exige root")
@pytest.mark.slow
def test_a_cache_folder_owned_by_someone_else_is_ignored(tree, tmp_path):
    root, _, cache = tree
    marker = tmp_path / "execute"
    plant(root, cache, marker)
    os.chown(cache, 65534, 65534)
    reference = run_check(root, "")[:2]
    code, out, err, _ = run_check(root, cache)
    assert (code, out) == reference, err
    assert not marker.exists() and not (cache / fsio.KEY_FILE).exists()


def test_only_entries_signed_with_the_users_key_are_loaded(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("DELIBERATION_CACHE", str(cache))
    fsio.cache_put("ab" + "0" * 62, ("valeur", []))
    assert fsio.cache_get("ab" + "0" * 62) == ("valeur", [])
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache / fsio.KEY_FILE).stat().st_mode) == 0o600
    entry = cache / "ab" / ("ab" + "0" * 62)
    moved = cache / "ab" / ("ab" + "1" * 62)
    shutil.copyfile(entry, moved)  # a genuine entry under another key: bound to its own key
    assert fsio.cache_get(moved.name) is None
    marker = tmp_path / "execute"
    data = entry.read_bytes()
    entry.write_bytes(data[:32] + pickle.dumps(Planted(marker)))  # a genuine signature, another payload
    assert fsio.cache_get(entry.name) is None
    other = tmp_path / "autre"
    monkeypatch.setenv("DELIBERATION_CACHE", str(other))
    other.mkdir(mode=0o700)
    (other / fsio.KEY_FILE).write_bytes(b"k" * 32)
    os.chmod(other / fsio.KEY_FILE, 0o640)  # a key others can read: the cache is off
    fsio.cache_put("cd" + "0" * 62, ("valeur", []))
    assert fsio.cache_get("cd" + "0" * 62) is None and not (other / "cd").exists()
    assert not marker.exists()
