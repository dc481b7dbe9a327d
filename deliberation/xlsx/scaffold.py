"""A new phase folder from the Mission Budget's workbooks (``deliberation init``): the YAML files, as text.

The annexe 4 workbook gives the thématiques and opérations (their numbers), the budget code of each
opération and every ligne; its « Contrôle budgétaire » sheet, or a budget-situation workbook
(``--situation``, which wins), gives the budget lines (imputation, libellé, AE, disponible) of the
codes the lignes use. The registry is copied from a previous phase (``--registre``, comments kept);
structures and conventions the lignes name that it lacks are added by name only. Every value the
workbooks do not carry is written ``à compléter`` (``schema.BLANK``), which ``check`` reports at its
line (``schema.a_completer``): nothing is invented. The workbooks are read by ``reading``, as for
``import-xlsx``; this module only turns the tables into files, and writes nothing.

Inside a programme (issue 22) the registry and the disponible are the ledger's (``Programme``): the
new phase's ``structures.yaml`` lists only the structures the programme does not know, a known
structure's only convention is its lines' ``convention``, each budget line starts from what the last
phase left, and a situation that says otherwise is an ``ajustement`` whose ``motif`` is to complete.
"""

from __future__ import annotations

import io
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from deliberation.findings import Finding, Loc, Severity, error
from deliberation.fmt import date_short, number, plain
from deliberation.messages import library_error
from deliberation.model import NOUVELLE, TERRITOIRES
from deliberation.schema import BLANK
from deliberation.xlsx.layout import normalise
from deliberation.xlsx.reading import (
    ANNEXE4,
    BUDGET,
    BUDGET_FIELDS,
    Table,
    Value,
    cell_loc,
    cell_text,
    convert,
    rt_yaml,
    typed_row,
)

#: The fields of a ligne, in the order the fixtures write them.
LIGNE_FIELDS = ("id", "territoire", "structure", "convention", "nature", "etp", "etp_valorises", "volume",
                "periode", "montant", "document", "description")
#: The ligne fields a ligne must have (``model.Ligne``): written « à compléter » when the workbook lacks them.
LIGNE_REQUIRED = ("territoire", "structure", "convention", "nature", "montant", "document", "description")


@dataclass
class Row:
    """One ligne of the annexe 4, typed, and where it was read (« annexe-4.xlsx!Annexe 4, ligne 2 »)."""

    values: dict[str, object]
    where: str


