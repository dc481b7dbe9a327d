"""Fuzzing the loader and the validator (issue 9, part 1).

Copies of the fixture dossiers are mutated through their parsed tree (re-dumped with ruamel: wrong
types, signs, decimals, dates, missing and unknown keys, duplicated items, dangling references,
unicode), as text (malformed YAML, tabs, unclosed quotes, aliases, billion laughs, deep nesting,
control bytes, truncation) and as files (missing, empty, duplicated, unreadable). Each mutated
dossier must end in findings located in an existing file, at a line of that file, or in a clean
check: never in an exception. The finding codes reached are written to ``build/fuzz-codes.txt``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import io
import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, note, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from deliberation import pipeline
from deliberation.cli import main
from deliberation.compute import figures_to_data
from deliberation.findings import findings_to_json, format_finding, has_errors
from deliberation.load.yaml import _PlainResolver
from deliberation.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
CODES: set[str] = set()  # every finding code the mutations reached
EXAMPLES: Counter = Counter()  # mutated dossiers checked, per test

#: Findings about a whole file or folder: they have no line.
FILE_LEVEL = {"fichier.manquant", "fichier.illisible", "fichier.taille", "dossier.introuvable", "dossier.thematiques"}
#: Findings about a file that is not there (or is not a file).
MISSING = {"fichier.manquant", "dossier.introuvable", "dossier.thematiques"}

#: Ceilings for the fictitious sheet 1.2 (met by the dossier), so that the ceiling rule runs.
PLAFONDS = """plafonds:
  - {unite: places, par_mois: "100,00", source: "100 € par place et par mois"}
  - {par_etp_an: "60 000,00", source: "60 000 € par ETP et par an"}
"""

#: Amendments for the fictitious dossier, one of each kind (the amended phase 6 has the others).
FICTIF_AMENDEMENTS = """\
amendements:
  - numero: 1
    date: 10/03/2025
    objet: "Réduction du financement de l'Association Alpha"
    auteur: Le Président
    modifications:
      - ligne: t1-o2-alpha
        montant: "45 000,00"
      - structure: alpha
        convention: plateforme
        montant: "125 000,00"
  - numero: 2
    date: 10/03/2025
    objet: "Une ligne de plus pour le CCAS de Gamma"
    modifications:
      - operation: "4.1"
        ajout:
          id: t4-o1-gamma-bis
          territoire: Lens-Liévin
          structure: gamma
          convention: nouvelle
          nature: financement
          volume: {nombre: 5, unite: jeunes}
          periode: {debut: 2025-01-01, fin: 2025-12-31}
          montant: "3 000,00"
          document: convention-type
          description: Séjour pour 5 jeunes de plus
      - structure: beta
        siege: 3 place du Marché 62100 CALAIS
  - numero: 3
    date: 10/03/2025
    objet: "Retrait de la valorisation de Beta"
    sort: rejeté
    modifications:
      - ligne: t1-o1-beta
        retrait: oui
"""


# ---------------------------------------------------------------------------
# the base dossiers, kept in memory


def _files(folder: Path) -> dict[str, bytes]:
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and (p.suffix == ".yaml" or rel.startswith(("dispositifs/", "modeles/"))):
            out[rel] = p.read_bytes()
    return out


@functools.cache
def bases() -> dict[str, dict[str, bytes]]:
    """Every base dossier: file name → bytes."""
    fictif = _files(FIXTURES / "fictif")
    return {
        "fictif": fictif,
        "fictif-amende": {**fictif, "amendements.yaml": FICTIF_AMENDEMENTS.encode(),
                          "dispositifs/1.2-fictif.md": fictif["dispositifs/1.2-fictif.md"].replace(
                              b"versements:", PLAFONDS.encode() + b"versements:")},
        "phase-6-2024": _files(FIXTURES / "phase-6-2024"),
        "phase-6-2024-amended": _files(FIXTURES / "phase-6-2024-amended"),
    }


AMENDED = ("fictif-amende", "phase-6-2024-amended")


def _rt() -> YAML:
    """Round-trip YAML that reads every scalar as text (as the engine does) and keeps the rest."""
    y = YAML(typ="rt")
    y.Resolver = _PlainResolver
    y.width = 4096
    return y


def _walk(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, (*prefix, i))


def _sheet(text: str) -> tuple[str, str]:
    """A dispositif sheet's front matter and body."""
    _, front, body = text.split("---\n", 2)
    return front, body


