"""French spelling: Grammalecte's spell checker (graphspell) and the domain glossary.

Grammalecte is a system package (Debian ``python3-grammalecte``, GPL-3), loaded at run time from
where it is installed, never vendored: the folder holding ``grammalecte/`` is ``DELIBERATION_GRAMMALECTE``
when set, else the first of ``sys.path`` and Debian's ``/usr/lib/python3/dist-packages`` that has it.
Only its spell checker (``graphspell``) is loaded, as a private package: not its grammar checker,
whose import compiles thousands of rules, nor its typographic formatter (the engine typesets itself).

A word is accepted when the glossary holds it (``glossaire.yaml`` of the package, then of the dossier),
or when the dictionary knows it; a capital written without its accent (« Etat », « DECIDE ») is accepted
as the usage it is. A word in capitals (« PLIE », « FAI ») is an acronym unless the dictionary knows it
as a common word: it must be in the glossary's acronyms, its suggestions are the nearest of them.
Words with a digit, single letters and Roman numerals are skipped.

Results are cached: each text in the process, each word's dictionary verdict on disk (the parse cache of
``fsio``), so a dossier checked again does not load the dictionary at all.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import glob
import hashlib
import importlib
import importlib.util
import io
import os
import re
import sys
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

from deliberation.findings import Finding, Loc, warning
from deliberation.fsio import cache_dir, cache_get, cache_put
from deliberation.load.yaml import compose_text
from deliberation.resources import programme_root

#: Where the Grammalecte package is looked for when ``DELIBERATION_GRAMMALECTE`` is not set.
SYSTEM_DIRS = ("/usr/lib/python3/dist-packages",)
ENV = "DELIBERATION_GRAMMALECTE"
#: The glossary's file name, in the package and in a dossier.
GLOSSARY_FILE = "glossaire.yaml"
GLOSSARY = Path(__file__).with_name(GLOSSARY_FILE)
#: The glossary's sections: acronyms (exact, in capitals), then names and domain words.
SECTIONS = ("sigles", "territoires", "noms", "mots")
#: Version of the cached verdicts: bump it when the acceptance of a word changes.
_VERSION = "3"  # 2: accented capitals by the graph; 3: and suggestions in a fixed order (sorted tails)
_SUGGESTIONS = 5

_APOSTROPHE = "’"
#: What is not prose: Jinja tags, ``[[blanks]]``, ``{clause}`` marks, HTML comments, web and mail addresses,
#: file names.
_NOT_PROSE = re.compile(r"\{[{%#].*?[}%#]\}|\[\[.*?\]\]|\{\s*\w+\s*\}|<!--.*?-->|https?://\S+|www\.\S+"
                        r"|[\w.+-]+@[\w-]+\.[\w.-]+|[\w./-]+\.(?:txt|md|yaml|yml|docx|pdf|xlsx|json|csv)\b", re.S)
_MAYBE_NOT_PROSE = re.compile(r"[{\[<@/]|\.[a-z]")
#: A word: letters, joined by hyphens or apostrophes (« Pas-de-Calais », « aujourd'hui »).
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
#: An elided article or pronoun in front of a word (« l'AAP », « d'autrepart », « qu'il »).
_ELISION = re.compile(r"(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu|presqu|quelqu)['’](?=\w)", re.I)
_ROMAN = re.compile(r"(?=[MDCLXVI])M{0,3}(?:C[MD]|D?C{0,3})(?:X[CL]|L?X{0,3})(?:I[XV]|V?I{0,3})")


@dataclass(frozen=True)
class Miss:
    """A word of a text the checker does not know: where it starts, whether an acronym, suggestions."""

    word: str
    start: int
    sigle: bool
    suggestions: tuple[str, ...]

    def message(self) -> str:
        """The finding's text, in French: the word and what it may have meant."""
        if self.sigle:
            near = ", ".join(self.suggestions) if self.suggestions else "aucun"
            return f"« {self.word} » : sigle absent du glossaire ; sigles proches : {near}"
        near = ", ".join(self.suggestions) if self.suggestions else "aucune"
        return f"« {self.word} » : mot inconnu du dictionnaire et du glossaire ; suggestions : {near}"


# ---------------------------------------------------------------------------
# the glossary