@dataclass
class Scaffold:
    """What the workbooks give: thématiques → opérations → lignes, budget lines, structures; and findings."""

    findings: list[Finding] = field(default_factory=list)
    thematiques: dict[int, dict[int, list[Row]]] = field(default_factory=dict)
    budget_codes: dict[tuple[int, int], tuple[str, str]] = field(default_factory=dict)  # opération → (code, cell)
    budget: dict[str, dict] = field(default_factory=dict)  # code → {field: value, "_from": where}
    budget_order: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # structure key → name read in the workbook
    sheet: dict[str, dict] = field(default_factory=dict)  # code → what the annexe's budget sheet gives
    situation: dict[str, dict] = field(default_factory=dict)  # code → what ``--situation`` gives

    @property
    def failed(self) -> bool:
        """True when an error stops the creation."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def lignes(self) -> list[Row]:
        """Every ligne, in thématique and opération order."""
        return [r for t in sorted(self.thematiques) for o in sorted(self.thematiques[t])
                for r in self.thematiques[t][o]]


def _short(where: str) -> str:
    """« chemin/annexe-4.xlsx!Annexe 4!C2 » → « annexe-4.xlsx!Annexe 4, ligne 2 »."""
    book, _, rest = where.partition("!")
    sheet, _, ref = rest.rpartition("!")
    row = re.sub(r"^[A-Z]+", "", ref)
    return f"{os.path.basename(book)}!{sheet}, ligne {row}" if row else f"{os.path.basename(book)}!{rest}"


def collect(annexe: list[Table], situation: list[Table]) -> Scaffold:
    """Turn the tables read from the annexe 4 workbook and the budget situation into a scaffold.

    Args:
        annexe: the tables of the ``--depuis`` workbook (its annexe 4 sheets and its budget sheet, if any).
        situation: the tables of the ``--situation`` workbook (its budget sheets), or none.

    """
    out = Scaffold()
    seen: dict[str, str] = {}
    for table in annexe:
        if table.kind == ANNEXE4 and table.usable:
            for _, values in table.rows:
                _annexe4_row(out, table, values, seen)
    used = list(dict.fromkeys(code for code, _ in out.budget_codes.values()))
    for tables, only_used in ((annexe, False), (situation, True)):
        seen_codes: dict[str, str] = {}
        for table in tables:
            if table.kind == BUDGET and table.usable:
                for _, values in table.rows:
                    _budget_row(out, values, seen_codes, used if only_used else None)
    for code in used:
        if code not in out.budget:
            out.budget[code] = {}
            out.budget_order.append(code)
    return out


def _annexe4_row(out: Scaffold, table: Table, values: dict[str, Value], seen: dict[str, str]) -> None:
    if "id" not in values:
        amount = values.get("montant")
        if amount is not None and not amount.formula:
            out.findings.append(error("xlsx.ligne_sans_id", "ligne sans identifiant (colonne « Ligne ») : "
                                      "impossible de la créer", cell_loc(amount.where)))
        return
    typed = typed_row(values, out.findings)
    lid, at = cell_text(values["id"].raw), values["id"].where
    if lid in seen:
        out.findings.append(error("xlsx.ligne_doublon", f"ligne « {lid} » en double dans le classeur "
                                  f"(déjà en {seen[lid]})", cell_loc(at)))
        return
    seen[lid] = at
    if typed is None:
        return
    if table.thematique is not None:
        if "thematique" in typed and typed["thematique"] != table.thematique:
            out.findings.append(error("xlsx.thematique", f"thématique {typed['thematique']} dans la feuille de la "
                                      f"thématique {table.thematique}", cell_loc(values["thematique"].where)))
            return
        typed["thematique"] = table.thematique
    t, o = typed.get("thematique"), typed.get("operation")
    if t is None or o is None:
        missing = " et ".join(w for w, v in (("thématique", t), ("opération", o)) if v is None)
        out.findings.append(error("init.sans_operation", f"ligne « {lid} » sans {missing} : impossible de la "
                                  "ranger (colonnes « Thématique » et « Opération », ou une feuille par thématique)",
                                  cell_loc(at)))
        return
    if t < 1 or o < 1:
        out.findings.append(error("xlsx.numero", f"ligne « {lid} » : numéro {t}.{o} : thématique et opération "
                                  "sont numérotées à partir de 1", cell_loc(at)))
        return
    code = typed.pop("budget", None)
    if code is not None:
        first = out.budget_codes.setdefault((t, o), (code, values["budget"].where))
        if first[0] != code:
            out.findings.append(error("xlsx.budget_divergent", f"opération {t}.{o} : code opération « {code} » ; "
                                      f"une autre ligne de la même opération porte « {first[0]} » ({first[1]})",
                                      cell_loc(values["budget"].where)))
            return
    name = typed.pop("nom", None)
    if "structure" in typed and name:
        out.names.setdefault(typed["structure"], name)
    elif name:
        typed["_nom"] = name
    out.thematiques.setdefault(t, {}).setdefault(o, []).append(Row(typed, _short(at)))


def _budget_row(out: Scaffold, values: dict[str, Value], seen: dict[str, str], used: list[str] | None) -> None:
    if "code" not in values:
        return
    code, at = convert("code", values["code"])[0], values["code"].where
    if used is not None and code not in used:
        return  # the finance system's other lines
    if code in seen:
        out.findings.append(error("xlsx.budget_doublon", f"code opération « {code} » en double dans le classeur "
                                  f"(déjà en {seen[code]})", cell_loc(at)))
        return
    seen[code] = at
    typed = typed_row(values, out.findings)
    if typed is None:
        return
    line = out.budget.setdefault(code, {})
    if code not in out.budget_order:
        out.budget_order.append(code)
    read = {k: typed[k] for k in BUDGET_FIELDS if k in typed}
    line.update(read)
    (out.sheet if used is None else out.situation)[code] = read
    line.setdefault("_from", []).append(_short(at))


# ---------------------------------------------------------------------------
# YAML text


_PLAIN = re.compile(r"[\w][\w .,/'’()-]*", re.UNICODE)
_NULLS = {"", "~", "null"}


def scalar(text: str) -> str:
    """A text as a YAML scalar: plain when safe, else double-quoted (JSON escapes are valid YAML)."""
    if (_PLAIN.fullmatch(text) and not text.endswith(" ") and text.lower() not in _NULLS and "  " not in text
            and " #" not in text):
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return quoted.replace("\u2028", "\\L").replace("\u2029", "\\P").replace("\u0085", "\\N")


def money_text(value: Decimal) -> str:
    """An amount as the fixtures write it: ``"79 850,00"``, zero as ``0``."""
    if value == 0:
        return "0"
    decimals = max(2, -value.normalize().as_tuple().exponent)
    return f'"{plain(number(value, decimals))}"'


def decimal_text(value: Decimal) -> str:
    """An ETP or a volume: ``1.2``, ``400``."""
    return format(value.normalize(), "f")


def _value(key: str, value: object) -> str:
    if key in ("montant", "ae", "disponible", "ajustement"):
        return money_text(value)
    if key in ("etp", "etp_valorises", "volume"):
        return decimal_text(value)
    if hasattr(value, "strftime"):
        return date_short(value)
    return scalar(str(value))


def slug(name: str) -> str:
    """A registry key from a structure's name (« CCAS de Liévin » → « ccas-de-lievin »)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60] or "structure"