@functools.cache
def tree(base: str, name: str):
    """The parsed tree of one YAML file, or of a sheet's front matter, of a base (copy before changing it)."""
    text = bases()[base][name].decode("utf-8")
    return _rt().load(_sheet(text)[0] if name.endswith(".md") else text)


@functools.cache
def paths(base: str, name: str) -> tuple:
    """Every node path of a file: key and index tuples, the root first."""
    return tuple(_walk(tree(base, name)))


@functools.cache
def vocabulary() -> tuple[str, ...]:
    """Every key and scalar of every base: swapped in, they make plausible but dangling references."""
    words = set()
    for base, files in bases().items():
        for name in files:
            if name.startswith("modeles/"):  # voted texts: Markdown, no YAML tree
                continue
            for p in paths(base, name):
                words.update(str(k) for k in p if isinstance(k, str))
                node = _get(tree(base, name), p)
                if isinstance(node, str) and len(node) < 80:
                    words.add(node)
    return tuple(sorted(words))


def _get(data, path):
    for k in path:
        if not isinstance(data, (dict, list)):  # an earlier change made it a scalar
            raise TypeError(k)
        data = data[k]
    return data


# ---------------------------------------------------------------------------
# hostile values

HOSTILE = (
    # empty, null, whitespace
    "", " ", "~", "null", "\t", "\n",
    # signs, decimals, special numbers
    "-1", "-0", "-0,01", "-0.001", "+5", "0", "0,001", "0.005", "1,2,3", "1.2.3", "1 2 3", "12,", ",5", "1e400",
    "1E3", "1e-400", "NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", "0x10", "1_000", "٣", "１２３",
    "99999999999999999999", "9" * 40, "9" * 400, "1" + "0" * 13, "9 999 999 999 999,99", "12 345 678 901 234,56",
    "5\u00a0000,00", "5\u202f000,00 €", "- €", "—", "€", "53 700,00 €", "-53 700,00", "1 000 000,005",
    # dates
    "31/02/2025", "2025-13-01", "00/00/0000", "29/02/2023", "29/02/2024", "31/12/9999", "01/01/0001", "0001-01-01",
    "9999-12-31", "0000-01-01", "2025-1-1", "1/1/2025", "2025-02-30", "32/01/2025", "2025-00-10", "31/06/2025",
    "2026-01-01", "1999-12-31", "10/03/2025",
    # unicode
    "e\u0301", "\u200f\u202eabc", "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\x00", "a\x07b", "\x1b[31m",
    "\u2028", "\ufeff", "\u00a0", "\u202f", "ﬁ", "Ａ", "a\u0000b",
    # templates and markup
    "{{ 7*7 }}", "{% for x in y %}", "[[montant]]", "[[inconnu]]", "[[", "**", "<w:p>", "&amp;", "]]>",
    # long
    "x" * 300, "x" * 25000, "é" * 600,
    # enum words and keys of the model
    "oui", "non", "yes", "true", "nouvelle", "adopté", "rejeté", "retiré", "valorisation", "mixte", "financement",
    "avenant", "convention", "diagnostics", "places", "Adopté", "favorable", "M.", "Mme", "Mme X", "M. ",
    "2024-587", "1.1", "1.2", "9.9", "4.1", "t1-o1-alpha", "C02-446A05", "C99-999Z99", "6568/93446",
)


