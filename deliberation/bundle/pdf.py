"""DOCX → PDF with LibreOffice, in batches, and PDFs made reproducible.

Starting LibreOffice costs seconds; converting in it costs a fraction of a second per document.
So each build starts at most ``jobs`` LibreOffice processes (one private profile each), hands each
a batch of documents, and runs them side by side. LibreOffice lays the pages out and updates the
page fields (``PAGE``, ``NUMPAGES``) while exporting, so « Ce document comprend N pages » is right (a
document converted in parts gets them drawn once assembled: ``bundle/parts.py``).
Its PDFs carry the time of conversion and a random identifier: ``normalise_pdf`` replaces both by
values derived from the build date and the document, so the same dossier gives the same bytes.

LibreOffice is kept warm for the build (``Office``): its processes are started while the documents are
rendered, and each batch is handed to a running one.

Faults: each LibreOffice run has a time limit (``DELIBERATION_LO_TIMEOUT`` seconds, else 30 s per
document and at least 60 s); a run that fails, crashes or exceeds it is killed with its whole process
group (the process alone where there are no groups, Windows) and run once more, then the build stops
with a French message naming the documents. No LibreOffice process outlives ``convert``, whatever ends
it (except SIGKILL: then the next build's ``write.recover`` kills what still runs in the scratch folder,
on Linux).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import math
import multiprocessing
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from deliberation.bundle.write import SIGKILL, os_error_text, processes_naming
from deliberation.findings import BuildError
from deliberation.render.watermark import WORD

#: Export filter options for PDF/A-2b (archiving), LibreOffice's JSON syntax (7.4 and later).
PDFA_FILTER = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'
#: Export filter options writing Word's bookmarks as named destinations (where an act's parts start).
DESTINATIONS_FILTER = 'pdf:writer_pdf_Export:{"ExportBookmarksToPDFDestination":{"type":"boolean","value":"true"}}'


#: Where LibreOffice's installer puts it on macOS (the program inside the application bundle).
MACOS_SOFFICE = ("/Applications/LibreOffice.app/Contents/MacOS/soffice",)


def usual_paths() -> list[Path]:
    r"""Where LibreOffice is installed by default on this system: Windows and macOS (none on Linux: PATH).

    On Windows, ``LibreOffice\program\soffice.exe`` under the ``ProgramW6432`` (64-bit programs seen by a
    32-bit Python), ``ProgramFiles`` and ``ProgramFiles(x86)`` folders, else under ``C:\Program Files``
    and ``C:\Program Files (x86)``.
    """
    if sys.platform == "win32":
        roots = [os.environ.get(name) for name in ("ProgramW6432", "ProgramFiles", "ProgramFiles(x86)")]
        roots = [r for r in roots if r] or [r"C:\Program Files", r"C:\Program Files (x86)"]
        return [Path(root, "LibreOffice", "program", "soffice.exe") for root in dict.fromkeys(roots)]
    if sys.platform == "darwin":
        return [Path(p) for p in MACOS_SOFFICE]
    return []


def soffice() -> str | None:
    """The LibreOffice executable, if installed.

    Looked up in this order: ``DELIBERATION_SOFFICE`` (set, it alone decides; empty: none), then
    ``soffice`` or ``libreoffice`` on the PATH, then the usual install locations (``usual_paths``).
    """
    explicit = os.environ.get("DELIBERATION_SOFFICE")
    if explicit is not None:
        return explicit or None
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found:
        return found
    for path in usual_paths():
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None


def _versionrc(exe: str) -> bytes | None:
    """The ``versionrc`` beside the program ``exe`` resolves to: only a LibreOffice installation has one."""
    try:
        return (Path(shutil.which(exe) or exe).resolve().parent / "versionrc").read_bytes()
    except OSError:
        return None


def converter_id() -> str:
    """Which LibreOffice build converts (its ``versionrc``), so that PDFs made by another are not reused."""
    exe = soffice()
    if not exe:
        return ""
    data = _versionrc(exe)
    if data is None:
        return Path(shutil.which(exe) or exe).resolve().name
    return hashlib.sha256(data).hexdigest()[:16]


def missing_message(exe: str | None = None) -> str:
    """What to tell the user when LibreOffice is not there (``exe``: the program named, not found)."""
    if exe:
        return (f"LibreOffice introuvable : DELIBERATION_SOFFICE désigne « {exe} », qui n'existe pas ou n'est "
                "pas exécutable ; corrigez cette variable ou produisez les seuls fichiers Word avec --sans-pdf")
    if sys.platform.startswith(("win", "darwin")):
        return ("LibreOffice introuvable (ni « soffice » dans le PATH, ni dans son dossier d'installation "
                "habituel) : installez LibreOffice (libreoffice.org), désignez-le par DELIBERATION_SOFFICE, ou "
                "produisez les seuls fichiers Word avec --sans-pdf")
    return ("LibreOffice introuvable (commande « soffice ») : installez le paquet libreoffice-writer-nogui "
            "(« make libreoffice ») ou produisez les seuls fichiers Word avec --sans-pdf")


#: Environment variable: seconds allowed to one LibreOffice run (one batch), instead of the default.
TIMEOUT_VAR = "DELIBERATION_LO_TIMEOUT"


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert: PDF/A or not, how many LibreOffice processes, time allowed, where to work.

    ``timeout`` (seconds per LibreOffice run) overrides ``DELIBERATION_LO_TIMEOUT``, which overrides
    ``seconds_per_document`` × documents (at least ``minimum_seconds``). ``scratch`` is the folder
    where the temporary working folder is made (named ``scratch_prefix…``); the system's by default.
    """

    pdfa: bool = False
    jobs: int = 2
    seconds_per_document: float = 30.0
    minimum_seconds: float = 60.0
    timeout: float | None = None
    scratch: Path | None = None
    scratch_prefix: str = "deliberation-pdf-"
    office: Office | None = None  # LibreOffice started ahead of the conversion (its working folder too)
    destinations: bool = False  # Word's bookmarks become named destinations (not with PDF/A)
    #: LibreOffice processes started (``office``) once this conversion's batches are handed out, warm
    #: for the next conversion (the sommaire, whose page numbers need this one's page counts).
    spare: int = 0
    #: Told how far the conversion is: (documents converted, documents in all, a batch has just ended).
    #: Called from the conversion's threads, every half second while PDFs appear and at each batch's end.
    progress: Callable[[int, int, bool], None] | None = None

    def limit(self, documents: int) -> float:
        """Seconds allowed to one LibreOffice run converting ``documents`` files.

        Raises:
            BuildError: ``DELIBERATION_LO_TIMEOUT`` is not a positive number.

        """
        if self.timeout is not None:
            return self.timeout
        raw = os.environ.get(TIMEOUT_VAR, "").strip()
        if raw:
            try:
                value = float(raw.replace(",", "."))
            except ValueError:
                value = 0.0
            if not 0 < value < float("inf"):
                msg = f"{TIMEOUT_VAR} : « {raw} » n'est pas un nombre de secondes positif"
                raise BuildError(msg)
            return value
        return max(self.minimum_seconds, self.seconds_per_document * documents)


