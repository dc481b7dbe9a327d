"""Avenants and conventions as Word documents, with their annex sheets and review sheets.

The frame of each act (parties, visas, signatures) is a Word template (``avenant.docx``,
``convention.docx``); the articles of an avenant are the Markdown fragments of
``templates/clauses/``, rendered in a sandboxed Jinja environment where every value is
Markdown-escaped, then numbered in order. Annex sheets are the dispositif sheets of ``annexes/``
rendered as the seed's two-column table, per-structure fields filled.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import StrictUndefined, TemplateError, meta

from deliberation.acts import (
    CLAUSE_LABELS,
    CONVENTION_ROWS,
    PHASE_INSTALMENTS,
    UNFUNDED,
    Act,
    Decision,
    act_values,
    model_clauses,
    model_texts_of,
    modified_articles,
    motifs,
    reconstructed,
)
from deliberation.findings import TemplateError as BuildTemplateError
from deliberation.load.modeles import blanks_of, fill, load_statuts
from deliberation.load.yaml import convert_text, read_text
from deliberation.messages import library_error
from deliberation.model import CLAUSES, ClauseText, Dossier, VotedText
from deliberation.outcome import Checked
from deliberation.plan import annexes, slugify
from deliberation.render.docx import GuardedEnvironment, render_timeout
from deliberation.render.markdown import FICHE_MARK, MarkdownText, SheetTable
from deliberation.resources import package_dir
from deliberation.resources import templates_dir as engine_templates
from deliberation.text import sheet_sections, unrenderable

#: The fixed articles framing every avenant.
FIXED = ("objet", "autres")
_FRONT = re.compile(r"\A---\n(.*?)\n---\n?(.*)\Z", re.S)
_FIELD = re.compile(r"\[\[\s*([a-z_0-9]+)\s*\]\]")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|!&])")  # & too: « &amp; » is an entity in Markdown
_MD_LINE_START = re.compile(r"\A(\s*)([-+=]|\d+[.)])")  # a list item or heading underline if first on its line
_JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def md_escape(value) -> str:
    """A value as literal Markdown text: special characters escaped, on one line."""
    if value is None:
        return ""
    text = str(value).replace("\r", " ").replace("\n", " ")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return _MD_LINE_START.sub(lambda m: m.group(1) + m.group(2)[:-1] + "\\" + m.group(2)[-1], text)


def clause_environment() -> GuardedEnvironment:
    """Jinja for clause texts: sandboxed with the Word templates' limits, strict, values escaped for Markdown."""
    return GuardedEnvironment(undefined=StrictUndefined, autoescape=False, finalize=md_escape,
                              keep_trailing_newline=True)


@dataclass(frozen=True)
class Clauses:
    """The clause texts of ``templates/clauses/``, loaded and compiled."""

    texts: dict[str, ClauseText]
    compiled: dict
    statuts: dict = dataclasses.field(default_factory=dict)  # file → TemplateStatus (``statuts.yaml``)


def load_clauses(templates_dir: Path) -> Clauses:
    """Load and compile every clause text; a missing or broken one stops the build.

    Raises:
        TemplateError: naming the file and the cause (missing, bad header, bad tag, unknown name).

    """
    folder = templates_dir / "clauses"
    env = clause_environment()
    texts, compiled = {}, {}
    for name in (*FIXED, *CLAUSES):
        path = folder / f"{name}.md"
        text, findings = read_text(path, str(path)) if path.is_file() else (None, [])
        if text is None:
            raise BuildTemplateError(f"{path}: texte de clause introuvable ou illisible")
        m = _FRONT.match(text.replace("\r\n", "\n"))
        if not m:
            raise BuildTemplateError(f"{path}: en-tête YAML (--- … ---) manquant")
        front, body = m.groups()
        clause, f = convert_text("\n" + front, ClauseText, str(path))
        bad = [x for x in findings + f if x.severity.name == "ERROR"]
        if clause is None or bad:
            first = bad[0] if bad else None
            raise BuildTemplateError(f"{first.loc if first else path}: en-tête de clause invalide"
                                     + (f" : {first.message}" if first else ""))
        try:
            ast = env.parse(body)
            unknown = meta.find_undeclared_variables(ast) - {"acte"}
            compiled[name] = env.from_string(body)
        except TemplateError as err:
            line = front.count("\n") + 4 + (getattr(err, "lineno", 1) or 1) - 1  # body starts on line n + 4
            raise BuildTemplateError(f"{path}:{line}: balise mal formée : {library_error(err)}") from err
        if unknown:
            raise BuildTemplateError(f"{path}: nom(s) inconnu(s) : {', '.join(sorted(unknown))} (seul « acte » existe)")
        if problems := unrenderable(clause_markdown(body)):
            line = front.count("\n") + 4 + problems[0].line
            raise BuildTemplateError(f"{path}:{line}: {problems[0].message}")
        texts[name] = clause
    statuts, _ = load_statuts(templates_dir)  # its findings are the check's (``pipeline.check``)
    return Clauses(texts, compiled, statuts)


