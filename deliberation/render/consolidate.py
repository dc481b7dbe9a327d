"""A convention as its avenants leave it: the consolidated version, and its redline against the initial text.

``consolidate`` reads the rendered convention (``convention-nouvelle.docx`` of the phase that created it)
and each adopted avenant (``avenant-<clé>.docx``), article by article (headings « Article N : Titre »).
Each avenant article is mapped to its clause by the clause texts' own front matter (``titre``, and
``modifie`` for an article whose title a voted text changed); what the clause does to the convention:

- ``objet_convention``, ``duree`` (and any clause without a rule of its own): the article it modifies takes
  the avenant's quoted text « … », guillemets removed;
- ``cout``: the alinéa the avenant cites (« L'alinéa 1er de l'article 4 ») takes the quoted text;
- ``obligations``: the sub-article it cites (« L'article 8-1 … est complété ») is followed by the
  avenant's items;
- ``annexes``: article 12's list of annexes is the avenant's new list, and the annexed sheets follow it:
  the sheet the avenant joins replaces the convention's (« modifiée »), or is added; a sheet no longer
  listed goes; a listed sheet the avenant does not join stays as it was (a sheet is both its pages: the
  act's conditions, « Annexe N°2 – … », and the dispositif's description, « Annexe N°2 (suite) — … »);
- the framing articles (objet de l'avenant, autres dispositions) change nothing.

Every changed article carries, under its heading, the avenants that changed it, in order
(« (modifié par les avenants n°1 du 16 juin 2025 et n°2 du 13 octobre 2025) »; « complété » for
obligations). The title says which avenant the version follows, and a line under it that the document
is informative, not signed; the signature block goes. A « PROJET » banner or watermark of the initial
convention stays (the consolidated text rests on the same texts), and an avenant in PROJET is named.

New paragraphs take the convention's own paragraph properties (the paragraph they replace, or one of the
same list style), the avenant's runs (bold, raised ordinal letters). An avenant article that cannot be
mapped or applied raises ``ConsolidationError`` naming it: nothing is skipped silently.
``consolidation.consolidated_conventions`` does it for every convention a programme has amended; the
redline against the initial text is ``bundle.consolidated.consolidated_redline``.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import docx
from lxml import etree

from deliberation.fmt import date_long
from deliberation.fsio import build_time, normalise_zip
from deliberation.render.acts import _FRONT, FIXED, Clauses, load_clauses
from deliberation.render.finish import SIGNATURE_STARTS
from deliberation.typo import typeset, typeset_runs

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_P, _R, _T, _TBL, _PPR, _RPR = (f"{{{W}}}{n}" for n in ("p", "r", "t", "tbl", "pPr", "rPr"))
_SECT = f"{{{W}}}sectPr"
_VAL = f"{{{W}}}val"

_HEADING = re.compile(r"^article (\d+) ?: ?(.+)$")
_CITED = re.compile(r"\barticle (\d+(?:-\d+)?)\b")
_ALINEA = re.compile(r"\balinéa (\d+)")
_SUB = re.compile(r"^(\d+-\d+)\b")
_LIST_ITEM_ANNEX = re.compile(r"\bannexe (\d+)\b")
_SHEET = re.compile(r"\bannexe n° ?(\d+)\b")
_NUMERO = re.compile(r"\bconvention (?:initiale )?n° ?([0-9a-z][\w./-]*\w)")
_LIST_STYLES = ("ListBullet", "ListNumber", "ListContinue", "ListParagraph")

#: The framing articles of every avenant: they change nothing in the convention.
FRAMING = FIXED


class ConsolidationError(Exception):
    """An avenant article that cannot be mapped to a clause or applied to the convention (message in French)."""


@dataclass(frozen=True)
class Applied:
    """An adopted avenant: its number, the séance that adopted it, the rendered document."""

    numero: int
    date: dt.date
    docx: bytes


# ---------------------------------------------------------------------------
# reading a rendered act


def _text(el) -> str:
    return "".join(t.text or "" for t in el.iter(_T))


def _norm(text: str) -> str:
    """Text for comparisons: one kind of space and apostrophe, lower case."""
    text = text.replace("\u2019", "'").replace("\u00a0", " ").replace("\u202f", " ")
    return " ".join(text.split()).casefold()


def _style(p) -> str:
    el = p.find(f"{_PPR}/{{{W}}}pStyle")
    return el.get(_VAL, "") if el is not None else ""


def _is_list(p) -> bool:
    return p.tag == _P and (_style(p).startswith(_LIST_STYLES) or p.find(f"{_PPR}/{{{W}}}numPr") is not None)


def _page_break(el) -> bool:
    return el.tag == _P and el.find(f".//{{{W}}}br[@{{{W}}}type='page']") is not None


@dataclass
class _Article:
    numero: int
    titre: str
    heading: etree._Element
    body: list
    changes: list = field(default_factory=list)  # (verb, Applied), in order
    first: int = 1  # paragraphs of alinéa 1 (a quoted alinéa may have several)


@dataclass
class _Sheet:
    numero: int
    elements: list
    changes: list = field(default_factory=list)


@dataclass
class _Act:
    document: object  # python-docx Document
    head: list
    articles: list[_Article]
    closing: list  # the signature block: closing formula … signature table
    sheets: list[_Sheet]
    tail: list  # what follows the sheets (the section properties)

    @property
    def projet(self) -> bool:
        return any(_norm(_text(p)).startswith("projet") for p in self.head if p.tag == _P)


def _read(data: bytes, what: str) -> _Act:
    """Split a rendered act's body into its head, articles, signature block and annexed sheets."""
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as err:  # not a DOCX: zipfile.BadZipFile, KeyError, lxml errors…
        raise ConsolidationError(f"{what} : document Word illisible ({err})") from err
    elements = list(document.element.body)
    head: list = []
    articles: list[_Article] = []
    i = 0
    while i < len(elements):
        el = elements[i]
        text = _norm(_text(el)) if el.tag == _P else ""
        if el.tag == _P and articles and _text(el).strip().startswith(SIGNATURE_STARTS):
            break
        m = _HEADING.match(text) if el.tag == _P and len(text) < 220 else None
        if m:
            titre = " ".join(_text(el).replace("\u00a0", " ").replace("\u202f", " ").split()).split(":", 1)[-1]
            articles.append(_Article(int(m.group(1)), titre.strip(), el, []))
        elif articles:
            articles[-1].body.append(el)
        else:
            head.append(el)
        i += 1
    if not articles:
        raise ConsolidationError(f"{what} : aucun article (« Article N : Titre ») trouvé")
    closing: list = []
    while i < len(elements) and elements[i].tag != _SECT:
        closing.append(elements[i])
        i += 1
        if closing[-1].tag == _TBL:
            break
    sheets: list[_Sheet] = []
    current: list = []
    rest = [el for el in elements[i:] if el.tag != _SECT]
    tail = [el for el in elements[i:] if el.tag == _SECT]
    for el in rest:
        if _page_break(el) and current:
            sheets = _joined(sheets, _sheet(current, what))
            current = []
        current.append(el)
    if current:
        sheets = _joined(sheets, _sheet(current, what))
    return _Act(document, head, articles, closing, sheets, tail)