FLAGS = ("--headless", "--norestore", "--nolockcheck", "--nodefault", "--nologo")

#: Each LibreOffice leads its own process group (session), killed whole; no such thing on Windows.
_OWN_GROUP = {"start_new_session": True} if os.name == "posix" else {}


def _run_batch(exe: str, files: list[Path], outdir: Path, profile: Path, opts: ConvertOptions):
    target = PDFA_FILTER if opts.pdfa else DESTINATIONS_FILTER if opts.destinations else "pdf"
    cmd = [exe, *FLAGS, f"-env:UserInstallation={profile.as_uri()}", "--convert-to", target, "--outdir", str(outdir),
           *map(str, files)]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **_OWN_GROUP)


def ipc_pipes(profile: Path) -> list[Path]:
    """Where the single-instance pipe of a LibreOffice running on ``profile`` appears.

    LibreOffice (desktop/source/app/officeipcthread.cxx) names it after the MD5 of its user
    installation URL (UTF-16, each byte in hexadecimal without leading zero); the pipe lives in
    ``/tmp``, or ``/var/tmp`` when ``/tmp`` cannot be written (sal/osl/unx/pipe.cxx). None on Windows
    (a named pipe, not a file).
    """
    if not hasattr(os, "getuid"):
        return []
    digest = hashlib.md5(profile.as_uri().encode("utf-16-le"), usedforsecurity=False).digest()  # noqa: S324
    name = f"OSL_PIPE_{os.getuid()}_SingleOfficeIPC_{''.join(format(b, 'x') for b in digest)}"
    return [Path("/tmp", name), Path("/var/tmp", name)]