def clause_markdown(body: str) -> str:
    """A clause text's Markdown as rendered, every branch kept: a tag gives nothing, a printed value a word.

    Printed values are escaped and on one line (``md_escape``): they cannot open a list or a quote.
    """
    return _JINJA.sub(lambda m: ("x" if m.group().startswith("{{") else "") + "\n" * m.group().count("\n"), body)


@dataclass(frozen=True)
class Article:
    """A numbered article of an avenant."""

    numero: int
    clause: str
    titre: str
    modifie: int | None
    texte: str
    voted: bool = False  # worded by the model's voted text (not by the engine's clause text)


def articles(act: Act, values: dict, clauses: Clauses, voted: list[VotedText] | None = None,
             included: list[str] | None = None) -> list[Article]:
    """The articles of an avenant, numbered 1..n, with the « modifier les articles » list derived.

    ``voted``: the voted texts of the models the act follows (by default those its lines cite); an
    article a voted text has keeps its voted title and wording, blanks filled. ``included``: the
    conditional articles (by default the act's own, as the rules decided).
    """
    included = act.included if included is None else included
    voted = voted if voted is not None else []
    texts = clauses.texts
    modifies = [texts[c].modifie for c in included if texts[c].modifie]
    acte = {
        **values,
        "structure": values["partie"]["nom"],
        "annexes": values["annexes_clause"],
        "articles_modifies": modified_articles(modifies),
        "motifs": motifs([texts[c].motif for c in included if texts[c].motif]),
    }
    fields = {**values.get("champs", {}), "articles_modifies": acte["articles_modifies"], "motifs": acte["motifs"]}
    out = []
    timeout = render_timeout()
    for name in ("objet", *included, "autres"):
        own = next((a for t in voted if (a := t.article(name)) is not None), None)
        if own is not None:
            body = re.sub(r"\n{3,}", "\n\n", fill(own.texte, fields, md_escape)).strip()
            out.append(Article(len(out) + 1, name, own.titre, texts[name].modifie, body, voted=True))
            continue
        template = clauses.compiled[name]
        try:
            template.environment.start(timeout)  # each clause its own deadline and loop budget
            body = template.render(acte=acte)
        except TemplateError as err:  # the sandbox's SecurityError and the render limits too
            raise BuildTemplateError(f"{texts[name].loc.file}: {library_error(err)}") from err
        except MemoryError as err:
            raise BuildTemplateError(f"{texts[name].loc.file}: mémoire épuisée pendant le rendu de la clause") from err
        except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as err:  # 1/0, range(10**9)…
            raise BuildTemplateError(f"{texts[name].loc.file}: {library_error(err)}") from err
        body = re.sub(r"\n{3,}", "\n\n", body).strip()
        out.append(Article(len(out) + 1, name, texts[name].titre or name, texts[name].modifie, body))
    return out


@dataclass(frozen=True)
class Gap:
    """An article where the act and the voted model differ (text empty: the article is missing there)."""

    clause: str
    titre: str
    modele: str
    acte: str
    numero_modele: int | None
    numero_acte: int | None


@dataclass(frozen=True)
class Conformity:
    """The act compared, as text, with the model(s) its lines cite, rendered with the act's own values."""

    modeles: tuple[str, ...]  # the model keys compared with (several: a declared merge)
    voted: bool  # at least one of them has a voted text (else: the engine's clause texts for its articles)
    gaps: tuple[Gap, ...]
    blanks: int  # declared blanks filled with the act's values

    @property
    def conforme(self) -> bool:
        """True when only the declared blanks differ."""
        return not self.gaps