@dataclass
class Glossary:
    """The words a dictionary lacks, by section, each with where it comes from (``glossaire.yaml``)."""

    sigles: set[str] = field(default_factory=set)
    others: dict[str, str] = field(default_factory=dict)  # folded form → the word as written
    files: tuple[str, ...] = ()

    def accepts(self, word: str) -> bool:
        """True when ``word`` is in the glossary (an acronym exactly as written; a name or word in any case)."""
        if word in self.sigles:
            return True
        return _fold(word) in self.others

    def near(self, word: str) -> list[str]:
        """The glossary's entries nearest to ``word`` (acronyms for an acronym)."""
        if word.isupper():
            return difflib.get_close_matches(word, sorted(self.sigles), n=_SUGGESTIONS, cutoff=0.5)
        folded = difflib.get_close_matches(_fold(word), sorted(self.others), n=_SUGGESTIONS, cutoff=0.75)
        return [self.others[f] for f in folded]

    @property
    def key(self) -> str:
        """A digest of the glossary's content (the per-text cache is kept per glossary)."""
        return hashlib.sha256(repr((sorted(self.sigles), sorted(self.others.items()))).encode()).hexdigest()


def _fold(word: str) -> str:
    """Lower case, typographic apostrophe."""
    return word.replace("'", _APOSTROPHE).lower()


def load_glossary(*paths: Path) -> tuple[Glossary, list[Finding]]:
    """The glossary of these files (missing ones skipped); an entry that does not fit is a located warning.

    A file maps each section (``sigles``, ``territoires``, ``noms``, ``mots``) to a list of entries
    ``{mot: …, source: …}``: the word, and why it is a word (where it is defined or used).
    """
    g = Glossary()
    findings: list[Finding] = []
    for path in paths:
        if not path.is_file():
            continue
        file = str(path)
        g.files += (file,)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            findings.append(warning("orthographe.glossaire", f"glossaire illisible : {err}", Loc(file)))
            continue
        root, f = compose_text(text, file)
        findings += [warning(x.code, x.message, x.loc) for x in f]
        if root is None:
            continue
        if not isinstance(root, MappingNode):
            findings.append(warning("orthographe.glossaire", "le glossaire doit être un dictionnaire de "
                                    f"sections ({', '.join(SECTIONS)})", Loc(file, 1)))
            continue
        for knode, vnode in root.value:
            _section(g, file, knode, vnode, findings)
    return g, findings


def _section(g: Glossary, file: str, knode, vnode, findings: list[Finding]) -> None:
    """Add one section of a glossary file to ``g``."""
    def bad(node, msg: str) -> None:
        findings.append(warning("orthographe.glossaire", msg, Loc(file, node.start_mark.line + 1)))

    name = knode.value if isinstance(knode, ScalarNode) else None
    if name not in SECTIONS:
        bad(knode, f"section de glossaire inconnue « {name} » ; sections : {', '.join(SECTIONS)}")
        return
    if not isinstance(vnode, SequenceNode):
        bad(vnode, f"section « {name} » : attendu une liste d'entrées {{mot: …, source: …}}")
        return
    for item in vnode.value:
        entry = {k.value: v.value for k, v in item.value if isinstance(k, ScalarNode) and isinstance(v, ScalarNode)} \
            if isinstance(item, MappingNode) else {}
        word, source = entry.get("mot", "").strip(), entry.get("source", "").strip()
        if not word or not source or set(entry) - {"mot", "source"}:
            bad(item, f"section « {name} » : une entrée s'écrit {{mot: …, source: …}} (le mot, et d'où il vient)")
            continue
        if not _WORD.fullmatch(word):
            bad(item, f"« {word} » : un seul mot par entrée (lettres, traits d'union, apostrophes)")
            continue
        if name == "sigles":
            if not word.isupper():
                bad(item, f"« {word} » : un sigle s'écrit en capitales")
                continue
            g.sigles.add(word)
        else:
            g.others[_fold(word)] = word.replace("'", _APOSTROPHE)


# ---------------------------------------------------------------------------
# Grammalecte's spell checker


def grammalecte_dir() -> Path | None:
    """The folder holding the ``grammalecte`` package with its dictionaries, or None."""
    explicit = os.environ.get(ENV)
    candidates = [explicit] if explicit is not None else [*sys.path, *SYSTEM_DIRS]
    for base in candidates:
        if base and (Path(base) / "grammalecte" / "graphspell" / "_dictionaries" / "fr-allvars.json").is_file():
            return Path(base) / "grammalecte"
    return None


_PACKAGE = "deliberation_graphspell"  # the private name Grammalecte's spell checker is loaded under


