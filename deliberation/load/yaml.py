"""YAML files → model objects, keeping line marks; every problem is a located finding."""

from __future__ import annotations

import errno
import hashlib
import hmac
import os
import pickle
import re
import secrets
import stat
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from deliberation.engine import engine_sha
from deliberation.findings import Finding, Loc, error
from deliberation.messages import (
    EXTERNAL_LINK,
    SPECIAL_FILE,
    TOO_BIG,
    TOO_BIG_GROWING,
    file_kind,
    os_reason,
    yaml_problem,
)
from deliberation.schema import Ctx, Invalid, Record

MAX_BYTES = 50 * 1024 * 1024
#: Deepest nesting accepted: libyaml's composer recurses on the C stack (about 300 bytes a level) and
#: crashes the process (SIGSEGV) past some 25 000 levels on an 8 MiB stack, which « - - - … » or « [[[… »
#: reach in a few dozen kilobytes. A dossier nests about 8 levels.
MAX_DEPTH = 10000
_LEAD = re.compile(r"[ \t?-]*")


class _PlainResolver(VersionedResolver):
    """Resolve no implicit type: the schema converts every scalar from its text (no floats)."""

    def resolve(self, kind, value, implicit):  # noqa: D102 - ruamel API
        if kind is ScalarNode:
            return self.DEFAULT_SCALAR_TAG
        if kind is MappingNode:
            return self.DEFAULT_MAPPING_TAG
        return self.DEFAULT_SEQUENCE_TAG


def _yaml() -> YAML:
    y = YAML(typ="base")  # C parser when ruamel.yaml.clib is installed
    y.Resolver = _PlainResolver
    return y


def compose_text(text: str, file: str) -> tuple[Node | None, list[Finding]]:
    """Parse YAML text into a node tree (no Python objects built); errors become findings."""
    try:
        too_deep = _too_deep(text, file)
        if too_deep is not None:
            return None, [too_deep]
        node = _yaml().compose(text)
    except MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        problem = yaml_problem((err.problem or err.context or "").strip())
        return None, [error("yaml.syntaxe", f"YAML mal formé : {problem}", Loc(file, line))]
    except ReaderError as err:  # a character YAML refuses (a control character): say which, and where
        char = err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or "?")
        at = text.find(chr(char))  # the reader's position counts bytes with the C parser, characters without
        line = text.count("\n", 0, at) + 1 if at >= 0 else 0
        msg = f"caractère interdit dans le fichier : U+{char:04X} (caractère de contrôle)"
        return None, [error("texte.controle", msg, Loc(file, line))]
    except YAMLError as err:
        return None, [error("yaml.syntaxe", f"YAML mal formé : {yaml_problem(str(err))}", Loc(file, 0))]
    except RecursionError:
        return None, [error("yaml.profondeur", "YAML trop profondément imbriqué", Loc(file, 0))]
    if node is None:
        return None, [error("fichier.vide", "fichier vide", Loc(file, 1))]
    return node, []


def _too_deep(text: str, file: str) -> Finding | None:
    """A nesting deeper than ``MAX_DEPTH``, found from the parser's events (iterative) before composing.

    Only when a cheap bound allows it: each flow level needs a ``[`` or ``{``, and block levels start
    at non-decreasing columns within the lines' leading spaces, dashes and question marks.
    """
    lead = max((_LEAD.match(line).end() for line in text.splitlines()), default=0)
    if text.count("[") + text.count("{") + 2 * (lead + 1) <= MAX_DEPTH:
        return None
    depth = 0
    for event in _yaml().parse(text):
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                msg = f"YAML trop profondément imbriqué : plus de {MAX_DEPTH} niveaux"
                return error("yaml.profondeur", msg, Loc(file, event.start_mark.line + 1))
        elif isinstance(event, CollectionEndEvent):
            depth -= 1
    return None


#: Flags for opening a file to read: never wait on a tube, never follow a last link (absent on Windows).
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


class NotRegularError(OSError):
    """The path is a tube, a device or a socket: it is never read."""

    def __init__(self, mode: int):
        super().__init__(f"not a regular file (mode {mode:o})")
        self.mode = mode


class TooBigError(OSError):
    """The file holds more than the limit; ``size`` is its size, or None when it grew while read."""

    def __init__(self, size: int | None):
        super().__init__(f"file too big ({size} bytes)")
        self.size = size