def _norm(text: str) -> str:
    return " ".join(text.split())


def conformity(act: Act, values: dict, clauses: Clauses, d: Dossier) -> Conformity | None:
    """Render the model(s) the act cites with the act's values and compare them with the act, article by article.

    ``None`` for a convention, a blank model, or an avenant citing no avenant model.
    """
    if act.kind != "avenant" or act.is_model:
        return None
    modeles = d.info.modeles if d.info else {}
    cited = [modeles[k] for k in act.modeles_cites if k in modeles and modeles[k].type == "avenant"]
    if not cited:
        return None
    voted = [d.textes_modeles[m.id] for m in cited if m.id in d.textes_modeles]
    wanted: set[str] = set()
    for m in cited:
        t = d.textes_modeles.get(m.id)
        wanted |= set(model_clauses(m, t))
    # the model's articles, valued as if the act had exactly them (its cost article needs the cost values…)
    as_model = dataclasses.replace(act, decisions=[Decision(c, c in wanted, "modele", "") for c in CLAUSES],
                                   cached_values=None)
    model_values, _ = act_values(as_model, d)
    model_arts = articles(as_model, model_values, clauses, voted, [c for c in CLAUSES if c in wanted])
    act_arts = articles(act, values, clauses, model_texts_of(act, d))
    by_m = {a.clause: a for a in model_arts}
    by_a = {a.clause: a for a in act_arts}
    gaps = []
    for clause in ("objet", *CLAUSES, "autres"):
        ma, aa = by_m.get(clause), by_a.get(clause)
        if ma is None and aa is None:
            continue
        same = ma is not None and aa is not None and (_norm(ma.titre), _norm(ma.texte)) == (_norm(aa.titre),
                                                                                            _norm(aa.texte))
        if same:
            continue
        gaps.append(Gap(clause, (ma or aa).titre, ma.texte if ma else "", aa.texte if aa else "",
                        ma.numero if ma else None, aa.numero if aa else None))
    blanks = sum(len(blanks_of(a.texte)) for t in voted for a in t.articles if a.clause in by_a)
    return Conformity(tuple(m.id for m in cited), bool(voted), tuple(gaps), blanks)


def word_ops(old: str, new: str) -> list[tuple[str, str]]:
    """The words of ``old`` and ``new`` merged as runs: ``("=", kept)``, ``("-", removed)``, ``("+", added)``."""
    a, b = old.split(), new.split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(("-", " ".join(a[i1:i2])))
        if j2 > j1:
            out.append(("+", " ".join(b[j1:j2])))
    return out


def word_diff(old: str, new: str) -> str:
    """The words of ``old`` and ``new`` merged: removed words as ~~struck~~, added ones in **bold**."""
    marks = {"=": "{}", "-": "~~{}~~", "+": "**{}**"}
    return " ".join(marks[op].format(text) for op, text in word_ops(old, new))


def articles_markdown(arts: list[Article]) -> str:
    """The articles as one Markdown text (headings bold, as in the seed)."""
    return "\n\n".join(f"**Article {a.numero} : {md_escape(a.titre)}**\n\n{a.texte}" for a in arts)


# ---------------------------------------------------------------------------
# annex sheets


def _sections(body: str) -> list[tuple[str, str]]:
    return [(heading, text) for heading, text, _ in sheet_sections(body)]


def _fill(text: str, values: dict[str, str]) -> str:
    def sub(m):
        name = m.group(1)
        value = values.get(name)
        if value is None:
            return m.group(0)
        return value if name == "versements" else md_escape(value)

    return _FIELD.sub(sub, text)