def _load_speller(folder: Path):
    """Grammalecte's ``SpellChecker("fr")`` with its French suggestion table, loaded from ``folder``."""
    root = folder / "graphspell"
    if _PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(_PACKAGE, root / "__init__.py",
                                                      submodule_search_locations=[str(root)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[_PACKAGE] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[_PACKAGE]
            raise
    spellchecker = importlib.import_module(f"{_PACKAGE}.spellchecker")
    checker = spellchecker.SpellChecker.__new__(spellchecker.SpellChecker)
    checker.loadLexicographer = lambda _lang: None  # it would import the whole grammar checker by name
    with contextlib.redirect_stdout(io.StringIO()):  # the dictionary prints that it missed it, on stdout
        checker.__init__("fr")
    ibdawg = importlib.import_module(f"{_PACKAGE}.ibdawg")
    if not getattr(ibdawg.IBDAWG._getTails, "sorted", False):
        # it returns a set: the order suggestions are met in, hence their order among equals, followed
        # Python's string hashing (PYTHONHASHSEED); sorted, the same word gets the same suggestions
        tails = ibdawg.IBDAWG._getTails

        def sorted_tails(self, iAddr, sTail="", n=2):  # noqa: N803 - Grammalecte's names
            return sorted(tails(self, iAddr, sTail, n))

        sorted_tails.sorted = True
        ibdawg.IBDAWG._getTails = sorted_tails
    lexgraph = importlib.import_module(f"{_PACKAGE}.lexgraph_fr")
    checker.lexicographer = checker.oMainDic.lexicographer = lexgraph
    return checker


def _strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _accent_only(word: str, sugg: str) -> bool:
    """True when ``sugg`` is ``word`` with accents on letters that ``word`` writes as bare capitals."""
    return len(sugg) == len(word) and sugg != word and all(
        a == b or (a.isupper() and _strip_accents(b) == a) for a, b in zip(word, sugg, strict=True))


def _accented_known(sc, word: str) -> bool:
    """True when the dictionary knows ``word`` with accents on some of its bare capitals (« DECIDE », « Etat »).

    Such a word is accepted: it is what an accent-only suggestion of Grammalecte says, found here by one
    walk of the dictionary's graph instead of its suggestions (about 30 ms a word). A variant is known as
    ``isValid`` has it: as written, else in lower case (a title or a word in capitals), capitalised (in
    capitals) or with its first letter lowered (other words with a capital first). False (Grammalecte's
    suggestions decide) when the graph is not the one this walk knows, or with another dictionary loaded.
    """
    dic = getattr(sc, "oMainDic", None)
    if dic is None or getattr(sc, "bCommunityDic", True) or getattr(sc, "bPersonalDic", True) or not all(
            hasattr(dic, a) for a in ("dChar", "lByDic", "_finalNodeMask", "_lookupArcNode")):
        return False
    forms = [[False] * len(word)]  # per position: lowered or not
    if len(word) > 1 and word[:1].isupper():
        if word.istitle():
            forms.append([True] * len(word))
        elif word.isupper():
            forms += [[True] * len(word), [False] + [True] * (len(word) - 1)]
        else:
            forms.append([True] + [False] * (len(word) - 1))
    alphabet = dic.dChar
    for lowered in forms:
        steps = []
        for c, low in zip(word, lowered, strict=True):
            same = c.lower() if low else c
            others = {b.lower() if low else b for b in _accented(c, alphabet)} - {same}
            steps.append(((same, False), *((o, True) for o in sorted(others))))
        if _walk(dic, steps, 0, 0, False):
            return True
    return False


@functools.cache
def _accented_of(c: str, alphabet: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(b for d in alphabet for b in {d, d.upper()} if len(b) == 1 and b != c
                        and _strip_accents(b) == c))


def _accented(c: str, alphabet: dict) -> tuple[str, ...]:
    """The accented capitals of the dictionary's alphabet written ``c`` without their accent (``c`` a capital)."""
    if not c.isupper():
        return ()
    return _accented_of(c, frozenset(alphabet))


def _walk(dic, steps, pos: int, addr: int, changed: bool) -> bool:
    """True when some path of the graph from ``addr`` spells one choice of each remaining step, a change made."""
    if pos == len(steps):
        return changed and bool(dic.lByDic[addr] & dic._finalNodeMask)
    for char, change in steps[pos]:
        code = dic.dChar.get(char)
        if code is None:
            continue
        nxt = dic._lookupArcNode(code, addr)
        if nxt is not None and _walk(dic, steps, pos + 1, nxt, changed or change):
            return True
    return False


class Dictionary:
    """Grammalecte's verdict on each word (None: known; else its suggestions), cached on disk by word."""

    def __init__(self, folder: Path):
        self.folder = folder
        dic = folder / "graphspell" / "_dictionaries" / "fr-allvars.json"
        st = dic.stat()
        self.cache_key = hashlib.sha256(f"orthographe|{_VERSION}|{dic}|{st.st_size}|{st.st_mtime_ns}"
                                        .encode()).hexdigest()
        stored = cache_get(self.cache_key)
        self.verdicts: dict[str, tuple[str, ...] | None] = stored if isinstance(stored, dict) else {}
        self.new = 0
        self._checker = None

    def _speller(self):
        if self._checker is None:
            self._checker = _load_speller(self.folder)
        return self._checker

    def verdict(self, word: str) -> tuple[str, ...] | None:
        """None if the dictionary knows ``word`` (an acronym: as a common word), else its suggestions."""
        if word in self.verdicts:
            return self.verdicts[word]
        sc = self._speller()
        if word.isupper():  # a common word in capitals (« PHASE »), not an acronym of the dictionary
            known = sc.lookup(word.lower()) or sc.lookup(word.capitalize())
        else:
            known = sc.isValid(word)
        result: tuple[str, ...] | None = None
        if not known and not _accented_known(sc, word):
            suggestions = [s for group in sc.suggest(word, _SUGGESTIONS * 2) for s in group]
            if not any(_accent_only(word, s) for s in suggestions):
                result = tuple(dict.fromkeys(suggestions))[:_SUGGESTIONS]
        self.verdicts[word] = result
        self.new += 1
        return result

    def save(self) -> None:
        """Keep the verdicts on disk when new words were looked up."""
        if self.new:
            cache_put(self.cache_key, self.verdicts)
            self.new = 0


_DICTIONARIES: dict[str, Dictionary] = {}


def dictionary() -> Dictionary | None:
    """The French dictionary of this machine's Grammalecte, or None when Grammalecte is not installed."""
    folder = grammalecte_dir()
    if folder is None:
        return None
    key = f"{folder}|{cache_dir()}"  # a dictionary per cache folder: each folder gets the verdicts it lacks
    if key not in _DICTIONARIES:
        _DICTIONARIES[key] = Dictionary(folder)
    return _DICTIONARIES[key]


# ---------------------------------------------------------------------------
# checking a text


class Speller:
    """Checks texts against a dictionary and a glossary; each text's result is kept for the process."""

    _texts: dict[tuple[str, str], tuple[Miss, ...]] = {}  # (glossary key, text) → misses
    _by_glossary: dict[str, dict[str, tuple[Miss, ...]]] = {}

    def __init__(self, dic: Dictionary, glossary: Glossary, vocabulary: tuple[str, ...] = ()):
        """``vocabulary``: the dossier's own known words, suggested first (« Ymatisation » → « Dynamisation »)."""
        self.dic, self.glossary, self.vocabulary = dic, glossary, vocabulary
        self.gkey = glossary.key + hashlib.sha256("\n".join(vocabulary).encode()).hexdigest()[:16]
        self._tokens = self._by_glossary.setdefault(self.gkey, {})  # token → its unknown words (offsets in it)

    def known(self, word: str) -> bool:
        """True when the glossary or the dictionary knows ``word`` (verdicts cached on disk)."""
        return self.glossary.accepts(word) or self.dic.verdict(word.replace("'", _APOSTROPHE)) is None

    def check(self, text: str) -> tuple[Miss, ...]:
        """The words of ``text`` that neither the glossary nor the dictionary knows, in order."""
        key = (self.gkey, text)
        found = self._texts.get(key)
        if found is None:
            found = self._texts[key] = tuple(self._check(text))
        return found

    def _check(self, text: str) -> list[Miss]:
        prose = _NOT_PROSE.sub(lambda m: " " * len(m.group()), text) if _MAYBE_NOT_PROSE.search(text) else text
        out: list[Miss] = []
        tokens = self._tokens
        for m in _WORD.finditer(prose):
            token = m.group()
            found = tokens.get(token)
            if found is None:
                found = tokens[token] = tuple(self._token(token))
            out += [Miss(miss.word, m.start() + miss.start, miss.sigle, miss.suggestions) for miss in found]
        return out

    def _token(self, token: str) -> list[Miss]:
        """The unknown words of one token (offsets relative to the token): its hyphenated parts, elision aside."""
        if any(c.isdigit() for c in token):
            return []
        start = 0
        if (e := _ELISION.match(token)) is not None:
            token, start = token[e.end():], e.end()
        if self.glossary.accepts(token):
            return []
        parts = [(token, start)] if "-" not in token else \
            [(p.group(), start + p.start()) for p in re.finditer(r"[^-]+", token)]
        return [miss for part, at in parts if (miss := self._word(part, at)) is not None]

    def _word(self, word: str, start: int) -> Miss | None:
        if len(word) < 2 or self.glossary.accepts(word):
            return None
        word = word.replace("'", _APOSTROPHE)
        sigle = word.isupper()
        if sigle and _ROMAN.fullmatch(word):
            return None
        verdict = self.dic.verdict(word)
        if verdict is None:
            return None
        near = self.glossary.near(word)
        if not sigle:
            lowered = {w.lower(): w for w in self.vocabulary}
            close = [lowered[w] for w in difflib.get_close_matches(word.lower(), lowered, n=2, cutoff=0.7)
                     if w != word.lower()]
            near = [_like(word, w) for w in close] + near
        if not sigle:  # one of each, whatever its case: the first met is kept
            seen: dict[str, str] = {}
            for s in (*near, *verdict):
                seen.setdefault(s.lower(), s)
            near = list(seen.values())
        suggestions = near[:_SUGGESTIONS]
        return Miss(word, start, sigle, tuple(suggestions))


def _like(word: str, suggestion: str) -> str:
    """``suggestion`` in the case of ``word``'s first letter, unless it has capitals further on.

    « Pheforme » → « Plateforme », « avenent » → « avenant » ; an acronym or « MacAdam » is kept as it is.
    """
    if not suggestion[1:].islower():
        return suggestion
    return suggestion[:1].upper() + suggestion[1:] if word[:1].isupper() else suggestion.lower()


_VOCABULARY_WORD = re.compile(r"[^\W\d_]{5,}")


def vocabulary(texts, speller: Speller) -> tuple[str, ...]:
    """The words of ``texts`` (5 letters or more) that ``speller`` knows, sorted: the dossier's own vocabulary."""
    words = {w for text in texts for w in _VOCABULARY_WORD.findall(text)}
    return tuple(sorted(w for w in words if speller.known(w)))


def absent_finding(where: Loc) -> Finding:
    """The one warning saying that spelling was not checked on this machine."""
    return warning("orthographe.absent", "orthographe non vérifiée : Grammalecte est introuvable (paquet Debian "
                   "python3-grammalecte, installé par « make test » et « make demo » ; ou DELIBERATION_GRAMMALECTE, "
                   "le dossier qui contient grammalecte/)", where)


def template_texts(path: Path) -> list[tuple[int, str]]:
    """The paragraphs of a Word file (body, headers, footers) as ``(number, text)``, numbered from 1.

    Cached on disk by the file's content: the shipped templates are read once per machine.
    """
    try:
        data = path.read_bytes()
    except OSError:
        return []
    key = hashlib.sha256(b"orthographe-docx|" + _VERSION.encode() + b"|" + data).hexdigest()
    cached = cache_get(key)
    if isinstance(cached, list):
        return cached
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    out: list[tuple[int, str]] = []
    n = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            names = ["word/document.xml", *sorted(x for x in z.namelist() if re.fullmatch(
                r"word/(?:header|footer)\d*\.xml", x))]
            for name in names:
                if name not in z.namelist():
                    continue
                tree = ElementTree.fromstring(z.read(name))  # noqa: S314 - a template, read as data
                for p in tree.iter(f"{w}p"):
                    n += 1
                    text = "".join(t.text or "" for t in p.iter(f"{w}t"))
                    if text.strip():
                        out.append((n, text))
    except (zipfile.BadZipFile, ElementTree.ParseError, KeyError, OSError, ValueError):
        return []  # an unreadable template stops the build, which says so (exit 3)
    cache_put(key, out)
    return out


def package_glossary_paths(root: str | Path | None) -> list[Path]:
    """The glossaries that apply to a dossier: the package's, its programme's, then its own ``glossaire.yaml``."""
    paths = [GLOSSARY]
    if root:
        programme = programme_root(root)
        if programme is not None:
            paths.append(programme / GLOSSARY_FILE)
        paths.append(Path(root) / GLOSSARY_FILE)
    return paths


def files_under(folder: Path, pattern: str) -> list[Path]:
    """The files of ``folder`` matching ``pattern``, sorted (for a deterministic walk)."""
    return sorted(Path(p) for p in glob.glob(str(folder / pattern), recursive=True))