@dataclass
class Registry:
    """The new folder's registry: the previous one's text (if any), its keys and names, what is added."""

    text: str | None = None
    data: object = None
    keys: set[str] = field(default_factory=set)
    by_name: dict[str, str] = field(default_factory=dict)  # normalised name → key
    conventions: dict[str, set[str]] = field(default_factory=dict)
    source: str = ""
    inherited: bool = False  # a programme's derived registry: the new folder's lists only what it lacks


@dataclass
class Programme:
    """What a programme's earlier phases leave a new phase (``deliberation init`` inside a programme)."""

    annee: int | None  # programme.yaml's year
    last: str | None  # the last phase replayed (its folder name)
    numero: int | None  # the new phase's number: the last phase's + 1
    budget: dict[str, dict] = field(default_factory=dict)  # code → {ae, apres, imputation, libelle, phase}


def derived_registry(structures: dict, source: str) -> Registry:
    """A programme's derived registry (key → ``model.Structure``) as ``init`` matches names against it.

    A workbook's name is matched to a structure's ``nom`` or ``raison_sociale``, normalised as for ``--registre``.
    """
    reg = Registry(source=source, inherited=True)
    for key, s in structures.items():
        reg.keys.add(key)
        for name in (s.nom, s.raison_sociale):
            if name:
                reg.by_name.setdefault(normalise(name), key)
        reg.conventions[key] = set(s.conventions)
    return reg


def derive_conventions(sc: Scaffold, reg: Registry) -> None:
    """A ligne of a structure the programme knows, without a convention: its only convention, if it has one."""
    for row in sc.lignes():
        key = row.values.get("structure")
        if "convention" in row.values or key not in reg.keys or len(reg.conventions.get(key, ())) != 1:
            continue
        row.values["convention"] = next(iter(reg.conventions[key]))
        row.values["_convention"] = f"seule convention de {key} dans le registre du programme"


def programme_budget(sc: Scaffold, prog: Programme) -> None:
    """Each budget line the programme knows starts from what its last phase left (``disponible`` and ``ae``).

    A ``--situation`` disponible wins; when it differs from what was left, the gap is the line's
    ``ajustement`` and its ``motif`` is to complete (the situation's, if it gives one). The annexe's own
    budget sheet gives only the imputation and the libellé: its disponible is noted, not taken.
    """
    for code in sc.budget_order:
        left = prog.budget.get(code)
        if left is None or left.get("apres") is None:
            continue
        line, sheet, situation = sc.budget[code], sc.sheet.get(code, {}), sc.situation.get(code, {})
        notes: dict[str, str] = {}
        for key in ("imputation", "libelle"):
            if key not in line and left.get(key):
                line[key] = left[key]
                notes[key] = f"comme en {left['phase']}"
        for key in ("ajustement", "motif"):
            line.pop(key, None)
        if "ae" not in situation and left.get("ae") is not None:
            line["ae"] = left["ae"]
            notes["ae"] = f"comme en {left['phase']}"
        said = f"laissé par {left['phase']} : {plain(number(left['apres'], 2))} (grand livre du programme)"
        if "disponible" in situation:
            line["disponible"] = situation["disponible"]
            gap = situation["disponible"] - left["apres"]
            if gap:
                line["ajustement"] = gap
                line["motif"] = situation.get("motif") or BLANK
                notes["ajustement"] = f"situation budgétaire − {said}"
                if "motif" not in situation:
                    notes["motif"] = "raison de l'écart (la situation budgétaire ne la donne pas)"
            else:
                notes["disponible"] = said
        else:
            line["disponible"] = left["apres"]
            notes["disponible"] = said
            if "disponible" in sheet and sheet["disponible"] != left["apres"]:
                notes["disponible"] += (f" ; la feuille budgétaire de l'annexe donne "
                                        f"{plain(number(sheet['disponible'], 2))}, non repris (--situation)")
        line["_notes"] = notes