def _joined(sheets: list[_Sheet], part: _Sheet) -> list[_Sheet]:
    """``sheets`` with ``part`` added: a sheet's second page segment (« Annexe N°2 (suite) ») joins its first."""
    if sheets and sheets[-1].numero == part.numero:
        return [*sheets[:-1], _Sheet(part.numero, sheets[-1].elements + part.elements)]
    return [*sheets, part]


def _sheet(elements: list, what: str) -> _Sheet:
    for el in elements:
        if el.tag == _P and (m := _SHEET.search(_norm(_text(el)))):
            return _Sheet(int(m.group(1)), elements)
    raise ConsolidationError(f"{what} : fiche annexée sans « Annexe N°… »")


# ---------------------------------------------------------------------------
# mapping an avenant article to its clause


@dataclass(frozen=True)
class _Clause:
    name: str
    modifie: int | None
    closing: str  # the clause text's last line, as rendered (« le reste de l'article est inchangé. »)


def _clauses(clauses: Clauses) -> dict[str, _Clause]:
    out = {}
    for name, text in clauses.texts.items():
        closing = ""
        try:
            source = Path(text.loc.file).read_text(encoding="utf-8").replace("\r\n", "\n")
        except (OSError, UnicodeDecodeError):
            source = ""
        if m := _FRONT.match(source):
            lines = [ln for ln in m.group(2).strip().splitlines() if ln.strip()]
            if lines and "{" not in lines[-1]:
                closing = _norm(typeset(lines[-1]))
        out[name] = _Clause(name, text.modifie, closing)
    return out