class Office:
    """LibreOffice started ahead of the conversion: one process per profile, each ready for one batch.

    Starting LibreOffice costs about a second, which the build spends rendering its documents. When
    the batch is ready, ``soffice`` is run on the same profile as usual: LibreOffice hands its
    command line to the process already running there (its single-instance pipe) and waits until
    that process has converted the files. Only a LibreOffice installation (its ``versionrc`` found)
    is started ahead. A process that died or did not open its pipe in ``ready_seconds`` is discarded,
    and the batch starts LibreOffice itself. ``close`` kills whatever still runs and removes the
    working folder (made in ``opts.scratch``, named ``opts.scratch_prefix…``).
    """

    ready_seconds = 5.0

    def __init__(self, count: int, opts: ConvertOptions):
        try:
            self.root = Path(tempfile.mkdtemp(prefix=opts.scratch_prefix, dir=opts.scratch))
        except OSError as err:
            msg = f"conversion PDF impossible : dossier de travail inutilisable ({os_error_text(err)})"
            raise BuildError(msg) from err
        self.profiles: list[Path] = []  # started ahead and not used yet
        self._procs: dict[Path, subprocess.Popen] = {}
        self._lock = threading.Lock()
        self._started = 0
        try:
            self.start(count)
        except BaseException:  # a signal while starting: nothing is left running
            self.close()
            raise

    def start(self, count: int = 1) -> None:
        """Start ``count`` more LibreOffice processes (none if LibreOffice is not installed)."""
        exe = soffice()
        if not exe or not shutil.which(exe) or _versionrc(exe) is None or not ipc_pipes(self.root):
            return  # no LibreOffice, not an installation of it (no versionrc), or no pipe to watch: none ahead
        for _ in range(count):
            profile = self.root / f"warm-{self._started}"
            self._started += 1
            try:
                proc = subprocess.Popen(
                    [exe, *FLAGS, f"-env:UserInstallation={profile.as_uri()}"], stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **_OWN_GROUP)
            except OSError:
                break
            with self._lock:
                self._procs[profile] = proc
                self.profiles.append(profile)

    def __enter__(self) -> Office:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def take(self, profile: Path) -> bool:
        """True if a LibreOffice started ahead on ``profile`` listens: the next batch there is handed to it."""
        with self._lock:
            proc = self._procs.get(profile)
            if proc is None or profile not in self.profiles:
                return False
            self.profiles.remove(profile)
        pipes = ipc_pipes(profile)
        deadline = time.monotonic() + self.ready_seconds
        while proc.poll() is None and time.monotonic() < deadline:
            if any(p.exists() for p in pipes):
                return True
            time.sleep(0.02)
        self.discard(profile)
        return False

    def discard(self, profile: Path) -> None:
        """Kill the LibreOffice started on ``profile`` (if any) and forget that profile's state."""
        with self._lock:
            proc = self._procs.pop(profile, None)
            if profile in self.profiles:
                self.profiles.remove(profile)
        if proc is not None:
            _kill(proc)
            for pipe in ipc_pipes(profile):
                with contextlib.suppress(OSError):
                    pipe.unlink()
        shutil.rmtree(profile, ignore_errors=True)  # a process killed while starting may leave it half made

    def close(self) -> None:
        """Kill every LibreOffice started here and remove the working folder.

        A signal that interrupts ``subprocess.Popen`` can leave a process started but not recorded:
        whatever still names the working folder is killed too.
        """
        for profile in list(self._procs):
            self.discard(profile)
        for pid in processes_naming([self.root, self.root.as_uri()]):  # found on Linux only (/proc)
            if hasattr(os, "killpg"):
                with contextlib.suppress(OSError):
                    os.killpg(pid, SIGKILL)  # each LibreOffice leads its own process group
            with contextlib.suppress(OSError):
                os.kill(pid, SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


def _kill_group(proc) -> None:
    """SIGKILL the process group ``proc`` leads; where there are no groups (Windows), ``proc`` alone."""
    if hasattr(os, "killpg"):
        os.killpg(proc.pid, SIGKILL)
    else:
        proc.kill()


def _kill(proc) -> None:
    """SIGKILL the process group of ``proc`` (LibreOffice's launcher and soffice.bin), then reap it."""
    try:
        _kill_group(proc)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _whole_pdf(path: Path) -> bool:
    """True if ``path`` is a PDF written to its end (a full disk leaves LibreOffice's output truncated)."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(5)
            fh.seek(max(0, size - 1024))
            tail = fh.read()
    except OSError:
        return False
    return head == b"%PDF-" and b"%%EOF" in tail


def _failure(returncode: int, output: bytes | None) -> str:
    """Why a LibreOffice run failed, in French: exit code or signal, and its last line of output."""
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = str(-returncode)
        why = f"arrêté par le signal {name}"
    elif returncode:
        why = f"code de sortie {returncode}"
    else:
        why = "terminé sans produire tous les PDF entiers"
    tail = (output or b"").decode("utf-8", "replace").strip().splitlines()[-1:]
    said = _lo_said(tail[0]) if tail and tail[0].strip() else ""
    return f"{why} : {said}" if said else why


#: What LibreOffice prints when a conversion fails (English) → French.
_LO_MESSAGES = (
    (re.compile(r"source file could not be loaded", re.I), "LibreOffice n'a pas pu ouvrir le document"),
    (re.compile(r"no export filter", re.I), "LibreOffice n'a pas de filtre PDF pour ce document"),
    (re.compile(r"could not be (?:written|stored)|write error|general error|impl_store|Error Area:Io", re.I),
     "LibreOffice n'a pas pu écrire le PDF"),
    (re.compile(r"user installation could not be completed|profile", re.I),
     "profil de LibreOffice inutilisable"),
    (re.compile(r"failed to connect|cannot connect to display|no display", re.I),
     "LibreOffice n'a pas pu démarrer (affichage)"),
)


def _lo_said(line: str) -> str:
    """LibreOffice's last line of output, in French when known; never its English wording."""
    for pattern, french in _LO_MESSAGES:
        if pattern.search(line):
            return french
    return "message de LibreOffice non reconnu (relancer la conversion à la main pour le lire)"


#: Files handed to one LibreOffice process. Its launcher (oosplash, LibreOffice 7.4) passes at most
#: 243 file arguments on and exits 0 having silently skipped the rest.
MAX_FILES_PER_BATCH = 200

#: Below this many documents per process, one more LibreOffice process costs more than it saves.
DOCUMENTS_PER_START = 8


def convert(docs: dict[str, bytes], opts: ConvertOptions | None = None) -> dict[str, bytes]:
    """Convert DOCX files (relative path → bytes) to PDF (same path, ``.pdf``), raw LibreOffice output.

    The files are split into batches of at most ``MAX_FILES_PER_BATCH``; ``opts.jobs`` LibreOffice
    processes run side by side, each with its own profile, taking the next batch when done. A batch
    that fails, misses a file or exceeds its time limit is run again once.

    Raises:
        BuildError: LibreOffice is missing, or a document could not be converted (named), or the
            scratch folder cannot be written.

    """
    opts = opts or ConvertOptions()
    if not docs:
        return {}
    exe = soffice()
    if exe is None:
        raise BuildError(missing_message())
    if shutil.which(exe) is None:
        raise BuildError(missing_message(exe))
    names = sorted(docs)
    try:
        return _convert(exe, names, docs, opts)
    except OSError as err:
        msg = f"conversion PDF impossible : dossier de travail inutilisable ({os_error_text(err)})"
        raise BuildError(msg) from err


def _convert(exe: str, names: list[str], docs: dict[str, bytes], opts: ConvertOptions) -> dict[str, bytes]:
    office = opts.office
    warm = list(office.profiles) if office else []
    if office is not None and opts.spare:
        office.start(opts.spare)  # after ``warm`` is taken: not this conversion's
    # starting LibreOffice costs about as much as converting 8 documents: a few documents, one process
    # (unless more are already started)
    jobs = max(1, min(opts.jobs, len(names), max(-(-len(names) // DOCUMENTS_PER_START), len(warm))))
    # as many batches per process, so that the processes end together (3 batches for 2 processes
    # would leave one idle for a third of the time)
    n = jobs * -(-len(names) // (jobs * MAX_FILES_PER_BATCH))
    work = (tempfile.TemporaryDirectory(prefix="convert-", dir=office.root) if office
            else tempfile.TemporaryDirectory(prefix=opts.scratch_prefix, dir=opts.scratch))
    with work as tmp:
        root = Path(tmp)
        batches = []
        for j in range(n):
            part = names[j::n]  # round robin: each batch gets a similar mix of documents
            indir, outdir = root / f"in-{j}", root / f"out-{j}"
            indir.mkdir()
            outdir.mkdir()
            files = []
            for i, name in enumerate(part):
                path = indir / f"{i:05d}.docx"
                path.write_bytes(docs[name])
                files.append(path)
            batches.append((part, files, outdir))
        profiles: queue.Queue = queue.Queue()
        for k in range(jobs):
            profiles.put(warm[k] if k < len(warm) else root / f"profile-{k}")

        limits = [opts.limit(len(part)) for part, _, _ in batches]
        live: set = set()  # LibreOffice processes running, killed if convert is interrupted
        stop = threading.Event()
        lock = threading.Lock()

        def run(j: int) -> tuple[int, str] | None:
            part, files, outdir = batches[j]
            limit = limits[j]
            why = ""
            for attempt in (1, 2):
                profile = profiles.get()  # never two processes on one profile
                try:
                    handed = office is not None and office.take(profile)  # to a LibreOffice started ahead
                    with lock:
                        if stop.is_set():
                            return j, "interrompu"
                        try:
                            proc = _run_batch(exe, files, outdir, profile, opts)
                        except OSError as err:
                            why = f"lancement impossible de {exe} : {os_error_text(err)}"
                            continue
                        live.add(proc)
                    try:
                        output, _ = proc.communicate(timeout=limit)
                    except subprocess.TimeoutExpired:
                        why = f"délai de {limit:g} s dépassé ({TIMEOUT_VAR} pour le changer)"
                        continue
                    finally:
                        _kill(proc)  # the launcher may leave soffice.bin behind: the whole group goes
                        with lock:
                            live.discard(proc)
                        if handed:  # that LibreOffice is used up (it ends by itself), or has failed
                            office.discard(profile)
                finally:
                    profiles.put(profile)
                done = all(_whole_pdf(outdir / f.with_suffix(".pdf").name) for f in files)
                if proc.returncode == 0 and done:
                    return None
                why = _failure(proc.returncode, output)
                if shutil.disk_usage(outdir).free < 1 << 20:  # LibreOffice says « Access » or « Space » error
                    why = f"disque plein dans {opts.scratch or tempfile.gettempdir()} ; {why}"
                if attempt == 1:
                    time.sleep(0.5)
            return j, why

        report = _Progress(opts.progress, [outdir for _, _, outdir in batches], len(names))

        def tracked(j: int) -> tuple[int, str] | None:
            result = run(j)
            if result is None:
                report.batch_done(len(batches[j][0]))
            return result

        with ThreadPoolExecutor(max_workers=jobs) as pool, report:
            try:
                failed = [f for f in pool.map(tracked, range(n)) if f is not None]
            except BaseException:  # KeyboardInterrupt, SystemExit from a signal handler…
                with lock:
                    stop.set()
                    for proc in list(live):
                        with contextlib.suppress(OSError):
                            _kill_group(proc)
                if office is not None:
                    office.close()
                raise
        if failed:
            j, why = failed[0]
            part, files, outdir = batches[j]
            missing = [name for name, f in zip(part, files, strict=True)
                       if not _whole_pdf(outdir / f.with_suffix(".pdf").name)]
            shown = ", ".join(missing[:5]) + (f" (et {len(missing) - 5} autre(s))" if len(missing) > 5 else "")
            msg = f"conversion PDF impossible par LibreOffice, après 2 essais ({why}) : {shown or part[0]}"
            raise BuildError(msg)
        out = {}
        for part, files, outdir in batches:
            for name, f in zip(part, files, strict=True):
                out[re.sub(r"\.docx$", ".pdf", name)] = (outdir / f.with_suffix(".pdf").name).read_bytes()
        return out


class _Progress:
    """Tells ``opts.progress`` how many PDFs are done.

    Polled from the batches' output folders, and told at each batch's end (the count then includes
    every document of the batches already done).
    """

    POLL = 0.5

    def __init__(self, tell: Callable[[int, int, bool], None] | None, outdirs: list[Path], total: int):
        self.tell, self.outdirs, self.total = tell, outdirs, total
        self.done = 0  # documents of the batches finished
        self.shown = -1
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> _Progress:
        if self.tell is not None:
            self.tell(0, self.total, False)
            self.shown = 0
            self.thread = threading.Thread(target=self._poll, daemon=True, name="pdf-progress")
            self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join()

    def _count(self) -> int:
        try:
            seen = sum(1 for d in self.outdirs for _ in d.glob("*.pdf"))
        except OSError:
            return 0
        return min(seen, self.total)

    def _poll(self) -> None:
        while not self.stop.wait(self.POLL):
            with self.lock:
                now = max(self.done, self._count())
                if now > self.shown:
                    self.shown = now
                    self.tell(now, self.total, False)

    def batch_done(self, documents: int) -> None:
        """One batch of ``documents`` has been converted."""
        if self.tell is None:
            return
        with self.lock:
            self.done += documents
            now = max(self.done, self.shown)
            self.shown = now
            self.tell(now, self.total, True)


def _pdf_date(when: dt.datetime) -> str:
    return when.strftime("D:%Y%m%d%H%M%S+00'00'")


def normalise_pdf(data: bytes, when: dt.datetime, title: str | None = None) -> bytes:
    """Rewrite a PDF with fixed dates, producer and ``/ID`` (derived from its content): reproducible bytes."""
    out, pages = _normalise(data, when, title)
    _PAGES[out] = pages
    return out


#: Below this many PDFs, normalising them in this process is faster than forking workers.
NORMALISE_PARALLEL_FROM = 64


def normalise_many(raw: dict[str, bytes], when: dt.datetime, titles: dict[str, str],
                   jobs: int | None = None, projets: set[str] | frozenset[str] = frozenset()) -> dict[str, bytes]:
    """``normalise_pdf`` of every ``name → PDF`` (title from ``titles``), over the cores for many PDFs.

    The PDFs named in ``projets`` get « PROJET » across every page (``draw_watermark``). The result is
    the same, byte for byte, whatever the number of processes; each PDF's page count is kept
    (``page_count`` does not read it again).
    """
    names = sorted(raw)
    jobs = jobs or os.cpu_count() or 1
    items = [(raw[n], when, titles.get(n), n in projets) for n in names]
    if jobs <= 1 or len(items) < NORMALISE_PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        done = [_normalise(*item) for item in items]
    else:
        import pypdf.generic  # noqa: F401 - loaded before forking, as the workers use it

        size = max(8, len(items) // (jobs * 4))
        batches = [items[k:k + size] for k in range(0, len(items), size)]
        with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            done = [one for batch in pool.map(_normalise_batch, batches) for one in batch]
    out = {}
    for name, (data, pages) in zip(names, done, strict=True):
        _PAGES[data] = pages
        out[name] = data
    return out


def _normalise_batch(items: list) -> list[tuple[bytes, int]]:
    return [_normalise(*item) for item in items]


def _normalise(data: bytes, when: dt.datetime, title: str | None, projet: bool = False) -> tuple[bytes, int]:
    from pypdf import PdfReader, PdfWriter

    reader = PdfReader(io.BytesIO(data))
    writer = PdfWriter(clone_from=reader)
    return finish(writer, when, title, projet, fallback=data), len(reader.pages)


def _page_content(page, digest) -> None:
    """Feed ``digest`` with the bytes drawing ``page`` (its content streams as stored, in order).

    As stored, not decoded: decoding would keep every page's decoded content in memory (pypdf caches
    it on the stream), hundreds of megabytes for ``bundle.pdf`` of a large phase.
    """
    from pypdf.generic import ArrayObject

    contents = page.get("/Contents")
    if contents is None:
        return
    contents = contents.get_object()
    for stream in contents if isinstance(contents, ArrayObject) else [contents]:
        digest.update(stream.get_object()._data)


def finish(writer, when: dt.datetime, title: str | None, projet: bool = False, fallback: bytes = b"") -> bytes:
    """The bytes of ``writer`` made reproducible: fixed dates, producer and ``/ID`` (from its pages' content).

    A draft (``projet``) gets « PROJET » across every page. Named destinations (Word bookmarks, which
    LibreOffice exports to find an act's parts) are left out.
    """
    from pypdf.generic import ArrayObject, ByteStringObject, StreamObject

    if projet:
        draw_watermark(writer)
    stamp = _pdf_date(when)
    meta = {"/CreationDate": stamp, "/ModDate": stamp, "/Producer": "LibreOffice, deliberation",
            "/Creator": "deliberation", "/Author": "Département du Pas-de-Calais"}
    if title:
        meta["/Title"] = title
    writer.add_metadata(meta)
    root = writer._root_object
    root.pop("/Dests", None)
    if "/Names" in root:
        names = root["/Names"].get_object()
        names.pop("/Dests", None)
        if not names:
            del root["/Names"]
    if "/Metadata" in root:  # XMP (PDF/A): same dates, no random document id
        xmp = root["/Metadata"].get_object()
        text = xmp.get_data().decode("utf-8")
        iso = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        text = re.sub(r"(<xmp:(?:CreateDate|ModifyDate|MetadataDate)>)[^<]*(<)", rf"\g<1>{iso}\g<2>", text)
        text = re.sub(r"uuid:[0-9a-fA-F-]{36}", "uuid:00000000-0000-0000-0000-000000000000", text)
        if isinstance(xmp, StreamObject):
            xmp.set_data(text.encode("utf-8"))
    for intent in root.get("/OutputIntents", []):  # LibreOffice dates the sRGB profile it embeds
        icc = intent.get_object().get("/DestOutputProfile")
        if icc is not None:
            stream = icc.get_object()
            stream.set_data(fixed_icc(stream.get_data(), when))
    digest = hashlib.md5(usedforsecurity=False)  # noqa: S324 - an identifier, not security
    for page in writer.pages:
        _page_content(page, digest)
    ident = digest.digest() if len(writer.pages) else hashlib.md5(fallback, usedforsecurity=False).digest()  # noqa: S324
    writer._ID = ArrayObject([ByteStringObject(ident), ByteStringObject(ident)])
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------
# drawing on finished pages: the dossier's page numbers, the « PROJET » watermark


def display_matrix(page) -> tuple[tuple[float, ...], float, float]:
    """The matrix from the displayed page's coordinates to the page's own, and the displayed size.

    A page may be drawn in a box that does not start at (0, 0) and be turned by ``/Rotate`` (clockwise,
    by quarter turns) when shown: what is drawn through this matrix is placed as the reader sees the page.
    """
    box = page.cropbox
    x0, y0, x1, y1 = (float(v) for v in (box.left, box.bottom, box.right, box.top))
    turn = int(page.rotation or 0) % 360
    if turn == 90:
        return (0, 1, -1, 0, x1, y0), y1 - y0, x1 - x0
    if turn == 180:
        return (-1, 0, 0, -1, x1, y1), x1 - x0, y1 - y0
    if turn == 270:
        return (0, -1, 1, 0, x0, y1), y1 - y0, x1 - x0
    return (1, 0, 0, 1, x0, y0), x1 - x0, y1 - y0


def matrix_operator(matrix: tuple[float, ...]) -> bytes:
    """``a b c d e f cm``, written the same way for the same matrix."""
    return (" ".join(f"{v:.4f}".rstrip("0").rstrip(".") or "0" for v in matrix) + " cm").encode("ascii")


def base14_font(writer, base: str):
    """A reference to a new (not embedded) base-14 Type 1 font dictionary, e.g. ``Helvetica``."""
    from pypdf.generic import DictionaryObject, NameObject

    return writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject(f"/{base}"), NameObject("/Encoding"): NameObject("/WinAnsiEncoding"),
    }))


def add_drawing(writer, page, font_name: str, font, before: bytes = b"", after: bytes = b"") -> None:
    """Draw ``before`` under the page's content and ``after`` over it; ``font_name`` names ``font`` for both.

    The page's own content is wrapped in ``q``/``Q``, so that no state it leaves behind moves what is
    drawn after it.
    """
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

    def stream(data: bytes):
        obj = DecodedStreamObject()
        obj.set_data(data)
        return writer._add_object(obj)

    contents = page.get("/Contents")
    if contents is None:
        old = []
    else:
        old = list(contents.get_object()) if isinstance(contents.get_object(), ArrayObject) else [contents]
    head = [stream(b"q " + before + b" Q")] if before else []
    page[NameObject("/Contents")] = ArrayObject([*head, stream(b"q"), *old, stream(b"Q " + after)])
    if "/Resources" not in page:
        page[NameObject("/Resources")] = DictionaryObject()
    resources = page["/Resources"].get_object()
    if "/Font" not in resources:
        resources[NameObject("/Font")] = DictionaryObject()
    resources["/Font"].get_object()[NameObject(f"/{font_name}")] = font


#: The watermark: its size (points), grey level (0 black, 1 white) and turn (degrees, anticlockwise).
WATERMARK_SIZE, WATERMARK_GREY, WATERMARK_ANGLE = 110, 0.82, 45
#: Widths (thousandths of the size) of Helvetica-Bold's capitals, and its cap height.
_HELVETICA_BOLD = {"P": 667, "R": 722, "O": 778, "J": 556, "E": 667, "T": 611}
_CAP_HEIGHT = 718


def watermark_stream(width: float, height: float) -> bytes:
    """« PROJET » in light grey Helvetica-Bold, turned 45°, centred on a ``width`` × ``height`` page as displayed."""
    w = sum(_HELVETICA_BOLD[c] for c in WORD) * WATERMARK_SIZE / 1000
    a = math.radians(WATERMARK_ANGLE)
    turn = matrix_operator((math.cos(a), math.sin(a), -math.sin(a), math.cos(a), width / 2, height / 2))
    return turn + (f" BT /DlbW {WATERMARK_SIZE} Tf {WATERMARK_GREY} g {-w / 2:.2f} "
                   f"{-_CAP_HEIGHT * WATERMARK_SIZE / 2000:.2f} Td ({WORD}) Tj ET").encode("ascii")


def draw_watermark(writer) -> None:
    """« PROJET » across every page of ``writer``, under the page's content (as Word's watermark is)."""
    font = base14_font(writer, "Helvetica-Bold")
    for page in writer.pages:
        matrix, width, height = display_matrix(page)
        add_drawing(writer, page, "DlbW", font, before=matrix_operator(matrix) + b" " + watermark_stream(width, height))


def fixed_icc(profile: bytes, when: dt.datetime) -> bytes:
    """An ICC profile with its creation date set to ``when`` (and its profile id recomputed)."""
    if len(profile) < 128:
        return profile
    head = bytearray(profile)
    head[24:36] = b"".join(x.to_bytes(2, "big") for x in (when.year, when.month, when.day, 0, 0, 0))
    if any(head[84:100]):
        probe = bytearray(head)
        probe[44:48] = probe[64:68] = b"\0" * 4
        probe[84:100] = b"\0" * 16
        head[84:100] = hashlib.md5(bytes(probe), usedforsecurity=False).digest()  # noqa: S324 - ICC profile id
    return bytes(head)


#: Page counts of the PDFs read or written in this process, by content.
_PAGES: dict[bytes, int] = {}


def remember_pages(data: bytes, pages: int) -> None:
    """Record that the PDF ``data`` has ``pages`` pages (``page_count`` will not read it)."""
    if len(_PAGES) >= 4096:
        _PAGES.clear()
    _PAGES[data] = pages


def page_count(data: bytes) -> int:
    """Number of pages of a PDF (read once per distinct PDF: the sommaire and the manifest both ask)."""
    from pypdf import PdfReader

    if data not in _PAGES:
        if len(_PAGES) >= 4096:
            _PAGES.clear()
        fast = _fast_page_count(data)
        _PAGES[data] = fast if fast is not None else len(PdfReader(io.BytesIO(data)).pages)
    return _PAGES[data]


_ROOT = re.compile(rb"/Root\s+(\d+)\s+0\s+R")
_DEST = re.compile(rb"/([A-Za-z0-9_.#-]+)\s*\[\s*(\d+)\s+0\s+R\s*/XYZ\s+(-?[\d.]+|null)\s+(-?[\d.]+|null)\s+[^\]]*\]")
_REF = re.compile(rb"(\d+)\s+0\s+R")


def _object(data: bytes, number: int) -> bytes | None:
    """The text of object ``number 0 obj`` when written once, uncompressed; else None."""
    head = b"\n%d 0 obj" % number
    at = data.find(head)
    if at < 0 or data.find(head, at + 1) >= 0 or data[at + len(head):at + len(head) + 1] not in b" \r\n<":
        return None
    start = at + len(head)
    end = data.find(b"endobj", start)
    return data[start:end] if end >= 0 else None


def _catalog(data: bytes) -> tuple[bytes, bytes] | None:
    """The catalog's and the root page tree node's texts, for a PDF of one revision without object streams."""
    roots = _ROOT.findall(data[-4096:])
    if len(roots) != 1 or data.count(b"/ObjStm") or data.count(b"startxref") != 1:  # one revision
        return None
    catalog = _object(data, int(roots[0]))
    pages = re.search(rb"/Pages\s+(\d+)\s+0\s+R", catalog or b"")
    tree = _object(data, int(pages.group(1))) if pages is not None else None
    return (catalog, tree) if tree is not None else None


def _fast_page_count(data: bytes) -> int | None:
    """The ``/Count`` of the root page tree node (the number of pages), read directly; None if not found."""
    found = _catalog(data)
    count = re.search(rb"/Count\s+(\d+)", found[1]) if found is not None else None
    return int(count.group(1)) if count is not None and b"/Type/Pages" in found[1].replace(b" ", b"") else None


def _fast_destinations(data: bytes) -> dict[str, tuple[int, float, float]] | None:
    """Named destinations as LibreOffice writes them (a ``/Dests`` dictionary, one flat page tree); else None."""
    found = _catalog(data)
    if found is None:
        return None
    catalog, tree = found
    dests = re.search(rb"/Dests\s+(\d+)\s+0\s+R", catalog)
    if b"/Names" in catalog:
        return None
    kids = re.search(rb"/Kids\s*\[([^\]]*)\]", tree or b"")
    count = re.search(rb"/Count\s+(\d+)", tree or b"")
    if kids is None or count is None:
        return None
    order = {int(n): k for k, n in enumerate(_REF.findall(kids.group(1)))}
    if len(order) != int(count.group(1)):
        return None  # a page tree of more than one level
    if dests is None:
        return {}
    text = _object(data, int(dests.group(1)))
    if text is None or not text.lstrip().startswith(b"<<"):
        return None
    out = {}
    for m in _DEST.finditer(text):
        page = order.get(int(m.group(2)))
        if page is None:
            return None
        name = re.sub(rb"#([0-9A-Fa-f]{2})", lambda x: bytes([int(x.group(1), 16)]), m.group(1)).decode("latin-1")
        out[name] = (page, *(0.0 if v == b"null" else float(v) for v in (m.group(3), m.group(4))))
    return out if len(out) == text.count(b"/XYZ") else None


def named_destinations(data: bytes) -> dict[str, tuple[int, float, float]]:
    """The named destinations of the PDF ``data``: name → (page index, left, top).

    LibreOffice's files are read directly (a few milliseconds for hundreds of destinations, where pypdf
    takes fifty); any other shape is read by pypdf.
    """
    fast = _fast_destinations(data)
    if fast is not None:
        return fast
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    out = {}
    for name, dest in reader.named_destinations.items():
        page = reader.get_destination_page_number(dest)
        out[str(name).lstrip("/")] = (page, float(dest.get("/Left") or 0), float(dest.get("/Top") or 0))
    return out
