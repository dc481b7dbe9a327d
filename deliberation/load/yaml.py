"""YAML files → model objects, keeping line marks; every problem is a located finding."""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.resolver import VersionedResolver

from deliberation.engine import engine_sha
from deliberation.findings import Finding, Loc, error
from deliberation.fsio import NotRegularError, TooBigError, cache_get, cache_put, read_regular
from deliberation.messages import (
    EXTERNAL_LINK,
    SPECIAL_FILE,
    TOO_BIG,
    TOO_BIG_GROWING,
    file_kind,
    os_reason,
    yaml_problem,
)
from deliberation.parallel import idle_core, run_split
from deliberation.schema import Ctx, Invalid, Record

MAX_BYTES = 50 * 1024 * 1024
#: Deepest nesting accepted: libyaml's composer recurses on the C stack (about 300 bytes a level) and
#: crashes the process (SIGSEGV) past some 25 000 levels on an 8 MiB stack, which « - - - … » or « [[[… »
#: reach in a few dozen kilobytes. A dossier nests about 8 levels.
MAX_DEPTH = 10000


@functools.cache
def _lead_over(n: int) -> re.Pattern:
    """A line (as ``str.splitlines`` cuts them) whose leading spaces, tabs, dashes and question marks exceed ``n``."""
    return re.compile(r"(?:^|(?<=[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]))[ \t?-]{" + str(n + 1) + "}")


class _PlainResolver(VersionedResolver):
    """Resolve no implicit type: the schema converts every scalar from its text (no floats)."""

    def resolve(self, kind, value, implicit):  # noqa: D102 - ruamel API
        if kind is ScalarNode:
            return self.DEFAULT_SCALAR_TAG
        if kind is MappingNode:
            return self.DEFAULT_MAPPING_TAG
        return self.DEFAULT_SEQUENCE_TAG

    # no path resolver is ever added: the composer's two calls per node need not look for one
    def descend_resolver(self, current_node, current_index):  # noqa: D102 - ruamel API
        pass

    def ascend_resolver(self):  # noqa: D102 - ruamel API
        pass


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
    limit = (MAX_DEPTH - text.count("[") - text.count("{")) // 2 - 1  # the longest lead that keeps within
    if limit >= 0 and _lead_over(limit).search(text) is None:
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
    return load_records([(path, cls)], within, file=file)[0]


#: Below this many bytes to parse, the files of ``load_records`` are parsed in this process alone.
SPLIT_FROM = 512 * 1024


def load_records(files: list[tuple[Path, type]], within: str | None = None,
                 file: str | None = None) -> list[tuple[object | None, list[Finding]]]:
    """``load_record`` of each ``(path, model class)``, in order; the files to parse shared by two processes.

    Files found in the parse cache are taken from it; the others, when they hold ``SPLIT_FROM`` bytes
    or more and a core is idle (``parallel.idle_core``), are shared out by size between this process and
    a forked child (``parallel.run_split``: the child's records come back pickled, as the cache keeps them;
    that costs a third more work in all, a loss on a busy machine). ``file``: the name of a single file.
    """
    results: list = [None] * len(files)
    todo = []  # (size, index, text, class, name, cache key): the files to parse
    for n, (path, cls) in enumerate(files):
        name = file or str(path)
        text, findings = read_text(path, name, within)
        if text is None:
            results[n] = (None, findings)
            continue
        key = cache_key(name, cls, text)
        hit = cache_get(key)
        if hit is not None:
            results[n] = hit
            continue
        todo.append((len(text), n, text, cls, name, key))
    big = sum(t[0] for t in todo) >= SPLIT_FROM
    here, there = _share(todo) if big and idle_core() else (todo, [])
    mine, theirs = run_split([functools.partial(_parse, *t[2:]) for t in here],
                             [functools.partial(_parse, *t[2:]) for t in there])
    for t, result in zip([*here, *there], [*mine, *theirs], strict=True):
        results[t[1]] = result
    return results


def _parse(text: str, cls: type, file: str, key: str) -> tuple[object | None, list[Finding]]:
    result = convert_text(text, cls, file)
    cache_put(key, result)
    return result


def _share(todo: list) -> tuple[list, list]:
    """Files for this process and for the child, largest first to the one that would end first.

    The child also pickles what it parsed (about a third of parsing it), this process unpickles it
    (about a sixth): sizes are weighed so.
    """
    here, there, cost_here, cost_there = [], [], 0.0, 0.0
    for t in sorted(todo, key=lambda t: (-t[0], t[1])):
        if max(cost_here + t[0], cost_there) <= max(cost_here + t[0] / 6, cost_there + t[0] * 4 / 3):
            here.append(t)
            cost_here += t[0]
        else:
            there.append(t)
            cost_here += t[0] / 6
            cost_there += t[0] * 4 / 3
    return here, there


# ---------------------------------------------------------------------------
# parse cache (storage in fsio): a file already read by this engine is not parsed again


def cache_key(file: str, cls: type, text: str) -> str:
    """The file's location, model class, content and the engine's own code: any change misses."""
    h = hashlib.sha256("\0".join((engine_sha(), file, cls.__name__)).encode())
    h.update(text.encode("utf-8", "surrogatepass"))
    return h.hexdigest()


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