def _scalars():
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.deferred(lambda: st.sampled_from(vocabulary())),
        st.text(max_size=20),
        st.integers().map(str),
        st.decimals(places=None).map(str),
    )


def _values():
    keys = st.one_of(st.sampled_from(("montant", "id", "numero", "source", "x", "")), st.text(min_size=1, max_size=8))
    return st.recursive(
        _scalars(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=6,
    )


TREE_OPS = ("replace", "replace", "similar", "similar", "similar", "swap", "delete", "unknown", "duplicate", "rename",
            "move", "null")
_DATE = re.compile(r"\d{1,4}[-/]\d{1,2}[-/]\d{1,4}")
_NUMBER = re.compile(r"[-+]?[\d \u00a0\u202f.,]+( ?€)?|- ?€")
DATES = tuple(v for v in HOSTILE if _DATE.fullmatch(v))
NUMBERS = tuple(v for v in HOSTILE if _NUMBER.fullmatch(v) and not _DATE.fullmatch(v)) + (
    "0.001", "12,345", "1000000", "0,5", "2,38", "100", "101", "99,99", "-50", "150", "400", "1e3",
    "10 000 000 000 000")


def _similar(value) -> st.SearchStrategy:
    """Values of the same family as ``value``: another date, another number, or another word of the dossiers."""
    if isinstance(value, str) and _DATE.fullmatch(value.strip()):
        return st.sampled_from(DATES)
    if isinstance(value, str) and _NUMBER.fullmatch(value.strip()):
        return st.sampled_from(NUMBERS)
    return st.sampled_from(vocabulary())


@st.composite
def tree_mutation(draw, base: str, names=None):
    """One change to the parsed tree of one YAML file: (file, path, operation, argument)."""
    names = names or [n for n in bases()[base] if not n.startswith("modeles/")]  # voted texts: no YAML tree
    name = draw(st.sampled_from(sorted(names)))
    path = draw(st.sampled_from(paths(base, name)))
    op = draw(st.sampled_from(TREE_OPS))
    if op == "replace":
        arg = draw(_values())
    elif op == "similar":
        arg = draw(_similar(_get(tree(base, name), path)))
    elif op in ("swap", "rename"):
        arg = draw(st.sampled_from(vocabulary()) | st.sampled_from(HOSTILE))
    elif op == "unknown":
        arg = (draw(st.sampled_from(vocabulary()) | st.text(min_size=1, max_size=12)), draw(_scalars()))
    elif op == "move":
        arg = draw(st.sampled_from(paths(base, name)))
    else:
        arg = None
    return ("tree", name, path, op, arg)


def _apply_tree(data, path, op, arg, whole):
    """Apply one tree operation; a path that no longer exists (an earlier change) is left alone."""
    try:
        node = _get(data, path)
    except (KeyError, IndexError, TypeError):
        return data
    if op == "move":
        try:
            arg = copy.deepcopy(_get(whole, arg))
        except (KeyError, IndexError, TypeError):
            return data
    if not path:
        return arg if op in ("replace", "swap", "move", "similar") else data
    parent, key = _get(data, path[:-1]), path[-1]
    if op in ("replace", "swap", "move", "similar"):
        parent[key] = arg
    elif op == "null":
        parent[key] = None
    elif op == "delete":
        del parent[key]
    elif op == "duplicate":
        if isinstance(parent, list):
            parent.insert(key, copy.deepcopy(node))
        elif isinstance(node, list) and node:
            node.append(copy.deepcopy(node[-1]))
    elif op == "unknown":
        target = node if isinstance(node, dict) else parent if isinstance(parent, dict) else None
        if target is not None:
            target[arg[0]] = arg[1]
    elif op == "rename" and isinstance(parent, dict) and arg not in parent:
        pos = list(parent).index(key)
        value = parent.pop(key)
        parent.insert(pos, arg, value)
    return data


# ---------------------------------------------------------------------------
# text mutations

RAW = (
    "\t", '"', "'", "{", "}", "[", "]", ": ", " #", "&a", "*a", "*nope", "!!python/object/apply:os.system [ls]",
    "!!binary AAAA", "!custom x", "%YAML 1.1", "---", "...", "? ", "- ", "<<: *a", "@", "`", "|", ">-", "\x00",
    "\x07", "\x85", "\u2028", "\ufeff", "\r", "\ud7ff", "\uffff",
)
BYTES = (b"\xff", b"\xc3", b"\x00", b"\xef\xbb\xbf", b"\x1b[31m", b"\xed\xa0\x80", b"\xc0\xaf", b"\r\n")


def laughs(levels: int) -> str:
    """Billion-laughs anchors: each level holds nine aliases of the previous one."""
    out = ['lol0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        out.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(out) + "\n"


def deep(depth: int, kind: str) -> str:
    """Nesting ``depth`` levels deep: flow lists, flow mappings, compact block lists or block mappings."""
    if kind == "list":
        return "[" * depth + "1" + "]" * depth
    if kind == "map":
        return "{a: " * depth + "1" + "}" * depth
    if kind == "dash":
        return "- " * depth + "1"
    depth = min(depth, 400)  # indentation grows with the square of the depth
    return "".join(" " * i + "a:\n" for i in range(depth)) + " " * depth + "b"


TEXT_OPS = st.one_of(
    st.tuples(st.just("scalar"), st.integers(0),
              st.sampled_from(HOSTILE) | st.sampled_from(RAW) | st.text(max_size=12)),
    st.tuples(st.just("insert"), st.integers(0), st.sampled_from(RAW) | st.text(max_size=5)),
    st.tuples(st.just("tab"), st.integers(0)),
    st.tuples(st.just("dup_line"), st.integers(0)),
    st.tuples(st.just("del_line"), st.integers(0)),
    st.tuples(st.just("swap_lines"), st.integers(0), st.integers(0)),
    st.tuples(st.just("indent"), st.integers(0), st.integers(-3, 3)),
    st.tuples(st.just("truncate"), st.integers(0)),
    st.tuples(st.just("anchor"), st.integers(0), st.integers(0), st.booleans()),
    st.tuples(st.just("laughs"), st.integers(2, 12), st.integers(0)),
    st.tuples(st.just("deep"), st.sampled_from((50, 999, 10001, 40000)),
              st.sampled_from(("list", "map", "dash", "block")), st.integers(0)),
    st.tuples(st.just("crlf")),
    st.tuples(st.just("bytes"), st.integers(0), st.sampled_from(BYTES)),
    st.tuples(st.just("documents")),
)


def _value_lines(lines):
    return [i for i, line in enumerate(lines) if ":" in line and not line.lstrip().startswith("#")] or [0]


def _apply_text(data: bytes, op: tuple) -> bytes:
    """Apply one text (or byte) operation to a file's content."""
    kind = op[0]
    if kind == "bytes":
        pos = op[1] % (len(data) + 1)
        return data[:pos] + op[2] + data[pos:]
    if kind == "truncate":
        return data[: op[1] % (len(data) + 1)]
    text = data.decode("utf-8", "surrogateescape")
    lines = text.split("\n") or [""]
    n = len(lines)
    first = 1 if text.startswith("---") else 0  # keep a sheet's front matter opening
    if kind == "scalar":
        candidates = _value_lines(lines)
        i = candidates[op[1] % len(candidates)]
        head, _, _ = lines[i].partition(":")
        lines[i] = f"{head}: {op[2]}"
    elif kind == "insert":
        i = op[1] % n
        col = op[1] % (len(lines[i]) + 1)
        lines[i] = lines[i][:col] + op[2] + lines[i][col:]
    elif kind == "tab":
        i = op[1] % n
        lines[i] = "\t" + lines[i].lstrip(" ")
    elif kind == "dup_line":
        i = op[1] % n
        lines.insert(i, lines[i])
    elif kind == "del_line":
        del lines[op[1] % n]
    elif kind == "swap_lines":
        i, j = op[1] % n, op[2] % n
        lines[i], lines[j] = lines[j], lines[i]
    elif kind == "indent":
        i = op[1] % n
        lines[i] = " " * op[2] + lines[i] if op[2] >= 0 else lines[i][-op[2]:]
    elif kind == "anchor":
        candidates = _value_lines(lines)
        i, j = sorted((candidates[op[1] % len(candidates)], candidates[op[2] % len(candidates)]))
        head, _, value = lines[i].partition(":")
        lines[i] = f"{head}: &a{value}"
        if j != i:
            head, _, _ = lines[j].partition(":")
            lines[j] = f"{head}: *a" if not op[3] else f"{head}:\n{' ' * (len(head) - len(head.lstrip()) + 2)}<<: *a"
    elif kind == "laughs":
        lines.insert(first, laughs(op[1]))
        candidates = [c + 1 for c in _value_lines(lines[first + 1:])]
        j = first + candidates[op[2] % len(candidates)] if candidates else n
        if j < len(lines):
            head, _, _ = lines[j].partition(":")
            lines[j] = f"{head}: *l{op[1] - 1}"
    elif kind == "deep":
        candidates = _value_lines(lines)
        i = candidates[op[3] % len(candidates)]
        head, _, _ = lines[i].partition(":")
        lines[i] = f"{head}:" + ("\n" if op[2] in ("block", "dash") else " ") + deep(op[1], op[2])
    elif kind == "crlf":
        return "\r\n".join(lines).encode("utf-8", "surrogateescape")
    elif kind == "documents":
        lines = [*lines, "---", *lines]
    return "\n".join(lines).encode("utf-8", "surrogateescape")


@st.composite
def text_mutation(draw, base: str, names=None):
    """One change to the text of one file of a base (YAML file or dispositif sheet)."""
    name = draw(st.sampled_from(sorted(names or bases()[base])))
    return ("text", name, draw(TEXT_OPS))


# ---------------------------------------------------------------------------
# file mutations

FILE_OPS = ("delete", "empty", "directory", "duplicate", "junk", "no_thematiques", "loop", "dangling", "comment")


@st.composite
def file_mutation(draw, base: str):
    """One change to the files of a base: missing, empty, replaced by a folder, duplicated…"""
    name = draw(st.sampled_from(sorted(bases()[base])))
    return ("file", name, draw(st.sampled_from(FILE_OPS)), draw(_values()))


def _apply_file(root: Path, name: str, op: str, arg) -> None:
    path = root / name
    if not path.parent.is_dir():  # its folder is gone (an earlier change)
        return
    if op == "delete" and path.is_dir():
        shutil.rmtree(path)
    elif op == "delete":
        path.unlink(missing_ok=True)
    elif op == "empty" and not path.is_dir():
        path.write_bytes(b"")
    elif op == "comment" and not path.is_dir():
        path.write_text("# rien\n", encoding="utf-8")
    elif op == "directory" and not path.is_dir():
        path.unlink(missing_ok=True)
        path.mkdir(parents=True, exist_ok=True)
    elif op == "duplicate" and path.is_file() and (root / "thematiques").is_dir():
        shutil.copyfile(path, root / "thematiques" / f"z-{path.stem}.yaml")
    elif op == "junk":
        (root / "thematiques").mkdir(exist_ok=True)
        (root / "thematiques" / "t99.yaml").write_text(_dump(arg), encoding="utf-8")
    elif op == "no_thematiques":
        shutil.rmtree(root / "thematiques", ignore_errors=True)
    elif op in ("loop", "dangling"):
        link = root / "thematiques" / f"{op}.yaml"
        link.parent.mkdir(exist_ok=True)
        if not os.path.lexists(link):
            link.symlink_to(link.name if op == "loop" else "nulle-part.yaml")


# ---------------------------------------------------------------------------
# writing a mutated dossier and checking it


def _plain(data):
    if isinstance(data, dict):
        return {k: _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    return data


def _dump(data) -> str:
    """YAML text of a tree; comments moved with their node can trip ruamel's emitter: then without them."""
    stream = io.StringIO()
    try:
        _rt().dump(data, stream)
    except AttributeError:
        stream = io.StringIO()
        _rt().dump(_plain(data), stream)
    return stream.getvalue()


def write_dossier(root: Path, base: str, mutations) -> None:
    """Write base ``base`` into ``root`` with ``mutations`` applied."""
    if root.exists():
        shutil.rmtree(root)
    files = dict(bases()[base])
    trees = {}
    for m in mutations:
        if m[0] == "tree":
            _, name, path, op, arg = m
            if name not in trees:
                trees[name] = copy.deepcopy(tree(base, name))
            trees[name] = _apply_tree(trees[name], path, op, copy.deepcopy(arg), tree(base, name))
    for name, data in trees.items():
        text = _dump(data)
        if name.endswith(".md"):
            text = f"---\n{text}---\n{_sheet(files[name].decode('utf-8'))[1]}"
        files[name] = text.encode("utf-8")
    for m in mutations:
        if m[0] == "text":
            files[m[1]] = _apply_text(files[m[1]], m[2])
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    for m in mutations:
        if m[0] == "file":
            _apply_file(root, m[1], m[2], m[3])


def assert_located(findings) -> None:
    """Each finding has a code and a message, and points into an existing file at one of its lines."""
    for f in findings:
        assert f.code and f.message.strip(), f
        assert "Traceback" not in f.message, f
        CODES.add(f.code)
        path = Path(f.loc.file)
        if f.code in MISSING and not path.is_file():
            continue
        assert os.path.lexists(path), f"{format_finding(f)} : fichier inexistant"
        if f.code in FILE_LEVEL:
            continue
        assert path.is_file(), format_finding(f)
        text = path.read_bytes().decode("utf-8", "replace")
        n_lines = max(text.count("\n"), len(text.splitlines())) + 1  # YAML also breaks lines at \r, \x85…
        assert 1 <= f.loc.line <= n_lines + 1, f"{format_finding(f)} : ligne hors du fichier ({n_lines} lignes)"


def check_mutated(root: Path, test: str, explain: bool = True):
    """Check a mutated dossier twice (the second time from the parse cache); return its findings."""
    EXAMPLES[test] += 1
    checked = pipeline.check(Settings(source=root))
    if explain:  # shown with a failing example
        note("\n".join(format_finding(f) for f in checked.findings))
    assert_located(checked.findings)
    again = pipeline.check(Settings(source=root))
    assert [format_finding(f) for f in again.findings] == [format_finding(f) for f in checked.findings]
    findings_to_json(checked.findings)
    if checked.dossier is not None:
        figures_to_data(checked.dossier, checked.figures)
    return checked.findings


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """A folder for the mutated dossiers; the parse cache lives in a temporary folder too."""
    root = tmp_path_factory.mktemp("fuzz")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DELIBERATION_CACHE", str(root / "cache"))
        yield root / "dossier"
    out = ROOT / "build" / "fuzz-codes.txt"
    out.parent.mkdir(exist_ok=True)
    lines = [f"{n} exemples : {t}" for t, n in sorted(EXAMPLES.items())]
    out.write_text("\n".join([*lines, f"{len(CODES)} codes :", *sorted(CODES)]) + "\n", encoding="utf-8")
    print(f"\nfuzz : {sum(EXAMPLES.values())} dossiers, {len(CODES)} codes de constat (build/fuzz-codes.txt)")


BASE_NAMES = st.sampled_from(("fictif", "fictif-amende", "phase-6-2024", "phase-6-2024-amended"))


@pytest.mark.slow
@given(data=st.data(), base=BASE_NAMES)
def test_tree_mutations_end_in_located_findings(work, data, base):
    mutations = data.draw(st.lists(tree_mutation(base), min_size=1, max_size=4), label="mutations")
    write_dossier(work, base, mutations)
    check_mutated(work, "arbre")


@pytest.mark.slow
@given(data=st.data(), base=BASE_NAMES)
def test_text_mutations_end_in_located_findings(work, data, base):
    mutations = data.draw(st.lists(text_mutation(base), min_size=1, max_size=3), label="mutations")
    write_dossier(work, base, mutations)
    check_mutated(work, "texte")


@pytest.mark.slow
@given(data=st.data(), base=BASE_NAMES)
def test_file_mutations_end_in_located_findings(work, data, base):
    mutations = data.draw(st.lists(file_mutation(base) | tree_mutation(base), min_size=1, max_size=3),
                          label="mutations")
    write_dossier(work, base, mutations)
    check_mutated(work, "fichiers")


@pytest.mark.slow
@given(data=st.data(), base=st.sampled_from(AMENDED))
def test_amendment_mutations_end_in_located_findings(work, data, base):
    only = ["amendements.yaml"]
    mutation = tree_mutation(base, only) | tree_mutation(base, only) | text_mutation(base, only) | tree_mutation(base)
    mutations = data.draw(st.lists(mutation, min_size=1, max_size=4), label="mutations")
    write_dossier(work, base, mutations)
    check_mutated(work, "amendements")


@pytest.mark.slow
@settings(max_examples=max(10, settings.default.max_examples // 4))
@given(data=st.data(), base=BASE_NAMES)
def test_cli_on_mutated_dossiers_exits_0_or_1(work, data, base):
    mutation = tree_mutation(base) | text_mutation(base) | file_mutation(base)
    mutations = data.draw(st.lists(mutation, min_size=1, max_size=3), label="mutations")
    write_dossier(work, base, mutations)
    findings = check_mutated(work, "cli")
    for command in (["check", str(work)], ["check", "--json", str(work)], ["figures", str(work)]):
        result = CliRunner().invoke(main, command)
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output
        assert result.exit_code == (1 if has_errors(findings) else 0), (command, result.output)


def test_unmutated_bases_are_as_expected(work):
    """The bases themselves: fictif is clean, the others carry only their known warnings."""
    for base in bases():
        write_dossier(work, base, [])
        findings = check_mutated(work, "bases", explain=False)
        assert not has_errors(findings), (base, [format_finding(f) for f in findings])
        if base.startswith("fictif"):
            assert [format_finding(f) for f in findings] == [], base


def test_cache_folder_is_the_temporary_one(work):
    """The parse cache is written under the test's folder, not in the user's cache."""
    write_dossier(work, "fictif", [])
    pipeline.check(Settings(source=work))
    cache = Path(os.environ["DELIBERATION_CACHE"])
    assert cache.is_relative_to(work.parent) and any(cache.rglob("*"))


# ---------------------------------------------------------------------------
# regressions: each bug the fuzzing found, as an example


def test_amendment_on_unknown_line_beside_a_line_without_id(fictif):
    """A line without its id and an amendment naming an unknown line: a finding with a hint, no TypeError."""
    fictif.edit("thematiques/t1.yaml", "- id: t1-o1-alpha\n        territoire", "- territoire")
    fictif.write("amendements.yaml", FICTIF_AMENDEMENTS.replace("ligne: t1-o2-alpha", "ligne: t1-o2-alfa"))
    findings = fictif.check()
    (f,) = [f for f in findings if f.code == "amendement.cible_inconnue"]
    assert f.message == "amendement n°1 : ligne inconnue « t1-o2-alfa » ; vouliez-vous dire « t1-o2-alpha » ?"
    assert f.loc.file.endswith("amendements.yaml") and f.loc.line == fictif.line_of("amendements.yaml", "t1-o2-alfa")
    assert "schema.manquant" in [f.code for f in findings]


def test_huge_volume_per_etp_is_a_ratio_warning(fictif):
    """35 digits of places for 2 ETP: the ratio rule warns (it raised decimal.InvalidOperation)."""
    huge = "9" * 35
    fictif.edit("thematiques/t1.yaml", "{nombre: 140, unite: places}", f"{{nombre: {huge}, unite: places}}")
    (f,) = [f for f in fictif.check() if f.code == "dispositif.ratio"]
    assert f.loc.line == fictif.line_of("thematiques/t1.yaml", huge)
    assert "par ETP ; la fiche 1.2 prévoit 55 à 70 places par ETP" in f.message


def test_period_ending_on_the_last_representable_day(fictif):
    """A period ending 31/12/9999 under a sheet with a ceiling: months are counted (no OverflowError)."""
    from deliberation.compute import months

    assert months(dt.date(2025, 1, 1), dt.date(9999, 12, 31)) == (9999 - 2025 + 1) * 12
    fictif.edit("dispositifs/1.2-fictif.md", "versements:", "plafonds:\n  - {par_etp_an: \"1 000,00\"}\nversements:")
    fictif.edit("thematiques/t1.yaml", "periode: {debut: 01/01/2025, fin: 30/06/2025}",
                "periode: {debut: 01/01/2025, fin: 31/12/9999}")
    codes = fictif.codes()
    assert "dispositif.plafond" not in codes  # 2 ETP × 1 000 € × 95 700 mois: far above 50 000 €


def test_sheet_with_an_unreadable_percentage(fictif):
    """60 % + 40 % + an unreadable one: a located finding, the acts keep the readable instalments (no ValueError)."""
    fictif.edit("dispositifs/4.1.md", "pourcentage: 20}\n", "pourcentage: 20}\n  - {libelle: bis, pourcentage: abc}\n")
    findings = fictif.check()
    (f,) = [f for f in findings if f.code == "nombre.format"]
    assert f.loc.line == fictif.line_of("dispositifs/4.1.md", "abc")


def test_sheet_with_a_negative_percentage(fictif):
    """150 % and −50 % add up to 100 but a negative instalment is an error at the percentage."""
    fictif.edit("dispositifs/4.1.md", "pourcentage: 80}", "pourcentage: 150}")
    fictif.edit("dispositifs/4.1.md", "pourcentage: 20}", "pourcentage: -50}")
    (f,) = [f for f in fictif.check() if f.code == "dispositif.versements"]
    assert f.message == "fiche 4.1 : versement « au solde, sur production du bilan » de -50 % : pourcentage négatif"
    assert f.loc.line == fictif.line_of("dispositifs/4.1.md", "-50")


def test_deep_nesting_is_a_finding_not_a_crash(tmp_path):
    """40 000 nested lists (80 kB) crashed the process in libyaml's composer (SIGSEGV): now yaml.profondeur."""
    import subprocess
    import sys

    root = tmp_path / "fictif"
    shutil.copytree(FIXTURES / "fictif", root)
    (root / "budget.yaml").write_text("lignes: " + "[" * 40000 + "]" * 40000 + "\n", encoding="utf-8")
    (root / "thematiques" / "t1.yaml").write_text("numero: 1\noperations:\n" + "- " * 40000 + "x\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "deliberation", "check", str(root)], capture_output=True, text=True,
                         env={**os.environ, "DELIBERATION_CACHE": ""})
    assert run.returncode == 1, run.stderr
    assert f"{root}/budget.yaml:1: ERROR: YAML trop profondément imbriqué : plus de 10000 niveaux [yaml.profondeur]" \
        in run.stdout.replace(os.getcwd() + "/", "")
    assert "t1.yaml:3: ERROR: YAML trop profondément imbriqué" in run.stdout