def read_regular(path: str | os.PathLike, limit: int) -> bytes:
    """The bytes of regular file ``path``, at most ``limit`` of them.

    Anything else is refused before it is opened (a tube would block, ``/dev/zero`` never ends), then
    again on the opened descriptor (the path may have changed meanwhile); a last link is not followed
    (``path`` is expected resolved), and no more than ``limit`` + 1 bytes are ever read.

    Raises:
        IsADirectoryError: a folder.
        NotRegularError: a tube, device or socket.
        TooBigError: more than ``limit`` bytes.
        OSError: any other failure (missing, refused, link loop…).

    """
    st = os.stat(path)
    _regular(st.st_mode)
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        _regular(st.st_mode)
        if st.st_size > limit:
            raise TooBigError(st.st_size)
        chunks, total, want = [], 0, st.st_size + 1  # one read in the usual case, then until the end
        while total <= limit:
            chunk = os.read(fd, min(want, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            want = 1 << 20
        if total > limit:
            raise TooBigError(None)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _regular(mode: int) -> None:
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    if not stat.S_ISREG(mode):
        raise NotRegularError(mode)


def is_inside(real: str, folder: str) -> bool:
    """True when resolved path ``real`` is ``folder`` (resolved too) or lies under it."""
    return real == folder or real.startswith(folder.rstrip(os.sep) + os.sep)


def external_link(file: str) -> Finding:
    """The finding for a path whose links lead out of the dossier (it names the link, never the content)."""
    return error("fichier.lien_externe", EXTERNAL_LINK, Loc(file))


def read_text(path: Path, file: str, within: str | None = None) -> tuple[str | None, list[Finding]]:
    """Read a UTF-8 text file; a missing, special, huge or undecodable file is a finding.

    Only a regular file is read, at most ``MAX_BYTES`` + 1 bytes of it. With ``within`` (a resolved
    folder: the dossier), a path whose symbolic links lead out of that folder is refused, unread.
    """
    real = os.path.realpath(path)
    if within is not None and not is_inside(real, within):
        return None, [external_link(file)]
    try:
        data = read_regular(real, MAX_BYTES)
    except FileNotFoundError:
        return None, [error("fichier.manquant", f"fichier manquant : {path.name}", Loc(file))]
    except NotRegularError as err:
        return None, [error("fichier.special", SPECIAL_FILE.format(kind=file_kind(err.mode)), Loc(file))]
    except TooBigError as err:
        msg = (TOO_BIG.format(size=err.size, limit=MAX_BYTES) if err.size is not None
               else TOO_BIG_GROWING.format(limit=MAX_BYTES))
        return None, [error("fichier.taille", msg, Loc(file))]
    except OSError as err:
        return None, [error("fichier.illisible", f"fichier illisible : {os_reason(err)}", Loc(file))]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        return None, [error("fichier.encodage", "fichier non encodé en UTF-8", Loc(file, line))]
    return text, []


def load_record(path: Path, cls: type, file: str | None = None,
                within: str | None = None) -> tuple[object | None, list[Finding]]:
    """Load one YAML file into an instance of model class ``cls`` (from the parse cache when unchanged).

    ``within``: the resolved dossier folder, which the file's links may not leave (see ``read_text``).
    """
    file = file or str(path)
    text, findings = read_text(path, file, within)
    if text is None:
        return None, findings
    key = cache_key(file, cls, text)
    hit = cache_get(key)
    if hit is not None:
        return hit
    result = convert_text(text, cls, file)
    cache_put(key, result)
    return result


# ---------------------------------------------------------------------------
# parse cache: a file already read by this engine is not parsed again (like mypy's cache)


def cache_dir() -> Path | None:
    """Where parsed files are kept: ``DELIBERATION_CACHE`` (empty: no cache), else ``~/.cache/deliberation``."""
    explicit = os.environ.get("DELIBERATION_CACHE")
    if explicit is not None:
        return Path(explicit) if explicit else None
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "deliberation" / "parse"


def cache_key(file: str, cls: type, text: str) -> str:
    """The file's location, model class, content and the engine's own code: any change misses."""
    h = hashlib.sha256("\0".join((engine_sha(), file, cls.__name__)).encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


#: The per-user secret that signs every entry, in the cache root (mode 0600, never group/world-readable).
KEY_FILE = "cle-hmac"
_KEY_BYTES = 32
_MAC_BYTES = hashlib.sha256().digest_size
#: A cache entry larger than this is a miss (an entry holds one parsed file or one compiled template).
_ENTRY_MAX = 4 * MAX_BYTES
_KEYS: dict[str, bytes] = {}  # cache root → its key, read once per process


def _owned_private(st: os.stat_result, forbidden: int) -> bool:
    """Owned by the current user and without the ``forbidden`` mode bits (no owner check without getuid)."""
    getuid = getattr(os, "getuid", None)
    return getuid is None or (st.st_uid == getuid() and not st.st_mode & forbidden)


def _cache_root(create: bool) -> tuple[Path, bytes] | None:
    """The cache root and its key; None (no cache) unless the folder is the user's own and not group/world-writable.

    Anyone who could write there could plant an entry that unpickles into code, hence the rights check;
    entries are also signed with a key only this user can read (see ``cache_get``).
    """
    root = cache_dir()
    if root is None:
        return None
    try:
        if create:
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.stat(root)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or not _owned_private(st, 0o022):
        return None
    name = str(root)
    key = _KEYS.get(name)
    if key is None:
        key = _read_key(root, create)
        if key is None:
            return None
        _KEYS[name] = key
    return root, key


def _read_key(root: Path, create: bool) -> bytes | None:
    """The root's key, created (O_EXCL, mode 0600) when missing; None if it is not this user's private file."""
    path = root / KEY_FILE
    if create:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                         | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o600)
        except FileExistsError:
            pass  # made earlier, or by a process running alongside: read it
        except OSError:
            return None
        else:
            try:
                os.write(fd, secrets.token_bytes(_KEY_BYTES))
            except OSError:
                return None
            finally:
                os.close(fd)
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or not _owned_private(st, 0o077) or st.st_size != _KEY_BYTES:
            return None  # a short key is still being written by another process: not memoised, tried again
        key = os.read(fd, _KEY_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return key if len(key) == _KEY_BYTES else None


def _mac(secret: bytes, key: str, payload) -> bytes:
    """HMAC-SHA256 of an entry, bound to its key (an entry moved under another key does not verify)."""
    h = hmac.new(secret, key.encode("ascii", "replace") + b"\0", hashlib.sha256)
    h.update(payload)
    return h.digest()


def cache_get(key: str):
    """The cached ``(value, findings)`` for ``key``, or None (missing, unreadable or unsigned: a miss).

    An entry is unpickled only once its HMAC verifies with this user's key: nothing planted in the cache
    folder is ever loaded (pickle and marshal data run code).
    """
    found = _cache_root(create=False)
    if found is None:
        return None
    root, secret = found
    try:
        data = read_regular(root / key[:2] / key, _ENTRY_MAX)
    except OSError:
        return None
    payload = memoryview(data)[_MAC_BYTES:]
    if len(data) <= _MAC_BYTES or not hmac.compare_digest(data[:_MAC_BYTES], _mac(secret, key, payload)):
        return None
    try:
        return pickle.loads(payload)  # noqa: S301 - signed by this user's own key, checked above
    except Exception:  # noqa: BLE001 - a stale entry is only a miss
        return None


def cache_put(key: str, value) -> None:
    """Store ``value``, signed (written to a private temporary file, then renamed; never fails the caller)."""
    found = _cache_root(create=True)
    if found is None:
        return
    root, secret = found
    try:
        payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return
    folder = root / key[:2]
    tmp = folder / f".{key}.{os.getpid()}"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(_mac(secret, key, payload))
            out.write(payload)
        os.replace(tmp, folder / key)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def convert_text(text: str, cls: type, file: str) -> tuple[object | None, list[Finding]]:
    """Convert YAML text into ``cls`` (used by the loader and by tests' inline dossiers)."""
    node, findings = compose_text(text, file)
    if node is None:
        return None, findings
    ctx = Ctx(file)
    try:
        value = Record(cls).convert(node, ctx, "")
    except Invalid as inv:
        ctx.add(inv.code, inv.message, node, "")
        value = None
    except RecursionError:
        ctx.add("yaml.profondeur", "YAML trop profondément imbriqué", node, "")
        value = None
    return value, findings + ctx.findings
