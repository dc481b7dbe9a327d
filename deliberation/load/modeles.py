"""Voted model texts (``modeles.<clé>.texte``): the avenant model as the délibération votes it.

A model text is Markdown. Each article starts with a level-2 heading giving its voted title and,
in braces, which article of an avenant it is::

    ## Coût de l'opération {cout}

    L'article 4 de la convention [[numero_convention]] est supprimé et remplacé par …

The names in braces are ``objet`` (objet de l'avenant), the conditional articles
(``objet_convention``, ``duree``, ``cout``, ``obligations``, ``annexes``) and ``autres``. The
engine numbers the articles. ``[[name]]`` marks a blank the lawyer declared (``MODEL_FIELDS``):
every other word is the voted text, which each act signed under the model reproduces. The text is
data, never a template: nothing but the declared blanks is substituted.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from deliberation.findings import Finding, Loc, error
from deliberation.load.yaml import convert_text, load_record, read_text
from deliberation.model import (
    ARTICLES,
    MODEL_FIELDS,
    ClauseText,
    Modele,
    Statuts,
    TemplateStatus,
    VotedArticle,
    VotedText,
)
from deliberation.schema import control_message
from deliberation.text import unrenderable

_HEADING = re.compile(r"^##\s+(?P<titre>.*?)\s*(?:\{\s*(?P<clause>[^}]*?)\s*\})?\s*$")
_FIELD = re.compile(r"\[\[\s*([^\]]*?)\s*\]\]")
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def load_model_texts(root: Path, modeles: dict[str, Modele], within: str) -> tuple[dict[str, VotedText],
                                                                                  list[Finding]]:
    """Read the voted text of every model that declares one; each problem is a located finding."""
    out: dict[str, VotedText] = {}
    findings: list[Finding] = []
    for key, m in modeles.items():
        if not m.texte:
            continue
        where = m.at("texte")
        rel = Path(m.texte)
        if rel.is_absolute() or ".." in rel.parts:
            findings.append(error("modele.texte", f"modèle {key} : « {m.texte} » doit être un chemin dans le "
                                  "dossier (par exemple modeles/avenant-10.md)", where))
            continue
        path = root / rel
        if not os.path.lexists(path):
            findings.append(error("modele.texte", f"modèle {key} : texte voté introuvable : {m.texte}", where))
            continue
        text, f = read_text(path, str(path), within)
        findings += f
        if text is None:
            continue
        voted, f = parse_model_text(key, text, str(path))
        findings += f
        if voted is not None:
            out[key] = voted
    return out, findings


def parse_model_text(key: str, text: str, file: str) -> tuple[VotedText | None, list[Finding]]:
    """Parse one voted model text (see the module's docstring); ``None`` if it has no article."""
    findings: list[Finding] = []
    text = _COMMENT.sub(lambda m: "\n" * m.group().count("\n"), text.replace("\r\n", "\n"))
    lines = text.split("\n")
    heads: list[tuple[int, str, str]] = []  # (line index, title, clause)
    for i, line in enumerate(lines):
        if (why := control_message(line)) is not None:
            findings.append(error("texte.controle", why, Loc(file, i + 1)))
        if not line.startswith("## "):
            continue
        m = _HEADING.match(line)
        titre, clause = (m.group("titre"), m.group("clause")) if m else (line[3:].strip(), None)
        if clause is None:
            findings.append(error("modele.texte_article", f"modèle {key} : l'article « {titre} » ne dit pas quel "
                                  "article d'avenant il est : ajoutez en fin de titre {" + "|".join(ARTICLES)
                                  + "}", Loc(file, i + 1)))
            continue
        if clause not in ARTICLES:
            findings.append(error("modele.texte_article", f"modèle {key} : « {{{clause}}} » n'est pas un article "
                                  f"d'avenant ({', '.join(ARTICLES)})", Loc(file, i + 1)))
            continue
        if any(c == clause for _, _, c in heads):
            findings.append(error("modele.texte_article", f"modèle {key} : l'article {{{clause}}} figure deux "
                                  "fois dans le texte voté", Loc(file, i + 1)))
            continue
        heads.append((i, titre, clause))
    if not heads:
        findings.append(error("modele.texte_article", f"modèle {key} : aucun article (« ## Titre {{clause}} ») "
                              "dans le texte voté", Loc(file, 1)))
        return None, findings
    before = "\n".join(lines[: heads[0][0]]).strip()
    if before and not before.startswith("# "):
        findings.append(error("modele.texte_article", f"modèle {key} : texte avant le premier article (seul un "
                              "titre « # … » est admis)", Loc(file, 1)))
    order = [c for _, _, c in heads]
    if [c for c in ARTICLES if c in order] != order:
        findings.append(error("modele.texte_article", f"modèle {key} : les articles doivent suivre l'ordre "
                              f"{', '.join(ARTICLES)} (le moteur les numérote)", Loc(file, heads[0][0] + 1)))
    articles = []
    for n, (i, titre, clause) in enumerate(heads):
        end = heads[n + 1][0] if n + 1 < len(heads) else len(lines)
        body = "\n".join(lines[i + 1: end])
        for j, line in enumerate(lines[i + 1: end], i + 2):
            for name in _FIELD.findall(line):
                if name not in MODEL_FIELDS:
                    findings.append(error("modele.champ_inconnu", f"modèle {key} : blanc « [[{name}]] » inconnu ; "
                                          f"blancs possibles : {', '.join(MODEL_FIELDS)}", Loc(file, j)))
        for problem in unrenderable(body):
            findings.append(error(problem.code, problem.message, Loc(file, i + 2 + problem.line)))
        body = body.strip("\n")
        articles.append(VotedArticle(clause, titre, body.strip(), Loc(file, i + 1)))
    return VotedText(key, tuple(articles), Loc(file, 1)), findings


def fill(text: str, values: dict[str, str], escape=lambda s: s) -> str:
    """``text`` with each ``[[blank]]`` replaced by its value (escaped); unknown blanks are left as they are."""
    def sub(m):
        value = values.get(m.group(1))
        return m.group(0) if value is None else escape(value)

    return _FIELD.sub(sub, text)


def blanks_of(text: str) -> list[str]:
    """The declared blanks a voted text uses, in order."""
    return _FIELD.findall(text)


#: The file of a templates folder that gives each Word template's status (adopted text or reconstruction).
STATUTS_FILE = "statuts.yaml"

_CLAUSE_FRONT = re.compile(r"\A---\n(.*?)\n---\n?", re.S)


def load_statuts(templates: Path) -> tuple[dict[str, TemplateStatus], list[Finding]]:
    """The status of each Word template and clause text of ``templates``: adopted text or reconstruction.

    Keys: the Word template's file name (« convention.docx »), declared in ``statuts.yaml``, and the
    clause text's path (« clauses/cout.md »), declared in its own header (``statut``, ``reference``,
    ``parties``): the status travels with the text that a lawyer replaces. A template nothing declares
    is absent, hence a reconstruction. Findings are those of ``statuts.yaml``; a clause header that
    does not read declares nothing here (the build stops on it, naming the file).
    """
    out: dict[str, TemplateStatus] = {}
    findings: list[Finding] = []
    path = templates / STATUTS_FILE
    if os.path.lexists(path):
        statuts, findings = load_record(path, Statuts)
        if statuts is not None:
            out.update(statuts.modeles)
    for name in ARTICLES:
        clause = templates / "clauses" / f"{name}.md"
        text, _ = read_text(clause, str(clause)) if clause.is_file() else (None, [])
        m = _CLAUSE_FRONT.match(text.replace("\r\n", "\n")) if text is not None else None
        if not m:
            continue
        header, problems = convert_text("\n" + m.group(1), ClauseText, str(clause))
        if header is None or header.statut is None or any(f.severity.name == "ERROR" for f in problems):
            continue
        out[f"clauses/{name}.md"] = TemplateStatus(id=name, statut=header.statut, reference=header.reference,
                                                   parties=header.parties, loc=header.at("statut"))
    return out, findings