def read_registry(path: Path) -> tuple[Registry | None, list[Finding]]:
    """Read a previous phase's ``structures.yaml`` (a folder: its ``structures.yaml``), comments kept.

    Returns:
        The registry, or None and a finding (``init.registre``) when it cannot be read.

    """
    file = path / "structures.yaml" if path.is_dir() else path
    try:
        text = file.read_text(encoding="utf-8-sig")
        data = rt_yaml().load(text)
    except FileNotFoundError:
        return None, [error("init.registre", "registre introuvable : attendu le structures.yaml d'une phase "
                            "précédente (ou son dossier)", Loc(str(file)))]
    except (OSError, UnicodeDecodeError) as err:
        return None, [error("init.registre", f"registre illisible : {library_error(err)}", Loc(str(file)))]
    except YAMLError as err:
        return None, [error("init.registre", f"registre illisible : YAML mal formé ({library_error(err)})",
                            Loc(str(file)))]
    structures = data.get("structures") if isinstance(data, dict) else None
    if not isinstance(structures, dict):
        return None, [error("init.registre", "registre sans « structures: » (clé → structure) : ce n'est pas "
                            "un structures.yaml", Loc(str(file), 1))]
    reg = Registry(text=text, data=data, source=str(file))
    for key, s in structures.items():
        reg.keys.add(str(key))
        if isinstance(s, dict):
            if isinstance(s.get("nom"), str):
                reg.by_name.setdefault(normalise(s["nom"]), str(key))
            conv = s.get("conventions")
            reg.conventions[str(key)] = {str(c) for c in conv} if isinstance(conv, dict) else set()
    return reg, []


def resolve_structures(sc: Scaffold, reg: Registry) -> None:
    """Give each ligne a structure key: its « Code structure », else its name matched in the registry, else a slug."""
    for row in sc.lignes():
        name = row.values.pop("_nom", None)
        if "structure" in row.values or name is None:
            continue
        key = reg.by_name.get(normalise(name)) or slug(name)
        row.values["structure"] = key
        sc.names.setdefault(key, name)


def registry_text(sc: Scaffold, reg: Registry, annexe_name: str) -> str | None:
    """``structures.yaml``: the previous registry with what the lignes add, or a registry of names only.

    In a programme, only what the derived registry lacks; None when it lacks nothing (no file).
    """
    lignes = sc.lignes()
    needed: dict[str, list[str]] = {}
    for row in lignes:
        key = row.values.get("structure")
        if key is None:
            continue
        convs = needed.setdefault(key, [])
        conv = row.values.get("convention")
        if conv is not None and conv != NOUVELLE and conv not in convs:
            convs.append(conv)
    if reg.inherited:
        return _registry_new(needed, sc, reg, annexe_name)
    if reg.text is not None:
        missing = {k: [c for c in cs if c not in reg.conventions.get(k, set())] for k, cs in needed.items()}
        missing = {k: cs for k, cs in missing.items() if k not in reg.keys or cs}
        if not missing:
            return reg.text  # copied as it is, comments and all
        return _registry_added(reg, missing, sc, annexe_name)
    head = (f"# Registre des structures créé par « deliberation init » depuis {annexe_name} : seuls les noms\n"
            "# viennent du classeur. À compléter pour les avenants et conventions : raison sociale, forme\n"
            "# juridique, siège, SIRET, représentant, et pour chaque convention en cours son numéro, son objet,\n"
            "# sa date de signature, sa période, son montant, ses annexes (check les liste : acte.incomplet).\n"
            "# Le registre d'une phase précédente se reprend avec « init … --registre AUTRE/structures.yaml ».\n"
            "structures:\n")
    body = [_structure_text(k, sc.names.get(k), cs) for k, cs in needed.items()]
    return head + "".join(body)