def _clause_of(art: _Article, clauses: Clauses, by_name: dict[str, _Clause], where: str) -> _Clause:
    """The clause an avenant article follows: by its title, else by the article of the convention it cites."""
    for name, text in clauses.texts.items():
        if text.titre and _norm(typeset(text.titre)) == _norm(art.titre):
            return by_name[name]
    intro = _norm(_text(art.body[0])) if art.body else ""
    if m := _CITED.search(intro):
        cited = int(m.group(1).split("-")[0])
        found = [c for c in by_name.values() if c.modifie == cited]
        if len(found) == 1:
            return found[0]
    raise ConsolidationError(f"{where} : aucun texte de clause (templates/clauses) ne porte ce titre ni ne modifie "
                             "l'article de la convention qu'il cite : article impossible à appliquer")


# ---------------------------------------------------------------------------
# building paragraphs in the convention's own formatting


def _quoted(body: list, where: str) -> list:
    """The paragraphs of the article's quoted text « … » (the quote may span several)."""
    start = next((i for i, p in enumerate(body) if p.tag == _P and _norm(_text(p)).startswith("«")), None)
    if start is None:
        raise ConsolidationError(f"{where} : pas de texte entre guillemets « … » : la nouvelle rédaction est "
                                 "introuvable")
    depth = 0
    for j in range(start, len(body)):
        text = _text(body[j])
        depth += text.count("«") - text.count("»")
        if depth <= 0 and _norm(text).endswith("»"):
            return body[start:j + 1]
    raise ConsolidationError(f"{where} : guillemet fermant « » » introuvable")


def _strip_guillemets(paragraphs: list) -> None:
    """Remove the opening « of the first paragraph and the closing » of the last (copies, in place)."""
    ts = [t for t in paragraphs[0].iter(_T) if t.text]
    if ts:
        ts[0].text = re.sub(r"^\s*«[\s\u00a0\u202f]*", "", ts[0].text)
    ts = [t for t in paragraphs[-1].iter(_T) if t.text]
    if ts:
        ts[-1].text = re.sub(r"[\s\u00a0\u202f]*»\s*$", "", ts[-1].text)


def _check_no_parts(el, where: str) -> None:
    """A copied element must not point to a part of the avenant (image, link): it would dangle here."""
    for node in el.iter():
        if any(k.startswith(f"{{{R}}}") for k in node.attrib):
            raise ConsolidationError(f"{where} : contenu lié (image, lien) impossible à reprendre dans la convention")


class _Builder:
    """Paragraphs for the convention, formatted like its own."""

    def __init__(self, conv: _Act):
        self.conv = conv
        self.styles = {s.style_id for s in conv.document.styles}
        self.list_ppr: dict[str, etree._Element] = {}
        for p in conv.document.element.body.iter(_P):
            ppr = p.find(_PPR)
            if _is_list(p) and ppr is not None:
                self.list_ppr.setdefault(_style(p), ppr)

    def paragraph(self, source, model, where: str):
        """``source`` (an avenant paragraph) with the convention's paragraph properties: ``model``'s, or a list's."""
        _check_no_parts(source, where)
        out = copy.deepcopy(source)
        old = out.find(_PPR)
        if old is not None:
            out.remove(old)
        style = _style(source)
        if _is_list(source) and style in self.list_ppr:
            ppr = self.list_ppr[style]
        elif _is_list(source):
            ppr = source.find(_PPR) if style in self.styles or not style else None
        else:
            ppr = model.find(_PPR) if model is not None else None
        if ppr is not None:
            out.insert(0, copy.deepcopy(ppr))
        return out

    def text(self, model, text: str, italic: bool = False, rpr=None):
        """A paragraph of ``text`` (French typography, ordinal letters raised) with ``model``'s properties."""
        p = etree.Element(_P)
        ppr = model.find(_PPR) if model is not None else None
        if ppr is not None:
            p.append(copy.deepcopy(ppr))
        for segment, raised in typeset_runs([text])[0]:
            r = etree.SubElement(p, _R)
            props = copy.deepcopy(rpr) if rpr is not None else etree.Element(_RPR)
            if italic:
                etree.SubElement(props, f"{{{W}}}i")
            if raised:
                etree.SubElement(props, f"{{{W}}}vertAlign", {_VAL: "superscript"})
            r.append(props)
            t = etree.SubElement(r, _T)
            t.text = segment
            t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        return p