def _marked_rows(act: Act, sheet_values: dict, sheet) -> list[tuple[str, str, bool]]:
    """The rows of an annex sheet in its order: heading, Markdown content (fields filled), whether the act owns it.

    The act's own rows are the rows made for the act (action, duration, cost, territory, imputation, the
    convention's instalments and bilan, ``[[texte_fiche]]``) and every row of the dispositif's text with a
    ``[[field]]`` or that a valorisation changed (``_without_phase_instalments``). The other rows, the
    same for every act that joins the dispositif, are its shared description.
    """
    body = sheet.dispositif.corps if sheet.dispositif else ""
    sections = _sections(body)
    heads = {h.lower() for h, _ in sections}
    rows: list[tuple[str, str, bool]] = []  # heading, text, whether the row is the act's own
    if act.kind == "convention" and not act.is_model:
        descriptions = [ligne.description for ligne in sheet.lignes if ligne.description]
        if descriptions:
            rows.append(("Action", "\n".join(f"- {md_escape(x)}" for x in descriptions), True))
    if "durée" not in heads:
        rows.append(("Durée", "[[duree]]", True))
    if "coût" not in heads:
        rows.append(("Coût", "[[cout]]", True))
    rows += [(h, t, bool(_FIELD.search(h) or _FIELD.search(t))) for h, t in sections]
    if not any("territoire" in h for h in heads):
        rows.append(("Territoire d'intervention", "[[territoire]]", True))
    if "[[chapitre]]" not in body:
        rows.append(("Imputation budgétaire", "La participation financière est imputée sur le chapitre "
                                              "« [[chapitre]] » du budget du Département du Pas-de-Calais.", True))
    if not sections:
        rows.append(("Description du dispositif", "[[texte_fiche]]", True))
    if act.kind == "convention" and not act.is_model:  # what articles 5 and 9 of the convention type refer to
        if sheet_values.get(CONVENTION_ROWS):
            rows.append(("Modalités de versement", "[[versements]]", True))
        if "bilan" in sheet_values:
            rows.append(("Bilan", "[[bilan]]", True))
    if sheet_values.get(UNFUNDED):
        cut = [(h, _without_phase_instalments(t, h.lower().startswith("modalités de versement")), own)
               for h, t, own in rows]
        rows = [(h, new, own or new != old) for (h, new, own), (_, old, _) in zip(cut, rows, strict=True)]
    return [(h, _fill(t, sheet_values), own) for h, t, own in rows]


def sheet_parts(act: Act, sheet_values: dict, sheet) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """An annex sheet's two tables: the act's « conditions particulières », then the shared description.

    The description holds the rows of the dispositif's text that no act changes (no ``[[field]]``, not cut
    for a valorisation): the same for every act that joins the dispositif. Each table keeps the sheet's order.
    Returns (conditions, description), as (heading, Markdown content) rows, fields filled.
    """
    rows = _marked_rows(act, sheet_values, sheet)
    return [(h, t) for h, t, own in rows if own], [(h, t) for h, t, own in rows if not own]


def sheet_rows(act: Act, sheet_values: dict, sheet) -> list[tuple[str, str]]:
    """Every row of an annex sheet, both tables together, in the sheet's order: heading, Markdown content."""
    return [(h, t) for h, t, _ in _marked_rows(act, sheet_values, sheet)]


#: What a sheet's « Modalités de versement » says when the phase funds nothing there.
NO_INSTALMENT = "Aucun versement au titre de cette phase : valorisation, sans financement supplémentaire."

#: A word naming an instalment (« Versement du solde annuel… », « un acompte… », « une avance… »).
_INSTALMENT_WORD = re.compile(r"\b(?:versements?|avances?|acomptes?|soldes?|paiements?)\b", re.IGNORECASE)
#: The convention's own instalments (registry), which a valorisation leaves as they are.
_CONVENTION_INSTALMENT = re.compile(r"\[\[\s*versement_convention_\d+\s*\]\]")


def _without_phase_instalments(text: str, instalments_row: bool = False) -> str:
    """``text`` without what states an instalment of the phase; said first if anything went.

    Anywhere: a line (list item, paragraph) with a field of the phase's instalments (``[[versement_1]]``,
    ``[[versements]]``). In the « Modalités de versement » row, also every list item naming an instalment
    (« Versement du solde annuel… », « un acompte… »), except in a list stating the convention's own
    instalments (``[[versement_convention_N]]``). Then a sentence announcing only what went (« … comme
    suit : »).
    """
    lines = text.split("\n")
    drop = {i for i, line in enumerate(lines) if PHASE_INSTALMENTS.search(line)}
    if instalments_row:
        lists: list[list[list[int]]] = []  # each list: its items, each item its lines (continuations indented)
        for i, line in enumerate(lines):
            if line.startswith(("- ", "* ")):
                if not (lists and lists[-1][-1][-1] == i - 1):
                    lists.append([])
                lists[-1].append([i])
            elif line.startswith(" ") and line.strip() and lists and lists[-1][-1][-1] == i - 1:
                lists[-1][-1].append(i)
        for items in lists:
            if any(_CONVENTION_INSTALMENT.search(lines[i]) for item in items for i in item):
                continue  # the convention's own schedule: not the phase's
            for item in items:
                if any(_INSTALMENT_WORD.search(lines[i]) or i in drop for i in item):
                    drop |= set(item)
    for i in range(len(lines) - 1, -1, -1):  # « … s'organisent comme suit : » announcing only what went
        after = next((j for j in range(i + 1, len(lines)) if lines[j].strip()), None)
        if drop and lines[i].rstrip().endswith(":") and (after is None or after in drop):
            drop.add(i)
    if not drop:
        return text
    kept = "\n".join(line for i, line in enumerate(lines) if i not in drop)
    return (NO_INSTALMENT + "\n\n" + re.sub(r"\n{3,}", "\n\n", kept).strip()).strip()