def _registry_new(needed: dict[str, list[str]], sc: Scaffold, reg: Registry, annexe_name: str) -> str | None:
    """A programme's new phase: the structures (and conventions) its lignes cite that the programme lacks."""
    new = [k for k in needed if k not in reg.keys]
    convs = {k: [c for c in cs if c not in reg.conventions.get(k, set())] for k, cs in needed.items() if k in reg.keys}
    convs = {k: cs for k, cs in convs.items() if cs}
    if not new and not convs:
        return None
    head = (f"# Ce que la phase ajoute au registre du programme (« deliberation init » depuis {annexe_name}).\n"
            f"# Les autres structures citées viennent de {reg.source} et des phases précédentes.\n"
            "# Structure nouvelle : seul le nom vient du classeur ; à compléter pour les avenants et conventions :\n"
            "# raison sociale, forme juridique, siège, SIRET, représentant (check les liste : acte.incomplet).\n"
            "structures:\n")
    body = [_structure_text(k, sc.names.get(k), needed[k]) for k in new]
    body += [_structure_text(k, None, cs, named=False) for k, cs in convs.items()]
    return head + "".join(body)


def _structure_text(key: str, name: str | None, conventions: list[str], named: bool = True) -> str:
    lines = [f"  {key}:\n"]
    if named:
        lines.append(f"    nom: {scalar(name) if name else BLANK}\n")
    if conventions:
        lines.append("    conventions:\n")
        lines += [f"      {c}: {{}}  # à compléter : numero, objet, signature, periode, montant, annexes\n"
                  for c in conventions]
    return "".join(lines)


def _registry_added(reg: Registry, missing: dict[str, list[str]], sc: Scaffold, annexe_name: str) -> str:
    """The previous registry (ruamel round trip: comments kept) with the missing structures and conventions."""
    structures = reg.data["structures"]
    for key, convs in missing.items():
        if key not in structures:
            s = CommentedMap()
            s["nom"] = sc.names.get(key) or BLANK
            structures[key] = s
            structures.yaml_set_comment_before_after_key(
                key, before=f"ajoutée par « deliberation init » : citée par {annexe_name}, absente du registre "
                f"{reg.source} ; à compléter", indent=2)
        s = structures[key]
        if not convs or not isinstance(s, dict):
            continue
        conv = s.get("conventions")
        if not isinstance(conv, dict):
            conv = CommentedMap()
            s["conventions"] = conv
        for c in convs:
            conv[c] = CommentedMap()
            conv[c].fa.set_flow_style()
            conv.yaml_add_eol_comment("à compléter : convention citée par l'annexe 4, absente du registre", c)
    buf = io.StringIO()
    rt_yaml().dump(reg.data, buf)
    return buf.getvalue()


def thematique_text(t: int, ops: dict[int, list[Row]], sc: Scaffold, annexe_name: str) -> str:
    """``thematiques/t<N>.yaml``: numbers, budget codes and lignes from the workbook, the texts to complete."""
    out = [f"# Thématique {t} — créée par « deliberation init » depuis {annexe_name}. Les lignes et les codes\n",
           "# budgétaires viennent du classeur (chaque ligne cite la sienne) ; titres, dispositifs et textes\n",
           "# narratifs sont « à compléter » : « deliberation check » les liste, chacun à sa ligne.\n",
           f"numero: {t}\n",
           "titre: à compléter  # titre de la thématique (annexe narrative, rapport)\n",
           "# narrative: |  # facultatif : introduction de l'annexe narrative (Markdown)\n",
           "# annonces: facultatif : chiffres que les textes annoncent ({montant: \"…\", source: \"…\"})\n",
           "operations:\n"]
    for o in sorted(ops):
        code = sc.budget_codes.get((t, o))
        out += [f"  - numero: {o}\n",
                "    titre: à compléter  # titre de l'opération (« Dynamisation des parcours : accueil des BRSA »)\n",
                "    dispositif: à compléter  # code de la fiche (« 1.1 ») ; supprimez la ligne si l'opération "
                "n'a pas de fiche\n",
                f"    budget: {scalar(code[0])}  # {_short(code[1])}\n" if code else
                "    budget: à compléter  # code opération de la ligne budgétaire (absent du classeur)\n",
                "    narrative: à compléter  # présentation (Markdown) ; [[structures]], [[montant]], [[periode]]… "
                "citent les chiffres calculés\n",
                "    lignes:\n"]
        for row in ops[o]:
            out += _ligne_text(row)
    return "".join(out)