# ---------------------------------------------------------------------------
# applying one avenant


def _where(av: Applied, art: _Article) -> str:
    return f"avenant n°{av.numero}, article {art.numero} « {art.titre} »"


def _target(conv: _Act, numero: int | None, where: str) -> _Article:
    found = [a for a in conv.articles if a.numero == numero]
    if numero is None or not found:
        raise ConsolidationError(f"{where} : la convention n'a pas d'article {numero or '?'} à modifier")
    return found[0]


def _apply(conv: _Act, b: _Builder, av: Applied, act: _Act, clauses: Clauses, by_name: dict[str, _Clause]) -> None:
    for art in act.articles:
        where = _where(av, art)
        clause = _clause_of(art, clauses, by_name, where)
        if clause.name in FRAMING:
            continue
        target = _target(conv, clause.modifie, where)
        intro = _norm(_text(art.body[0])) if art.body else ""
        if clause.name == "obligations":
            _complete(target, art, clause, b, av, where, intro)
        elif clause.name == "annexes":
            _annexes(conv, target, art, b, av, act, where)
        elif clause.name == "cout" or _ALINEA.search(intro):
            m = _ALINEA.search(intro)
            n = int(m.group(1)) if m else 1
            new = _quoted(art.body, where)
            if n != 1:
                raise ConsolidationError(f"{where} : seul l'alinéa 1er se remplace ici (alinéa {n} cité)")
            if not target.body:
                raise ConsolidationError(f"{where} : l'article {target.numero} de la convention n'a pas d'alinéa 1er")
            model = target.body[0]
            paras = [b.paragraph(p, model, where) for p in new]
            _strip_guillemets(paras)
            target.body[:target.first] = paras
            target.first = len(paras)
            target.changes.append(("modifié", av))
        else:  # objet_convention, duree, any clause rewriting a whole article
            new = _quoted(art.body, where)
            model = next((p for p in target.body if p.tag == _P and not _is_list(p)), None)
            paras = [b.paragraph(p, model, where) for p in new]
            _strip_guillemets(paras)
            target.body = paras
            target.first = 1
            target.changes.append(("modifié", av))


def _complete(target: _Article, art: _Article, clause: _Clause, b: _Builder, av: Applied, where: str,
              intro: str) -> None:
    """Append the avenant's items after the sub-article it cites (« 8-1 »), or at the article's end."""
    items = art.body[1:]
    if items and clause.closing and _norm(_text(items[-1])) == clause.closing:
        items = items[:-1]
    items = [p for p in items if p.tag != _P or _text(p).strip()]
    if not items:
        raise ConsolidationError(f"{where} : l'article ne complète la convention d'aucun alinéa")
    m = _CITED.search(intro)
    sub = m.group(1) if m and "-" in m.group(1) else None
    at = len(target.body)
    model = next((p for p in target.body if p.tag == _P and not _is_list(p)), None)
    if sub is not None:
        start = next((i for i, p in enumerate(target.body) if p.tag == _P
                      and (s := _SUB.match(_norm(_text(p)))) and s.group(1) == sub), None)
        if start is None:
            raise ConsolidationError(f"{where} : l'article {sub} est introuvable dans l'article {target.numero} "
                                     "de la convention")
        model = target.body[start]
        at = next((i for i in range(start + 1, len(target.body)) if target.body[i].tag == _P
                   and _SUB.match(_norm(_text(target.body[i])))), len(target.body))
    target.body[at:at] = [b.paragraph(p, model, where) for p in items]
    target.changes.append(("complété", av))