# ---------------------------------------------------------------------------
# the context of one act


def act_context(act: Act, d: Dossier, clauses: Clauses, annexe_numero: int | None = None) -> tuple[dict, list]:
    """The ``acte`` context of an avenant or convention template, and the blanks left in it."""
    values, blanks = act_values(act, d)
    ctx = dict(values)
    visas = list(values["visas"])
    if act.kind == "avenant":
        own = ([d.textes_modeles[act.modele.id]] if act.is_model and act.modele and act.modele.id in d.textes_modeles
               else model_texts_of(act, d))
        arts = articles(act, values, clauses, own)
        ctx["conformite"] = conformity(act, values, clauses, d)
        extra = [clauses.texts[a.clause].visa for a in arts if clauses.texts[a.clause].visa]
        visas = extra + visas
        ctx["articles"] = MarkdownText(articles_markdown(arts))
        ctx["liste_articles"] = [{"numero": a.numero, "titre": a.titre, "clause": a.clause} for a in arts]
    ctx["visas"] = visas
    ctx["annexes"] = []
    for s, sheet in zip(values["annexes"], act.sheets, strict=True):
        own, shared = sheet_parts(act, s["values"], sheet)
        ctx["annexes"].append({"numero": s["numero"], "titre": s["titre"], "table": SheetTable(tuple(own)),
                               "fiche": SheetTable(tuple(shared), f"{FICHE_MARK}{s['numero']}") if shared else None})
    ctx["nom_majuscules"] = act.nom.upper()
    ctx["annexe_modele"] = annexe_numero
    ctx["modele_titre"] = (act.modele.titre or act.modele.id) if act.is_model else ""
    parts = reconstructed(act, d, clauses.statuts)
    ctx["reconstitutions"] = [{"fichier": f, "reference": st.reference if st else "",
                               "parties": st.parties if st else "", "declare": st is not None} for f, st in parts]
    ctx["projet"] = bool(blanks) or bool(parts)
    ctx["manquants"] = sorted({b.label for b in blanks}) + [
        f"texte adopté de {f} (reconstitution{' : ' + st.parties if st and st.parties else ''})" for f, st in parts]
    return ctx, blanks


def act_path(act: Act, folder: str | None = None) -> str:
    """Where the filled act goes in the bundle: ``actes/<structure>/<avenant|convention>-<clé>``."""
    folder = folder or slugify(act.nom, reserved_suffix="structure")
    if act.kind == "convention":
        return f"actes/{folder}/convention-nouvelle"
    return f"actes/{folder}/avenant-{slugify(act.convention_key)}"


def act_paths(acts: list[Act]) -> list[str]:
    """Where each act goes (``act_path``), never two acts in one file.

    File names are made from names and keys: two structures whose names give the same folder
    (« Alpha ! », « alpha ? ») each get their registry key appended, and two conventions whose keys
    give the same file name (« a.b », « A_b ») a number.
    """
    keys: dict[str, set[str]] = {}
    for act in acts:
        keys.setdefault(slugify(act.nom, reserved_suffix="structure"), set()).add(act.structure_key)
    taken: set[str] = set()
    out = []
    for act in acts:
        folder = slugify(act.nom, reserved_suffix="structure")
        if len(keys[folder]) > 1:
            folder = f"{folder}-{slugify(act.structure_key)}"
        path = base = act_path(act, folder)
        n = 1
        while path in taken:
            n += 1
            path = f"{base}-{n}"
        taken.add(path)
        out.append(path)
    return out


