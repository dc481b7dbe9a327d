"""Name consistency: a body, a territory or an acronym written two ways across the dossier (issue 20).

Four codes, one finding per pair of spellings (the variant and the reference), each listing every place
where each spelling is written (``fichier:ligne``, relative to the dossier):

- ``nom.partie`` (error): a structure that signs an act of the phase (avenant or convention) is named
  as a party by a near-miss of its legal name (``raison_sociale``, else ``nom``). The places that name
  a legal party are the act itself and the annexe 4 line naming the beneficiary: the registry's ``nom``
  (the act's designation and signature, the annexe 4 cell), a line's ``ecrit.structure`` (the annexe 4
  cell as printed) and the voted model texts (``modeles/*.md``, an act's text);
- ``nom.graphie`` (warning): the same structure written otherwise in any other text (narratives,
  descriptions, titles, the rapport…), or in a party place when the structure signs no act;
- ``nom.sigle`` (warning): an acronym that is one letter off an acronym of the glossary (« PLE », « PIIE »
  for « PLIE »), or a known acronym in another case next to the same word (« Do + corde » / « DO + corde »);
- ``nom.territoire`` (warning): a word of a structure's name close to, but not, an MDS territory
  (« AMIE du Boulois » / Boulonnais).

A near-miss is the same name once accents, hyphens and spaces are set aside, or (names of several words,
ten letters or more) the same words but one, that one starting with the same letter and a ``difflib`` ratio
of 0.7 or more (« Pheforme » / « Plateforme »). Capitals alone are typography, not a spelling (« IMPACT
OVAL » / « Impact oval »), except for acronyms (« Do » / « DO »). A name that is plainly another
(« MEMPA » for a longer legal name) is not a near-miss; distinct registry entries (« ADEFI », « ADEFI -
PLIE », « ADEFI - Plateforme ») are each their own reference. Known acronyms are the glossary's
(``deliberation/glossaire.yaml`` and the dossier's own ``glossaire.yaml``, see ``rules.orthographe``)
and the registry's names that are one acronym (« PIF »).
"""

from __future__ import annotations

import difflib
import functools
import os
import re
import unicodedata
from dataclasses import dataclass, field

from deliberation.findings import Finding, Loc, error, warning
from deliberation.model import TERRITOIRES, Dossier
from deliberation.orthographe import Miss, load_glossary, package_glossary_paths
from deliberation.rules import DOSSIER, ERROR, WARNING, RuleInput, rule
from deliberation.rules.orthographe import _dossier_texts, _locate, _read_lines  # the spell check's walk

#: Town names the territories are named after: a word of a structure's name equal to one is no misspelt
#: territory (« Pas-de-Calais Actif » is not « Calaisis », « CCAS de Liévin » not « Lens-Liévin »).
VILLES = ("Arras", "Béthune", "Boulogne", "Calais", "Carvin", "Hénin", "Lens", "Liévin", "Montreuil",
          "Omer", "Saint-Omer", "Saint-Pol", "Ternoise", "Pas-de-Calais")
#: How many places of a spelling a message lists before « … (N en tout) ».
SHOWN = 12
_WORD = re.compile(r"[^\W_]+")
_NEAR = 0.7  # difflib ratio of the one word two names of several words spell differently
_NEAR_TERRITOIRE = 0.8  # of a word of a name and a territory


