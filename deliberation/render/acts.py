"""Avenants and conventions as Word documents, with their annex sheets and review sheets.

The frame of each act (parties, visas, signatures) is a Word template (``avenant.docx``,
``convention.docx``); the articles of an avenant are the Markdown fragments of
``templates/clauses/``, rendered in a sandboxed Jinja environment where every value is
Markdown-escaped, then numbered in order. Annex sheets are the dispositif sheets of ``annexes/``
rendered as the seed's two-column table, per-structure fields filled.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

from jinja2 import StrictUndefined, TemplateError, meta

from deliberation.acts import (
    CLAUSE_LABELS,
    Act,
    act_values,
    modified_articles,
    motifs,
)
from deliberation.findings import TemplateError as BuildTemplateError
from deliberation.load.yaml import convert_text, read_text
from deliberation.messages import library_error
from deliberation.model import CLAUSES, ClauseText, Dossier
from deliberation.outcome import Checked
from deliberation.plan import annexes, slugify
from deliberation.render.docx import GuardedEnvironment, render_timeout
from deliberation.render.markdown import MarkdownText, SheetTable
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
    return Clauses(texts, compiled)


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


def articles(act: Act, values: dict, clauses: Clauses) -> list[Article]:
    """The articles of an avenant, numbered 1..n, with the « modifier les articles » list derived."""
    included = act.included
    texts = clauses.texts
    modifies = [texts[c].modifie for c in included if texts[c].modifie]
    acte = {
        **values,
        "structure": values["partie"]["nom"],
        "annexes": values["annexes_clause"],
        "articles_modifies": modified_articles(modifies),
        "motifs": motifs([texts[c].motif for c in included if texts[c].motif]),
    }
    out = []
    timeout = render_timeout()
    for name in ("objet", *included, "autres"):
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


def sheet_rows(act: Act, sheet_values: dict, sheet) -> list[tuple[str, str]]:
    """The two-column rows of an annex sheet: heading, Markdown content (fields filled)."""
    body = sheet.dispositif.corps if sheet.dispositif else ""
    sections = _sections(body)
    heads = {h.lower() for h, _ in sections}
    rows: list[tuple[str, str]] = []
    if act.kind == "convention" and not act.is_model:
        descriptions = [ligne.description for ligne in sheet.lignes if ligne.description]
        if descriptions:
            rows.append(("Action", "\n".join(f"- {md_escape(x)}" for x in descriptions)))
    if "durée" not in heads:
        rows.append(("Durée", "[[duree]]"))
    if "coût" not in heads:
        rows.append(("Coût", "[[cout]]"))
    rows += sections
    if not any("territoire" in h for h in heads):
        rows.append(("Territoire d'intervention", "[[territoire]]"))
    if "[[chapitre]]" not in body:
        rows.append(("Imputation budgétaire", "La participation financière est imputée sur le chapitre "
                                              "« [[chapitre]] » du budget du Département du Pas-de-Calais."))
    if not sections:
        rows.append(("Description du dispositif", "[[texte_fiche]]"))
    return [(h, _fill(t, sheet_values)) for h, t in rows]


# ---------------------------------------------------------------------------
# the context of one act


def act_context(act: Act, d: Dossier, clauses: Clauses, annexe_numero: int | None = None) -> tuple[dict, list]:
    """The ``acte`` context of an avenant or convention template, and the blanks left in it."""
    values, blanks = act_values(act, d)
    ctx = dict(values)
    visas = list(values["visas"])
    if act.kind == "avenant":
        arts = articles(act, values, clauses)
        extra = [clauses.texts[a.clause].visa for a in arts if clauses.texts[a.clause].visa]
        visas = extra + visas
        ctx["articles"] = MarkdownText(articles_markdown(arts))
        ctx["liste_articles"] = [{"numero": a.numero, "titre": a.titre, "clause": a.clause} for a in arts]
    ctx["visas"] = visas
    ctx["annexes"] = [
        {
            "numero": s["numero"],
            "titre": s["titre"],
            "table": SheetTable(tuple(sheet_rows(act, s["values"], sheet))),
        }
        for s, sheet in zip(values["annexes"], act.sheets, strict=True)
    ]
    ctx["nom_majuscules"] = act.nom.upper()
    ctx["annexe_modele"] = annexe_numero
    ctx["modele_titre"] = (act.modele.titre or act.modele.id) if act.is_model else ""
    ctx["projet"] = bool(blanks)
    ctx["manquants"] = sorted({b.label for b in blanks})
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


def _divergences(act: Act) -> list[str]:
    m = act.modele
    if not m.clauses:
        return []
    out = [f"le modèle prévoit {CLAUSE_LABELS[c]}" for c in m.clauses if c not in act.included]
    out += [f"le modèle ne prévoit pas {CLAUSE_LABELS[c]}" for c in act.included if c not in m.clauses]
    return out


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
        if act.modele is not None and act.modele.type == "avenant":
            div = _divergences(act)
            lines.append(f"- Conformité au modèle {act.modele.id} : "
                         + ("conforme" if not div else "**non conforme** — " + " ; ".join(div)))
    lines.append(f"- Lignes : {', '.join(ligne.id or '?' for _, _, ligne in act.lignes)}")
    lines.append("- Articles numérotés de 1 à " + str(len(ctx.get("liste_articles", ()))) if act.kind == "avenant"
                 else "- Articles : ceux de la convention type (modèle Word)")
    if blanks:
        lines.append(f"- Statut : **PROJET** — {len(blanks)} valeur(s) à compléter :")
        lines += [f"  - {b.label} ({_where(b.loc, root)})" for b in blanks]
    else:
        lines.append("- Statut : complet (aucun blanc)")
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