# ---------------------------------------------------------------------------
# review sheet for lawyers


def _where(loc, root: str) -> str:
    """A location without machine-specific prefixes: relative to the dossier, or to the engine."""
    if loc is None:
        return ""
    file = _relative(loc.file, root)
    return f"{file}:{loc.line}" if loc.line else file


@functools.lru_cache(maxsize=4096)
def _relative(file: str, root: str) -> str:
    engine = str(package_dir())
    file = os.path.abspath(file)
    for base in (os.path.abspath(root), engine):
        rel = os.path.relpath(file, base)
        if not rel.startswith(".."):
            return rel
    return file


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def review_sheet(act: Act, ctx: dict, blanks: list, modele_numbers: dict[str, int], clauses: Clauses,
                 root: str = ".", path: str | None = None) -> str:
    """A Markdown review sheet: every article with the rule that put it there, what was left out, and why.

    Locations are given relative to ``root``, the dossier folder; ``path`` is the act's place in the bundle.
    """
    lines = [f"# Revue — {act.label}", ""]
    doc = path or act_path(act)
    lines.append(f"- Document : `{doc}.docx`")
    if act.kind == "avenant":
        cited = [f"{c} (annexe {modele_numbers[c]})" if c in modele_numbers else c for c in act.modeles_cites]
        lines.append(f"- Modèle(s) cité(s) en annexe 4 : {', '.join(cited) or 'aucun'}")
        conf = ctx.get("conformite")
        if conf is not None:
            names = " + ".join(conf.modeles)
            source = "texte voté" if conf.voted else "articles déclarés du modèle, textes de clauses du moteur"
            if conf.conforme:
                lines.append(f"- Conformité au modèle {names} : conforme — comparé mot à mot ({source}) : seuls les "
                             f"{conf.blanks} blanc(s) déclaré(s) diffèrent")
            else:
                lines.append(f"- Conformité au modèle {names} : **non conforme** — {len(conf.gaps)} article(s) "
                             f"diffèrent du modèle ({source}) : voir « Écarts avec le modèle »")
    p = ctx["partie"]
    if p.get("article_declare"):
        lines.append(f"- Désignation dans les phrases : « {p['designation']} » (article déclaré au registre)")
    else:
        lines.append(f"- Désignation dans les phrases : « {p['designation']} » — article non déclaré au registre "
                     "(`article: le|la|l'|les|aucun`) : le nom seul, sans article deviné")
    lines.append(f"- Lignes : {', '.join(ligne.id or '?' for _, _, ligne in act.lignes)}")
    lines.append("- Articles numérotés de 1 à " + str(len(ctx.get("liste_articles", ()))) if act.kind == "avenant"
                 else "- Articles : ceux de la convention type (modèle Word)")
    rebuilt = ctx.get("reconstitutions", [])
    if blanks:
        lines.append(f"- Statut : **PROJET** — {len(blanks)} valeur(s) à compléter :")
        lines += [f"  - {b.label} ({_where(b.loc, root)})" for b in blanks]
    elif rebuilt:
        lines.append("- Statut : **PROJET** — aucun blanc, mais des textes reconstitués (ci-dessous)")
    else:
        lines.append("- Statut : complet (aucun blanc, textes adoptés)")
    if rebuilt:
        lines.append("- Textes reconstitués, à remplacer par le texte adopté (`build --final` les refuse) :")
        for r in rebuilt:
            detail = "; ".join(x for x in (r["parties"] and f"parties : {r['parties']}",
                                           r["reference"] and f"d'après : {r['reference']}") if x)
            lines.append(f"  - `{r['fichier']}`" + (f" — {detail}" if detail else "")
                         + ("" if r["declare"] else " — statut non déclaré dans "
                            + ("son en-tête" if r["fichier"].startswith("clauses/") else "statuts.yaml")))
    lines.append("")
    if act.kind == "avenant":
        lines += ["## Articles", "", "| Article | Titre | Modifie | Règle | Pourquoi | Données lues |",
                  "|---|---|---|---|---|---|"]
        decisions = {x.clause: x for x in act.decisions}
        for a in ctx["liste_articles"]:
            clause = a["clause"]
            x = decisions.get(clause)
            modifie = clauses.texts[clause].modifie
            if x is None:
                rule, why, data = "toujours présent", "article fixe de tout avenant", ""
            else:
                rule, why = x.rule, x.reason
                data = "; ".join(f"{dd.label} : {dd.value}" + (f" ({_where(dd.loc, root)})" if dd.loc else "")
                                 for dd in x.data)
            lines.append(f"| {a['numero']} | {_cell(a['titre'])} | {modifie or '—'} | {rule} | {_cell(why)} | "
                         f"{_cell(data)} |")
        left = [x for x in act.decisions if not x.included]
        lines += ["", "## Articles laissés de côté", ""]
        if not left:
            lines.append("Aucun : toutes les modifications possibles sont présentes.")
        for x in left:
            lines.append(f"- {CLAUSE_LABELS[x.clause]} — règle `{x.rule}` : {x.reason}")
        undecided = [x for x in act.decisions if x.undecided]
        if undecided:
            lines += ["", "## À trancher", ""]
            lines += [f"- {CLAUSE_LABELS[x.clause]} : {x.reason} ; déclarez `clauses: {{{x.clause}: oui|non}}` "
                      f"dans la convention du registre" for x in undecided]
    conf = ctx.get("conformite")
    if conf is not None and conf.gaps:
        lines += ["", "## Écarts avec le modèle", "",
                  f"Le modèle {' + '.join(conf.modeles)}, rempli avec les valeurs de cet acte, comparé à l'acte "
                  "(~~barré~~ : texte du modèle absent de l'acte ; **gras** : texte de l'acte absent du modèle).", ""]
        for g in conf.gaps:
            where = (f"article {g.numero_acte} de l'acte" if g.numero_acte else "absent de l'acte") + ", " + (
                f"article {g.numero_modele} du modèle" if g.numero_modele else "absent du modèle")
            lines += [f"### {g.titre} ({where})", ""]
            if g.modele and g.acte:
                lines += [word_diff(g.modele, g.acte), ""]
            elif g.modele:
                lines += ["Le modèle dit :", "", *[f"> {x}" for x in g.modele.splitlines()], ""]
            else:
                lines += ["L'acte ajoute :", "", *[f"> {x}" for x in g.acte.splitlines()], ""]
    lines += ["", "## Valeurs propres à la structure", "", "| Valeur | Texte |", "|---|---|"]
    p = ctx["partie"]
    for label, value in (("Structure", p["raison_sociale"]), ("Forme juridique", p["forme_juridique"] or "—"),
                         ("Siège", p["siege"]), ("SIRET", p["siret"]), ("Représentant", p["representant"]),
                         ("Qualité", p["qualite"]), ("Habilitation", p["habilitation"])):
        lines.append(f"| {label} | {_cell(value)} |")
    if act.kind == "avenant":
        lines.append(f"| Convention | {_cell(ctx['numero_convention'])} |")
        if "cout" in act.included:
            for t in ctx["cout"]["tranches"]:
                lines.append(f"| Coût du {_cell(t['debut'])} au {_cell(t['fin'])} | {_cell(t['montant'])} |")
    for s in ctx["annexes"]:
        lines += ["", f"## Annexe {s['numero']} : « {s['titre']} »", "", "| Champ | Valeur |", "|---|---|"]
        for h, text in s["table"].rows:
            if h.lower().startswith(("durée", "coût", "territoire", "modalités de versement", "imputation")):
                lines.append(f"| {_cell(h)} | {_cell(text)} |")
    return "\n".join(lines).rstrip() + "\n"


def explain(checked: Checked, structure: str, templates_dir: Path | None = None) -> list[str]:
    """The review sheets of one structure's acts (by registry key or name, case-insensitive) in a checked dossier."""
    clauses = load_clauses(templates_dir or engine_templates())
    d = checked.dossier
    wanted = structure.casefold()
    numbers = {a.modele.id: a.numero for a in annexes(d) if a.kind == "modele"}
    out = []
    for act, path in zip(checked.acts, act_paths(checked.acts), strict=True):
        if wanted not in (act.structure_key.casefold(), act.nom.casefold()):
            continue
        ctx, blanks = act_context(act, d, clauses)
        out.append(review_sheet(act, ctx, blanks, numbers, clauses, d.root, path))
    return out