def _annexes(conv: _Act, target: _Article, art: _Article, b: _Builder, av: Applied, act: _Act, where: str) -> None:
    """Article 12's list is the avenant's new list; the sheets follow it."""
    def last_list(body: list) -> tuple[int, int] | None:
        end = next((i + 1 for i in range(len(body) - 1, -1, -1) if _is_list(body[i])), None)
        if end is None:
            return None
        start = end - 1
        while start > 0 and _is_list(body[start - 1]):
            start -= 1
        return start, end

    new = last_list(art.body)
    if new is None:
        raise ConsolidationError(f"{where} : pas de liste des annexes (« Les annexes de la convention sont "
                                 "désormais : … »)")
    old = last_list(target.body)
    if old is None:
        raise ConsolidationError(f"{where} : l'article {target.numero} de la convention n'a pas de liste d'annexes")
    items = art.body[new[0]:new[1]]
    numbers = []
    for p in items:
        m = _LIST_ITEM_ANNEX.search(_norm(_text(p)))
        if not m:
            raise ConsolidationError(f"{where} : « {_text(p)} » ne nomme pas une annexe (« Annexe N : … »)")
        numbers.append(int(m.group(1)))
    target.body[old[0]:old[1]] = [b.paragraph(p, target.body[old[0]], where) for p in items]
    target.changes.append(("modifié", av))
    joined = {s.numero: s for s in act.sheets}
    current = {s.numero: s for s in conv.sheets}
    sheets = []
    for n in numbers:
        if n in joined:
            for el in joined[n].elements:
                _check_no_parts(el, where)
            previous = current.get(n)
            sheets.append(_Sheet(n, [copy.deepcopy(el) for el in joined[n].elements],
                                 [*(previous.changes if previous else []),
                                  ("modifiée" if previous else "ajoutée", av)]))
        elif n in current:
            sheets.append(current[n])
        else:
            raise ConsolidationError(f"{where} : l'annexe {n} n'est jointe ni à l'avenant ni à la convention")
    conv.sheets = sheets


# ---------------------------------------------------------------------------
# mentions and title


def _avenant_list(avs: list[Applied]) -> str:
    """« l'avenant n°1 du 16 juin 2025 », « les avenants n°1 du … et n°2 du … »."""
    parts = [f"n°{a.numero} du {date_long(a.date)}" for a in avs]
    if len(parts) == 1:
        return f"l'avenant {parts[0]}"
    return "les avenants " + ", ".join(parts[:-1]) + " et " + parts[-1]


def mention(changes: list[tuple[str, Applied]]) -> str:
    """« (modifié par l'avenant n°1 du 16 juin 2025) »; by verb, in order: « (complété par …, modifié par …) »."""
    verbs: dict[str, list[Applied]] = {}
    for verb, av in changes:
        verbs.setdefault(verb, [])
        if av not in verbs[verb]:
            verbs[verb].append(av)
    return "(" + ", ".join(f"{v} par {_avenant_list(avs)}" for v, avs in verbs.items()) + ")"


def _numero(acts: list[_Act]) -> str | None:
    for act in reversed(acts):
        for el in [*act.head, *(p for a in act.articles for p in a.body)]:
            if el.tag == _P and (m := _NUMERO.search(_norm(_text(el)))):
                raw = _text(el)
                at = raw.lower().find(m.group(1))
                return raw[at:at + len(m.group(1))] if at >= 0 else m.group(1).upper()
    return None