def _ligne_text(row: Row) -> list[str]:
    v = row.values
    out = [f"      - id: {scalar(str(v['id']))}  # {row.where}\n"]
    for key in LIGNE_FIELDS[1:]:
        if key == "volume":
            if "volume" in v or "unite" in v:
                nombre = decimal_text(v["volume"]) if "volume" in v else BLANK
                unite = scalar(v["unite"]) if "unite" in v else BLANK
                out.append(f"        volume: {{nombre: {nombre}, unite: {unite}}}\n")
        elif key == "periode":
            debut = date_short(v["debut"]) if "debut" in v else BLANK
            fin = date_short(v["fin"]) if "fin" in v else BLANK
            out.append(f"        periode: {{debut: {debut}, fin: {fin}}}\n")
        elif key in v:
            note = f"  # {v['_convention']}" if key == "convention" and "_convention" in v else ""
            out.append(f"        {key}: {_value(key, v[key])}{note}\n")
        elif key in LIGNE_REQUIRED:
            out.append(f"        {key}: {BLANK}  # absent du classeur\n")
    return out


def budget_text(sc: Scaffold, sources: str, prog: Programme | None = None) -> str:
    """``budget.yaml``: one budget line per code the lignes use (and per line of the budget sheets read)."""
    out = ["# Lignes budgétaires de la phase — créées par « deliberation init ». Codes : colonne « Code opération »\n"]
    if prog is not None and prog.last:
        out += [f"# de l'annexe 4. Dans le programme, AE et disponible : ce que {prog.last} a laissé (grand livre) ;\n",
                "# une situation budgétaire (--situation) qui dit autre chose donne l'ajustement, motif à compléter.\n",
                "# Un code nouveau dans le programme : imputation, libellé, AE et disponible :\n",
                f"# {sources}.\n"]
    else:
        out.append(f"# de l'annexe 4 ; imputation, libellé, AE et disponible : {sources}.\n")
    out += ["# Facultatif, par ligne : annonces (proposition et solde annoncés par le rapport et la délibération).\n",
            "lignes:\n"]
    for code in sc.budget_order:
        line = sc.budget[code]
        where = line.get("_from")
        out.append(f"  - code: {scalar(code)}" + (f"  # {' ; '.join(where)}\n" if where else
                                                  "  # connu du programme\n" if "_notes" in line else
                                                  "  # absent des tableaux budgétaires lus\n"))
        notes = line.get("_notes", {})
        for key in BUDGET_FIELDS:
            if key in line:
                note = f"  # {notes[key]}" if key in notes else ""
                out.append(f"    {key}: {_value(key, line[key])}{note}\n")
            elif key not in OPTIONAL_BUDGET_FIELDS:
                out.append(f"    {key}: {BLANK}\n")
    return "".join(out)


#: Budget columns a phase may leave out (a programme's declared adjustment): never « à compléter ».
OPTIONAL_BUDGET_FIELDS = ("ajustement", "motif")


def _merges(lignes: list[Row]) -> dict[str, tuple[str, list[str]]]:
    """Avenant models cited together for one existing convention: first model → (« structure/convention », others)."""
    cited: dict[tuple[str, str], list[str]] = {}
    for row in lignes:
        v = row.values
        if v.get("convention") not in (None, NOUVELLE) and v.get("structure") and v.get("document"):
            docs = cited.setdefault((v["structure"], v["convention"]), [])
            if v["document"] not in docs:
                docs.append(v["document"])
    out: dict[str, tuple[str, list[str]]] = {}
    for (structure, convention), docs in cited.items():
        if len(docs) > 1:
            where, others = out.setdefault(docs[0], (f"{structure}/{convention}", []))
            others += [d for d in docs[1:] if d not in others]
    return out