@functools.lru_cache(maxsize=65536)
def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def _tokens(text: str) -> list[tuple[str, int, int]]:
    """Words of ``text``, folded, with their span (hyphens, spaces and punctuation separate words)."""
    return [(_fold(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


@functools.lru_cache(maxsize=65536)
def near_miss(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ but name the same thing (see the module's docstring)."""
    if a.casefold() == b.casefold():  # the same name, in capitals or not: typography, not a spelling
        return False
    ta, tb = [t for t, _, _ in _tokens(a)], [t for t, _, _ in _tokens(b)]
    if "".join(ta) == "".join(tb):
        return True
    if len(ta) != len(tb) or len(ta) < 2 or len("".join(ta)) < 10:
        return False
    diff = [(x, y) for x, y in zip(ta, tb, strict=True) if x != y]  # one word misspelt, the others right
    return (len(diff) == 1 and diff[0][0][:1] == diff[0][1][:1]
            and difflib.SequenceMatcher(None, *diff[0]).ratio() >= _NEAR)


def _one_off(word: str, known: str) -> bool:
    """True when one letter changed, or one letter inserted or dropped inside the word, gives ``known``.

    A letter added at either end makes another acronym (« RSA » / « BRSA », « DEFI » / « ADEFI »).
    """
    if word == known or abs(len(word) - len(known)) > 1:
        return False
    if len(word) == len(known):
        return sum(x != y for x, y in zip(word, known, strict=True)) == 1
    short, long_ = (word, known) if len(word) < len(known) else (known, word)
    return any(long_[:i] + long_[i + 1:] == short for i in range(1, len(long_) - 1))


@dataclass
class _Pair:
    """A variant spelling and its reference, with where each is written."""

    code: str
    variant: str
    reference: str
    what: str  # what the reference is, in French (« la structure … au registre »)
    at: list[Loc] = field(default_factory=list)
    ref_at: list[Loc] = field(default_factory=list)
    ref_where: str = ""  # when the reference is written nowhere in the dossier: where it comes from


class _Collector:
    """Groups variants by pair of spellings, keeping each place once, in order of discovery."""

    def __init__(self, root: str):
        self.root = root
        self.pairs: dict[tuple[str, str, str], _Pair] = {}

    def add(self, code: str, variant: str, reference: str, what: str, at: Loc, group: str = "") -> _Pair:
        """Record that ``variant`` (of ``reference``; ``group``: the structure) is written at ``at``."""
        key = (code, variant, group or reference)
        pair = self.pairs.setdefault(key, _Pair(code, variant, reference, what))
        if at not in pair.at:
            pair.at.append(at)
        return pair

    def _places(self, locs: list[Loc]) -> str:
        shown = ", ".join(self._short(x) for x in sorted(locs, key=_order)[:SHOWN])
        return shown + (f", … ; {len(locs)} en tout" if len(locs) > SHOWN else "")

    def _short(self, loc: Loc) -> str:
        file = loc.file
        if self.root and file.startswith(self.root.rstrip("/") + "/"):
            file = os.path.relpath(file, self.root)
        return f"{file}:{loc.line}" if loc.line else file

    def findings(self) -> list[Finding]:
        out = []
        for p in self.pairs.values():
            at = sorted(p.at, key=_order)
            ref = self._places(p.ref_at) if p.ref_at else p.ref_where
            msg = f"« {p.variant} » ({self._places(at)}) et « {p.reference} » ({ref}) : {p.what}"
            out.append((error if p.code == "nom.partie" else warning)(p.code, msg, at[0]))
        return out


def _order(loc: Loc) -> tuple[str, int]:
    return (loc.file, loc.line or 0)


def _texts(d: Dossier, presented: Dossier | None, skip: set[tuple[str, Loc]]):
    """``(text, location)`` of every prose field of the dossier (as adopted and as presented), once each."""
    seen: set[tuple[str, Loc]] = set()
    for dossier in dict.fromkeys(x for x in (d, presented) if x is not None):
        for text, loc in _dossier_texts(dossier):
            if (text, loc) not in seen and (text, loc) not in skip:
                seen.add((text, loc))
                yield text, loc


def _model_lines(d: Dossier):
    """``(text, location)`` of each line of the voted model texts (an act's own text), once per file."""
    for path in sorted({v.loc.file for v in d.textes_modeles.values()}):
        for n, line in enumerate(_read_lines(path), 1):
            yield line, Loc(path, n)


@rule(DOSSIER, ("nom.partie", "nom.graphie", "nom.sigle", "nom.territoire"), (ERROR, WARNING))
def check_noms(inp: RuleInput) -> list[Finding]:
    """A structure, an acronym or a territory is written one way across the dossier; a party by its legal name."""
    d = inp.dossier
    glossary, _ = load_glossary(*package_glossary_paths(d.root))  # its own findings: the spell check's
    col = _Collector(d.root)
    cache: dict[str, list[str]] = {}
    signs = {a.structure_key for a in inp.acts if not a.is_model}
    structures = [s for _, s in sorted(d.structures.items())]
    # the names themselves: references, or compared whole (``ecrit.structure``), not searched as texts
    names = {(v, s.at(f)) for s in structures for f, v in (("nom", s.nom), ("raison_sociale", s.raison_sociale)) if v}
    names |= {(lg.ecrit.structure, lg.ecrit.at("structure")) for _, _, lg in d.lignes()
              if lg.ecrit and lg.ecrit.structure}
    texts = list(_texts(d, inp.presented, names))
    models = list(_model_lines(d))
    _structures(d, structures, signs, texts, models, col, cache)
    named = sorted(names, key=lambda x: _order(x[1]))
    _sigles(known_sigles(glossary.sigles, structures), named + texts + models, col, cache)
    _territoires(d, structures, col)
    return col.findings()


def _legal(s) -> str:
    return s.raison_sociale or s.nom or s.id


def _structures(d, structures, signs, texts, models, col: _Collector, cache) -> None:
    """Structure names: the registry's two names, the annexe 4 as printed, every text."""
    def party(s, variant: str, at: Loc) -> None:
        legal = _legal(s)
        ref_loc = s.at("raison_sociale") if s.raison_sociale else s.at("nom")
        if s.id in signs:
            what = (f"la structure {s.id} signe un acte de la phase ; l'acte et l'annexe 4 doivent la nommer "
                    "par sa dénomination légale, écrite ainsi au registre")
            col.add("nom.partie", variant, legal, what, at, s.id).ref_at = [ref_loc]
        else:
            col.add("nom.graphie", variant, legal, f"même structure ({s.id}) écrite de deux façons", at, s.id) \
                .ref_at = [ref_loc]

    lines_of: dict[str, list] = {}
    for _, _, lg in d.lignes():
        lines_of.setdefault(lg.structure, []).append(lg)
    for s in structures:
        if s.nom and s.raison_sociale and near_miss(s.nom, s.raison_sociale):
            party(s, s.nom, s.at("nom"))
            for lg in lines_of.get(s.id, ()):  # the annexe 4 prints the usual name on each line
                if not (lg.ecrit and lg.ecrit.structure):
                    party(s, s.nom, lg.at("structure"))
        for lg in lines_of.get(s.id, ()):
            printed = lg.ecrit.structure if lg.ecrit else None
            if printed and printed not in (s.nom, s.raison_sociale) and (
                    near_miss(printed, s.nom or "") or near_miss(printed, s.raison_sociale or "")):
                party(s, printed, lg.ecrit.at("structure"))
    refs = [(s, r) for s in structures for r in dict.fromkeys(x for x in (s.nom, s.raison_sociale) if x)]
    all_names = {r for _, r in refs}
    index = _index(refs)
    for source, in_act in ((texts, False), (models, True)):
        for text, loc in source:
            for s, ref, raw, start in _mentions(text, index, all_names):
                at = _locate(loc, text, Miss(raw, start, False, ()), cache)
                if in_act:
                    party(s, raw, at)
                else:
                    if near_miss(raw, _legal(s)):  # the legal name is the reference, when it is the near one
                        ref = _legal(s)
                    pair = col.add("nom.graphie", raw, ref, f"même structure ({s.id}) écrite de deux façons", at,
                                   s.id)
                    if not pair.ref_at:
                        pair.ref_at = [s.at("nom") if ref == s.nom else s.at("raison_sociale")]


def _index(refs) -> _NameIndex:
    """The registry names, found by their first folded word (see ``_NameIndex``)."""
    index = _NameIndex()
    for k, (s, ref) in enumerate(refs):
        rt = tuple(t for t, _, _ in _tokens(ref))
        if sum(c.isalpha() for c in "".join(rt)) < 2:  # « +1 », « A » : no name to look for in a text
            continue
        index.add((k, s, ref, rt))
    return index


class _NameIndex:
    """Registry names keyed so that a text's words find only the names they may be a near-miss of.

    A near-miss (``near_miss``) of a name of n words, starting with the same word, is written as n words
    that either join into the name's letters, or differ from its words at exactly one place. So a name
    is filed under its first word, its length and its joined letters, and under its first word, its
    length and its words with each one left out in turn: the words of a text find the few names they
    can be a near-miss of in a handful of look-ups, however many names share their first word (« Structure
    fictive 1 » … « Structure fictive 500 »). Each one found is then checked by ``near_miss``.
    """

    def __init__(self):
        self.lengths: dict[str, set[int]] = {}  # first word → the lengths of the names it starts
        self.keys: dict[tuple, list] = {}  # look-up key → [(rank, structure, name, its folded words)]

    def add(self, entry) -> None:
        """File ``(rank, structure, name, folded words)`` under each of its keys."""
        rt = entry[3]
        n = len(rt)
        self.lengths.setdefault(rt[0], set()).add(n)
        self.keys.setdefault((rt[0], n, "".join(rt)), []).append(entry)
        for j in range(1, n):
            self.keys.setdefault((rt[0], n, j, rt[1:j] + rt[j + 1:]), []).append(entry)

    def candidates(self, words: list[str], i: int):
        """The entries a name written from word ``i`` of ``words`` may be a near-miss of (a superset)."""
        found: dict[int, tuple] = {}
        for n in self.lengths.get(words[i], ()):
            if i + n > len(words):
                continue
            span = tuple(words[i:i + n])
            for key in ((span[0], n, "".join(span)),
                        *((span[0], n, j, span[1:j] + span[j + 1:]) for j in range(1, n))):
                for entry in self.keys.get(key, ()):
                    found[entry[0]] = entry
        return found.values()


def _mentions(text: str, index: _NameIndex, all_names: set[str]):
    """``(structure, reference, variant, start)`` for each near-miss of a registry name written in ``text``.

    Only the names the text's words can be a near-miss of are tried (``_NameIndex``): a few dictionary
    look-ups per word, not one scan of the text per name of the registry.
    """
    if not text:
        return
    toks = _tokens(text)
    words = [w for w, _, _ in toks]
    found = []
    for i, word in enumerate(words):
        if word not in index.lengths:
            continue
        for k, s, ref, rt in index.candidates(words, i):
            raw = text[toks[i][1]:toks[i + len(rt) - 1][2]]
            if raw in all_names or not near_miss(raw, ref):
                continue
            found.append((k, toks[i][1], s, ref, raw))
    for _, start, s, ref, raw in sorted(found, key=lambda f: (f[0], f[1])):  # registry order, then position
        yield s, ref, raw, start


def known_sigles(glossary: set[str], structures) -> set[str]:
    """The acronyms a text may write: the glossary's, and a registry name that is one acronym (« PIF »).

    A word in capitals inside a longer name is not taken (« LES AMIS COPEAUX », « ADEFI - PIIE »).
    """
    known = set(glossary)
    for s in structures:
        for name in (s.nom, s.raison_sociale):
            words = [m.group() for m in _WORD.finditer(name or "")]
            if len(words) == 1 and words[0].isupper():
                known.add(words[0])
    return known


def _sigles(known: set[str], texts, col: _Collector, cache) -> None:
    """Acronyms: one letter off a known one, or a known one in another case before the same word."""
    occurrences: dict[str, list[tuple[Loc, str]]] = {}  # word as written → (place, next word)
    for text, loc in texts:
        if not text:
            continue
        matches = list(_WORD.finditer(text))
        for k, m in enumerate(matches):
            word = m.group()
            if word.isupper() and len(word) >= 2 or (word[:1].isupper() and word.upper() in known):
                nxt = _fold(matches[k + 1].group()) if k + 1 < len(matches) else ""
                at = _locate(loc, text, Miss(word, m.start(), True, ()), cache)
                occurrences.setdefault(word, []).append((at, nxt))
    counts = {w: len(v) for w, v in occurrences.items()}
    for word in sorted(occurrences):
        at = [x for x, _ in occurrences[word]]
        if word.isupper():
            if word in known or len(word) < 3:
                continue
            near = sorted((k for k in known if len(k) >= 3 and _one_off(word, k)),
                          key=lambda k: (-counts.get(k, 0), k))
            if not near:
                continue
            ref = near[0]
        else:
            ref = word.upper()
            after = {n for _, n in occurrences[word]}
            if not after & {n for _, n in occurrences.get(ref, ())}:
                continue
        pair = None
        for x in at:
            pair = col.add("nom.sigle", word, ref, "un même sigle écrit de deux façons ; le glossaire écrit "
                           f"« {ref} »", x)
        pair.ref_at = [x for x, _ in occurrences.get(ref, ())]
        pair.ref_where = "glossaire des sigles"


@functools.lru_cache(maxsize=4096)
def _nearest_territory(folded: str) -> tuple[float, str]:
    """The MDS territory nearest to a folded word, and how near (difflib ratio)."""
    return max((difflib.SequenceMatcher(None, folded, _fold(t).replace("-", "")).ratio(), t) for t in TERRITOIRES)


def _territoires(d: Dossier, structures, col: _Collector) -> None:
    """A word of a structure's name that is almost, not quite, an MDS territory."""
    names = {_fold(t) for t in TERRITOIRES}
    parts = names | {p for t in TERRITOIRES for p, _, _ in _tokens(t)} | {_fold(v) for v in VILLES} \
        | {p for v in VILLES for p, _, _ in _tokens(v)}
    written = [(s, s.nom, s.at("nom")) for s in structures if s.nom]
    written += [(s, s.raison_sociale, s.at("raison_sociale")) for s in structures if s.raison_sociale]
    by_id = {s.id: s for s in structures}
    written += [(by_id[lg.structure], lg.ecrit.structure, lg.ecrit.at("structure")) for _, _, lg in d.lignes()
                if lg.ecrit and lg.ecrit.structure and lg.structure in by_id]
    for s, name, at in written:
        for m in _WORD.finditer(name):
            word, folded = m.group(), _fold(m.group())
            if len(folded) < 5 or folded in parts:
                continue
            ratio, territoire = _nearest_territory(folded)
            if ratio >= _NEAR_TERRITOIRE:
                pair = col.add("nom.territoire", word, territoire,
                               f"le nom de la structure {s.id} (« {name} ») écrit mal le territoire MDS "
                               f"« {territoire} »", at)
                pair.ref_where = "liste des territoires MDS"