def _retitle(conv: _Act, b: _Builder, avenants: list[Applied], numero: str | None, projets: list[int]) -> None:
    """The title says which version this is; a line under it that it is informative, not signed.

    The title is the head's first short paragraph starting « Convention » (the engine's « CONVENTION », or a
    given initial text's « CONVENTION DE PARTENARIAT »); without one, a title is put before the head.
    """
    title = next((p for p in conv.head if p.tag == _P and _norm(_text(p)).startswith("convention")
                  and len(_text(p)) < 120), None)
    if title is None:
        title = b.text(conv.articles[0].heading, "CONVENTION")
        conv.head.insert(0, title)
    words = " ".join(_text(title).split()).upper()
    if numero and numero.upper() not in words:
        words += f" N°{numero}"
    runs = [r for r in title.iter(_R) if r.find(_T) is not None]
    rpr = runs[0].find(_RPR) if runs else None
    for r in runs:
        r.getparent().remove(r)
    heading = b.text(title, f"{words} — VERSION CONSOLIDÉE", rpr=rpr)
    for r in heading.findall(_R):
        title.append(r)
    last = avenants[-1]
    plain = copy.deepcopy(rpr) if rpr is not None else etree.Element(_RPR)
    for tag in ("b", "bCs", "caps"):
        for el in plain.findall(f"{{{W}}}{tag}"):
            plain.remove(el)
    lines = [f"à l'issue de l'avenant n°{last.numero} du {date_long(last.date)}"
             + (f" (intègre {_avenant_list(avenants)})" if len(avenants) > 1 else "")]
    info = ("Version consolidée établie pour information ; elle n'est pas signée : seuls font foi la convention "
            "initiale et ses avenants signés.")
    if projets:
        info += (" Établie d'après " + ("un avenant" if len(projets) == 1 else "des avenants") + " en projet ("
                 + ", ".join(f"n°{n}" for n in projets) + ").")
    small = copy.deepcopy(plain)
    for tag in ("sz", "szCs"):
        for el in small.findall(f"{{{W}}}{tag}"):
            small.remove(el)
    at = conv.head.index(title) + 1
    conv.head[at:at] = [b.text(title, lines[0], rpr=plain), b.text(title, info, italic=True, rpr=small)]


def _restamp(document, stamp: str) -> None:
    """The foot of every page names the consolidated version (« … — page 1/4 »), not the initial act."""
    for rel in document.part.rels.values():
        if not rel.reltype.endswith("/footer"):
            continue
        for p in rel.target_part.element.iter(_P):
            if p.find(f".//{{{W}}}fldSimple") is None and "PAGE" not in "".join(
                    t.text or "" for t in p.iter(f"{{{W}}}instrText")):
                continue
            t = next((t for t in p.iter(_T) if t.text and " — " in t.text), None)
            if t is not None:
                t.text = stamp + t.text[t.text.rfind(" — "):]


# ---------------------------------------------------------------------------
# the whole


def consolidate(initial: bytes, avenants: list[Applied], templates_dir: Path, numero: str | None = None) -> bytes:
    """The convention ``initial`` with every avenant applied in order (they must be given in order).

    ``numero``: the convention's number, when the initial text does not give it (a convention created in
    the programme gets its number at signature); by default the one the latest avenant cites.

    Raises:
        ConsolidationError: an avenant article that cannot be mapped to a clause or applied, named;
            an unreadable document.
        TemplateError: a clause text missing or broken (``load_clauses``).

    """
    if not avenants:
        raise ConsolidationError("aucun avenant à appliquer : la version consolidée est la convention initiale")
    clauses = load_clauses(Path(templates_dir))
    by_name = _clauses(clauses)
    conv = _read(initial, "convention initiale")
    b = _Builder(conv)
    acts = []
    for av in avenants:
        act = _read(av.docx, f"avenant n°{av.numero}")
        _apply(conv, b, av, act, clauses, by_name)
        acts.append(act)
    projets = [av.numero for av, act in zip(avenants, acts, strict=True) if act.projet]
    numero = numero or _numero(acts)
    _retitle(conv, b, avenants, numero, projets)
    body = conv.document.element.body
    for el in list(body):
        body.remove(el)
    for el in conv.head:
        body.append(el)
    for a in conv.articles:
        body.append(a.heading)
        if a.changes:
            body.append(b.text(a.heading, mention(a.changes), italic=True))
        for el in a.body:
            body.append(el)
    for s in conv.sheets:
        for el in s.elements:
            body.append(el)
            if s.changes and el.tag == _P and _SHEET.search(_norm(_text(el))):
                body.append(b.text(el, mention(s.changes), italic=True))
    for el in conv.tail:
        body.append(el)
    last = avenants[-1]
    _restamp(conv.document, typeset(f"Convention{' n°' + numero if numero else ''} — version consolidée à l'issue "
                                    f"de l'avenant n°{last.numero} du {date_long(last.date)}"))
    when = build_time(max(a.date for a in avenants))
    props = conv.document.core_properties
    props.title = f"Convention{' n°' + numero if numero else ''} — version consolidée"
    props.author = props.last_modified_by = "deliberation"
    props.created = props.modified = when
    props.revision = 1
    buf = io.BytesIO()
    conv.document.save(buf)
    return normalise_zip(buf.getvalue(), when)