def phase_text(sc: Scaffold, sources: str, prog: Programme | None = None) -> str:
    """``phase.yaml``: the séance, the act and the report left to complete; models and aliases the lignes cite.

    In a programme, the year is the programme's and the number follows the last phase's.
    """
    lignes = sc.lignes()
    documents: dict[str, set[str]] = {}
    for row in lignes:
        doc = row.values.get("document")
        if doc is not None:
            documents.setdefault(doc, set()).add("convention" if row.values.get("convention") == NOUVELLE
                                                 else "avenant")
    merges = _merges(lignes)
    aliases = list(dict.fromkeys(str(r.values["territoire"]) for r in lignes
                                 if r.values.get("territoire") not in (None, *TERRITOIRES)))
    out = [
        f"# Phase créée par « deliberation init » depuis {sources}.\n",
        "# Le classeur ne dit rien de la séance, de l'acte ni du rapport : chaque « à compléter » ci-dessous est\n",
        "# un constat de « deliberation check » (schema.a_completer) à sa ligne, jusqu'à ce qu'il soit rempli.\n",
        "# Format de chaque champ : « deliberation schema » (ou docs/format.md).\n",
        f"annee: {prog.annee}  # l'année du programme (../programme.yaml)\n" if prog and prog.annee else
        "annee: à compléter  # année de l'appel à projets (2024)\n",
        f"numero: {prog.numero}  # " + (f"la phase qui suit {prog.last}" if prog.last else "la première du programme")
        + "\n" if prog and prog.numero else
        "numero: à compléter  # numéro de la phase (6)\n",
        "intitule: à compléter  # « APPELS À PROJETS DES POLITIQUES D'INCLUSION DURABLE 2024-PHASE 6 »\n",
        "departement: à compléter  # « DEPARTEMENT DU PAS-DE-CALAIS »\n",
        "# attribuant: {nom: …, siret: \"…\"}  # facultatif : pour l'export des données ouvertes\n",
        "\n",
        "seance:\n",
        "  date: à compléter  # date de séance, JJ/MM/AAAA\n",
        "  lieu: à compléter  # ville de signature (« ARRAS »)\n",
        "  president: à compléter  # « M. Prénom NOM »\n",
        "  secretaire: à compléter  # « Mme Prénom NOM »\n",
        "  presents: à compléter  # liste des membres présents (« - M. Prénom NOM »)\n",
        "  # excuses, absents, presents_sans_voix, excuses_sans_voix, interesses : listes facultatives\n",
        "  vote: à compléter  # {pour: …, contre: …, abstention: …, absents_sans_delegation: …, resultat: Adopté}"
        " et les groupes\n",
        "  president_signature: à compléter  # {qualite: LE PRESIDENT DU CONSEIL DEPARTEMENTAL, nom: Prénom NOM}\n",
        "  # signature_delegation: {qualite: …, nom: …}  # facultatif : « Pour le Président »\n",
        "\n",
        "deliberation:\n",
        "  numero: à compléter  # « 2024-587 »\n",
        "  titre: à compléter  # objet de l'acte\n",
        "  # actes: {nature: 1, matiere: \"7.5\"}  # classification @ctes (exigée par check --actes, build --final)\n",
        "  visas: à compléter  # liste des « Vu … », dans l'ordre\n",
    ]
    if any(kinds == {"convention"} for kinds in documents.values()):
        out.append("  # modele_type_convention: adopté par la Commission Permanente du …  # facultatif\n")
    out += [
        "\n",
        "rapport:\n",
        "  numero: à compléter  # numéro du rapport (36)\n",
        "  pole: à compléter  # « Pôle Solidarités »\n",
        "  direction: à compléter\n",
        "  # mission: …  # facultatif\n",
        "  territoires: à compléter  # « Tous les territoires »\n",
        "  cantons: à compléter\n",
        "  epci: à compléter\n",
        "  introduction: à compléter  # texte d'introduction (Markdown)\n",
        "  # instruction, rapport_cadre : facultatifs\n",
        "\n",
        "commissions: à compléter  # liste : - {numero: 2, nom: …, date: JJ/MM/AAAA, avis: favorable}\n",
        "# signataire_actes: {qualite: …, nom: …}  # facultatif : qui signe avenants et conventions par délégation\n",
    ]
    if documents:
        out += ["\n", "modeles:  # chaque document à signer cité par l'annexe 4 (colonne « Document à signer »)\n"]
        for key, kinds in documents.items():
            n = sum(1 for r in lignes if r.values.get("document") == key)
            out.append(f"  {scalar(key)}:  # cité par {n} ligne(s)\n")
            if len(kinds) == 1:
                kind = next(iter(kinds))
                why = "nouvelle convention" if kind == "convention" else "convention existante"
                out.append(f"    type: {kind}  # ses lignes portent sur une {why}\n")
            else:
                out.append("    type: à compléter  # avenant ou convention : ses lignes portent sur les deux\n")
            example = "« Convention type »" if kinds == {"convention"} else "« Modèle d'avenant n°5 »"
            out.append(f"    titre: à compléter  # {example}\n")
            if kinds == {"avenant"}:
                out.append("    clauses: à compléter  # articles que modifie le modèle : objet_convention, duree, "
                           "cout, obligations, annexes\n")
                if key in merges:
                    where, others = merges[key]
                    out.append(f"    fusion: à compléter  # les lignes de {where} citent aussi {', '.join(others)} : "
                               f"[{', '.join(others)}] si un seul avenant réunit ces modèles, sinon citez-en un seul\n")
                out.append("    # numero, dispositifs, annexes_initiales, texte, fusion, acte : facultatifs\n")
    if aliases:
        out += ["\n", "alias_territoires:  # territoires de l'annexe 4 hors des neuf MDS\n"]
        out += [f"  {scalar(a)}: à compléter  # liste des territoires MDS couverts\n" for a in aliases]
    return "".join(out)


def files(sc: Scaffold, reg: Registry, annexe_name: str, situation_name: str | None,
          prog: Programme | None = None) -> dict[str, bytes]:
    """Every file of the new folder (relative path → bytes); ``prog``: the programme the folder is a phase of."""
    resolve_structures(sc, reg)
    sources = annexe_name + (f" et {situation_name} (situation budgétaire)" if situation_name else "")
    budget = (f"{situation_name} (situation budgétaire), à défaut la feuille « Contrôle budgétaire » de {annexe_name}"
              if situation_name else f"feuille « Contrôle budgétaire » de {annexe_name}")
    if prog is not None:
        derive_conventions(sc, reg)
        programme_budget(sc, prog)
    texts = {"phase.yaml": phase_text(sc, sources, prog), "budget.yaml": budget_text(sc, budget, prog)}
    registry = registry_text(sc, reg, annexe_name)
    if registry is not None:
        texts["structures.yaml"] = registry
    for t in sorted(sc.thematiques):
        texts[f"thematiques/t{t}.yaml"] = thematique_text(t, sc.thematiques[t], sc, annexe_name)
    return {rel: text.encode("utf-8") for rel, text in texts.items()}


@dataclass
class Started:
    """What ``deliberation init`` found and did."""

    findings: list[Finding] = field(default_factory=list)  # an error: nothing was written
    written: list[str] = field(default_factory=list)  # files of the new folder (relative)
    after: list[Finding] | None = None  # ``check`` of the new folder: what is left to complete
    lignes: int = 0
    operations: int = 0
    thematiques: int = 0
    budget: int = 0
    notes: list[str] = field(default_factory=list)  # what the user should know (a programme's phase list)

    @property
    def failed(self) -> bool:
        """True when an error stopped the creation (nothing written)."""
        return any(f.severity is Severity.ERROR for f in self.findings)

    def summary(self, dossier: Path) -> str:
        """The creation in a few lines: what was taken from the workbooks, what is left to complete."""
        out = [f"{dossier} créé : {len(self.written)} fichier(s) ({', '.join(self.written)}) ; "
               f"{self.thematiques} thématique(s), {self.operations} opération(s), {self.lignes} ligne(s), "
               f"{self.budget} ligne(s) budgétaire(s)"]
        if self.after is not None:
            blanks = sum(f.code == "schema.a_completer" for f in self.after)
            n_err = sum(f.severity is Severity.ERROR for f in self.after)
            out.append(f"À compléter : {blanks} valeur(s) « à compléter » ; contrôle : {n_err} erreur(s), "
                       f"{len(self.after) - n_err} avertissement(s) (deliberation check {dossier})")
        return "\n".join(out + self.notes)
