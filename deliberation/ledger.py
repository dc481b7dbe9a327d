"""The call-for-projects year as a ledger: the phases of one programme, in order (issue 22).

A *programme* is a folder holding ``programme.yaml``, the registry of structures and conventions as
it stood when the year began (``structures.yaml``) and one dossier per phase. The ledger replays the
phases in order:

- per budget line and phase: AE, disponible declared, the disponible expected from the previous
  phase (its « après », plus a declared adjustment), the adopted proposition, the disponible after;
- per convention: its initial amount and period, then each avenant in order (number, phase, amount
  added, new period), its current ceiling and end date;
- per structure: the year's total, per dispositif, per territory and per phase.

Each phase's registry of conventions is *derived* from the phases before it (``registry_before``):
the number of avenants already signed, the current ceiling and period of each convention, the
conventions earlier phases created. A value a phase types that contradicts the ledger is a finding
stating both figures.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path

from deliberation.acts import plan_acts
from deliberation.amend import apply_amendments
from deliberation.compute import ZERO, compute
from deliberation.findings import Finding, Loc, Severity, error, sort_findings, warning
from deliberation.fmt import cents, date_long, money, plain
from deliberation.load import load_dispositifs, load_dossier
from deliberation.load.yaml import load_record
from deliberation.model import AnnexeConvention, Convention, Dossier, Periode, ProgrammeInfo, Registre, Structure
from deliberation.resources import PROGRAMME_FILE, programme_root


@dataclass(frozen=True)
class PhaseEntry:
    """One phase of the programme, in vote order."""

    nom: str  # the phase's folder name (« phase-2 »)
    root: str  # its folder
    numero: int | None  # ``phase.yaml`` numero
    date: dt.date | None  # the séance (the date of its avenants)
    deliberation: str | None  # the délibération's number (« 2025-100 »)


@dataclass(frozen=True)
class BudgetStep:
    """One budget line in one phase."""

    phase: str
    code: str
    libelle: str | None
    imputation: str | None
    ae: Decimal | None
    disponible: Decimal | None  # declared by the phase (before it)
    attendu: Decimal | None  # the previous phase's « après » plus the adjustment; None on a line's first phase
    ajustement: Decimal | None  # declared adjustment (situation budgétaire), if any
    motif: str | None  # its reason
    proposition: Decimal | None  # the adopted phase's proposition on this line
    apres: Decimal | None  # disponible − proposition
    loc: Loc  # the line in the phase's budget.yaml


@dataclass(frozen=True)
class AvenantStep:
    """One avenant of a convention, adopted in one phase of the programme."""

    numero: int  # « Avenant n°2 »
    phase: str
    date: dt.date | None  # the séance that adopted it
    deliberation: str | None
    montant: Decimal | None  # the amount it adds (None: a line's amount unreadable)
    plafond: Decimal | None  # the convention's ceiling after it
    periode: tuple[dt.date, dt.date] | None  # the convention's period after it
    loc: Loc  # its first line


@dataclass
class ConventionHistory:
    """A convention through the year: where it starts, then each avenant."""

    structure: str  # registry key
    nom: str  # the structure's usual name
    cle: str  # the convention's key (a phase's folder name for one the programme created)
    numero: str | None  # None while unknown
    origine: str | None  # the phase that created it; None: it existed when the year began
    montant_initial: Decimal | None
    periode_initiale: tuple[dt.date, dt.date] | None
    avenants_anterieurs: int  # avenants signed before the year began
    avenants: list[AvenantStep] = field(default_factory=list)
    loc: Loc = Loc("?")

    @property
    def plafond(self) -> Decimal | None:
        """The current ceiling (initial amount plus every avenant's)."""
        return self.avenants[-1].plafond if self.avenants else self.montant_initial

    @property
    def periode(self) -> tuple[dt.date, dt.date] | None:
        """The current period (the initial one, extended by the avenants)."""
        return self.avenants[-1].periode if self.avenants else self.periode_initiale


@dataclass(frozen=True)
class LedgerLine:
    """One funded line of one phase (the detail the per-structure views add up)."""

    phase: str
    structure: str
    nom: str
    dispositif: str | None
    territoire: str | None
    budget: str | None
    montant: Decimal | None
    loc: Loc


@dataclass
class StructureYear:
    """A structure's year: its total, per dispositif, per territory, per phase."""

    structure: str
    nom: str
    total: Decimal
    par_dispositif: dict[str, Decimal]
    par_territoire: dict[str, Decimal]
    par_phase: dict[str, Decimal]


@dataclass
class Ledger:
    """Everything ``deliberation ledger`` reports on a programme."""

    root: str
    annee: int | None
    intitule: str | None
    phases: list[PhaseEntry] = field(default_factory=list)
    budget: list[BudgetStep] = field(default_factory=list)
    conventions: list[ConventionHistory] = field(default_factory=list)
    lignes: list[LedgerLine] = field(default_factory=list)
    structures: list[StructureYear] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


# ---------------------------------------------------------------------------
# loading a programme


@dataclass(frozen=True)
class PhaseRef:
    """A phase folder the programme names, and where it names it."""

    nom: str
    root: Path
    loc: Loc


def load_programme(root: str | Path) -> tuple[ProgrammeInfo | None, dict, list[PhaseRef], list[Finding]]:
    """``programme.yaml``, the registry when the year began and the phases in order; all findings."""
    root = Path(root)
    within = os.path.realpath(root)
    findings: list[Finding] = []
    info, f = load_record(root / PROGRAMME_FILE, ProgrammeInfo, within=within)
    findings += f
    structures: dict = {}
    if os.path.lexists(root / "structures.yaml"):
        registre, f = load_record(root / "structures.yaml", Registre, within=within)
        findings += f
        structures = dict(registre.structures) if registre else {}
    refs: list[PhaseRef] = []
    if info is not None and info.phases:
        where = info.at("phases")
        for i, name in enumerate(info.phases):
            folder = root / name
            loc = Loc(where.file, _line_of(root / PROGRAMME_FILE, name, where.line), f"phases[{i}]")
            if not (folder / "phase.yaml").is_file():
                findings.append(error("programme.phase", f"phase « {name} » introuvable : {folder}/phase.yaml attendu",
                                      loc))
            elif name in {r.nom for r in refs}:
                findings.append(error("programme.phase", f"phase « {name} » citée deux fois", loc))
            else:
                refs.append(PhaseRef(name, folder, loc))
    elif info is not None:
        folders = [p for p in sorted(root.iterdir(), key=lambda p: _natural(p.name))
                   if p.is_dir() and (p / "phase.yaml").is_file()]
        refs = [PhaseRef(p.name, p, Loc(str(p / "phase.yaml"))) for p in folders]
        if not refs:
            findings.append(error("programme.phase", f"aucune phase : des sous-dossiers avec un phase.yaml attendus "
                                                     f"dans {root}", Loc(str(root / PROGRAMME_FILE))))
    return info, structures, refs, findings


def _line_of(path: Path, name: str, start: int) -> int:
    """The first line from ``start`` that names ``name`` (a phase of the list, block or flow style)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return start
    pattern = re.compile(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])")
    return next((n for n in range(max(start, 1), len(lines) + 1) if pattern.search(lines[n - 1])), start)


def _natural(name: str) -> tuple:
    """« phase-10 » after « phase-9 »."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name))


# ---------------------------------------------------------------------------
# replaying the phases


@dataclass
class _State:
    """The programme as it stands between two phases."""

    structures: dict  # key → Structure (the derived registry)
    histories: dict = field(default_factory=dict)  # (structure, convention) → ConventionHistory
    after: dict = field(default_factory=dict)  # budget code → (disponible after, phase name, BudgetStep)
    previous: PhaseEntry | None = None


def _period(p: Periode | None) -> tuple[dt.date, dt.date] | None:
    return (p.debut, p.fin) if p is not None and p.debut is not None and p.fin is not None else None


def _history_of(state: _State, skey: str, ckey: str, s: Structure, c: Convention, origine: str | None):
    h = ConventionHistory(structure=skey, nom=s.nom or skey, cle=ckey, numero=c.numero, origine=origine,
                          montant_initial=c.montant, periode_initiale=_period(c.periode),
                          avenants_anterieurs=c.avenants if c.avenants is not None else 0, loc=c.loc)
    state.histories[(skey, ckey)] = h
    return h


def _start(structures: dict) -> _State:
    state = _State(structures=dict(structures))
    for skey, s in structures.items():
        for ckey, c in s.conventions.items():
            _history_of(state, skey, ckey, s, c, None)
    return state


def _money(value: Decimal | None) -> str:
    return "?" if value is None else plain(money(value))


def _date(value: dt.date | None) -> str:
    return "?" if value is None else plain(date_long(value))


def _span(p: tuple[dt.date, dt.date] | None) -> str:
    return "?" if p is None else f"du {_date(p[0])} au {_date(p[1])}"


def _avenants_text(h: ConventionHistory) -> str:
    """« avenant n°1 (phase-1, 10 mars 2025) et n°2 (phase-2, …) »."""
    parts = [f"n°{a.numero} ({a.phase})" for a in h.avenants]
    if not parts:
        return "aucun avenant dans le programme"
    return "avenant " + ", ".join(parts) if len(parts) == 1 else "avenants " + ", ".join(parts)


def _overlay(state: _State, typed: dict) -> list[Finding]:
    """Merge what a phase types in its ``structures.yaml`` into the derived registry; contradictions are findings.

    The registry's figures (avenants, amount, period) come from the ledger: a typed one that differs is an
    error stating both, and the ledger's is kept. What the ledger does not know (a new convention's number,
    its signature, a representative…) is taken from the phase; a number that differs from a known one is an
    error.
    """
    out: list[Finding] = []
    for skey, s in typed.items():
        base = state.structures.get(skey)
        if base is None:
            state.structures[skey] = s
            for ckey, c in s.conventions.items():
                _history_of(state, skey, ckey, s, c, None)
            continue
        fields = {n: getattr(s, n) for n in s.locs if n not in ("id", "conventions") and n not in s.blanks}
        conventions = dict(base.conventions)
        for ckey, c in s.conventions.items():
            bc = conventions.get(ckey)
            if bc is None:
                conventions[ckey] = c
                _history_of(state, skey, ckey, base, c, None)
                continue
            h = state.histories.get((skey, ckey))
            name = f"convention {bc.numero or c.numero or ckey} ({base.nom or skey})"
            keep = {n: getattr(c, n) for n in c.locs if n not in ("id",) and n not in c.blanks}
            if "avenants" in keep and keep["avenants"] != bc.avenants:
                nxt = "?" if bc.avenants is None else bc.avenants + 1
                out.append(error("ledger.avenants", f"{name} : {keep['avenants']} avenant(s) déclaré(s) avant cette "
                                 f"phase, le grand livre en compte {bc.avenants} ({_avenants_text(h) if h else '?'}) : "
                                 f"le prochain avenant est le n°{nxt}, pas le n°{keep['avenants'] + 1}",
                                 c.at("avenants"), subject=name))
                del keep["avenants"]
            if "montant" in keep and keep["montant"] != bc.montant:
                gap = None if bc.montant is None or keep["montant"] is None else keep["montant"] - bc.montant
                detail = (f"montant initial {_money(h.montant_initial)}"
                          + "".join(f" + avenant n°{a.numero} ({a.phase}) {_money(a.montant)}" for a in h.avenants)
                          ) if h else ""
                out.append(error("ledger.montant", f"{name} : montant déclaré {_money(keep['montant'])}, le grand "
                                 f"livre donne {_money(bc.montant)} ({detail}) : écart {_money(gap)}",
                                 c.at("montant"), subject=name))
                del keep["montant"]
            if "periode" in keep and _period(keep["periode"]) != _period(bc.periode):
                out.append(error("ledger.periode", f"{name} : période déclarée {_span(_period(keep['periode']))}, le "
                                 f"grand livre donne {_span(_period(bc.periode))} ({_avenants_text(h) if h else '?'})",
                                 c.at("periode"), subject=name))
                del keep["periode"]
            if "numero" in keep and bc.numero is not None and keep["numero"] != bc.numero:
                out.append(error("ledger.numero", f"{name} : numéro déclaré {keep['numero']}, le registre du programme "
                                 f"dit {bc.numero}", c.at("numero"), subject=name))
                del keep["numero"]
            conventions[ckey] = replace(bc, **keep, locs={**bc.locs, **{n: c.locs[n] for n in keep}})
            if h is not None and conventions[ckey].numero:
                h.numero = conventions[ckey].numero
        state.structures[skey] = replace(base, **fields, conventions=conventions,
                                         locs={**base.locs, **{n: s.locs[n] for n in fields}})
    return out


def _budget(state: _State, phase: PhaseEntry, d: Dossier, figures) -> tuple[list[BudgetStep], list[Finding]]:
    """The phase's budget lines against what the previous phases left."""
    steps: list[BudgetStep] = []
    out: list[Finding] = []
    for b in d.budget:
        if b.code is None or b.code in {s.code for s in steps}:
            continue
        bf = figures.budget.get(b.code)
        proposition = bf.proposition if bf else None
        before = state.after.get(b.code)
        attendu = None
        if before is not None:
            attendu = None if before[0] is None else before[0] + (b.ajustement or ZERO)
        elif b.ajustement is not None:
            out.append(warning("ledger.ajustement", f"ligne budgétaire {b.code} : ajustement {_money(b.ajustement)} "
                               "déclaré sur sa première phase du programme, où rien ne le précède", b.at("ajustement")))
        if b.ajustement is not None and not b.motif and "motif" not in b.blanks:  # « à compléter »: said once
            out.append(error("ledger.motif", f"ligne budgétaire {b.code} : ajustement {_money(b.ajustement)} sans "
                             "motif (« motif: … », la raison que donne la situation budgétaire)", b.at("ajustement")))
        if attendu is not None and b.disponible is not None and b.disponible != attendu:
            left, prev_phase, prev_step = before
            adj = (f", ajustement déclaré {_money(b.ajustement)} : attendu {_money(attendu)}"
                   if b.ajustement is not None else "")
            out.append(error(
                "ledger.disponible",
                f"ligne budgétaire {b.code} : disponible déclaré {_money(b.disponible)} ; la phase précédente "
                f"({prev_phase}) a laissé {_money(left)} ({_money(prev_step.disponible)} − "
                f"{_money(prev_step.proposition)}){adj} ; écart {_money(b.disponible - attendu)}. Un écart voulu "
                "(situation budgétaire) se déclare par « ajustement » et « motif »",
                b.at("disponible"), subject=b.code))
        apres = None if b.disponible is None or proposition is None else b.disponible - proposition
        step = BudgetStep(phase=phase.nom, code=b.code, libelle=b.libelle, imputation=b.imputation, ae=b.ae,
                          disponible=b.disponible, attendu=attendu, ajustement=b.ajustement, motif=b.motif,
                          proposition=proposition, apres=apres, loc=b.at("disponible"))
        steps.append(step)
    for step in steps:
        state.after[step.code] = (step.apres, phase.nom, step)
    return steps, out


def _line_end(act) -> dt.date | None:
    ends = [ligne.periode.fin for _, _, ligne in act.lignes if ligne.periode is not None and ligne.periode.fin]
    return max(ends) if ends else None


def _line_start(act) -> dt.date | None:
    starts = [ligne.periode.debut for _, _, ligne in act.lignes if ligne.periode is not None and ligne.periode.debut]
    return min(starts) if starts else None


def _act_amount(act) -> Decimal | None:
    total = ZERO
    for _, _, ligne in act.lignes:
        if ligne.montant is None:
            return None
        total += ligne.montant
    return total


def _sheet_amount(sheet) -> Decimal | None:
    return None if any(ligne.montant is None for ligne in sheet.lignes) else sum(
        (ligne.montant for ligne in sheet.lignes), ZERO)


def _annexes_after(act, c: Convention) -> tuple:
    """The convention's annexes after the avenant: its sheets when it rewrites article 12, else unchanged.

    With several annexes, each carries its part of the ceiling when the ledger can tell: every earlier
    annex continued, and its part known (declared, or the whole amount of a one-annex convention).
    """
    if "annexes" not in act.included:
        return tuple(c.annexes)
    continued = {sh.ancienne.numero for sh in act.sheets if sh.ancienne is not None}
    parts: dict[int, Decimal] = {}
    derivable = len(act.sheets) > 1 and all(a.numero in continued for a in c.annexes)
    for a in c.annexes:
        part = a.montant if a.montant is not None else (c.montant if len(c.annexes) == 1 else None)
        if part is None:
            derivable = False
        else:
            parts[a.numero] = part
    out = []
    for sh in act.sheets:
        amount = _sheet_amount(sh)
        if amount is None:
            derivable = False
        base = parts.get(sh.ancienne.numero, ZERO) if sh.ancienne is not None else ZERO
        out.append((sh, None if amount is None else base + amount))
    return tuple(AnnexeConvention(numero=sh.numero, titre=sh.titre, dispositif=sh.code,
                                  montant=part if derivable else None, loc=act.loc) for sh, part in out)


def _advance(state: _State, phase: PhaseEntry, d: Dossier, dispositifs: dict) -> list[LedgerLine]:
    """Apply an adopted phase to the registry: new conventions, avenants (number, ceiling, period, annexes)."""
    for act in plan_acts(d, dispositifs):
        s = state.structures.get(act.structure_key)
        if s is None:
            continue  # an unknown structure: the phase's own check says so
        montant = _act_amount(act)
        if act.kind == "convention":
            ckey = phase.nom
            debut, fin = _line_start(act), _line_end(act)
            periode = Periode(debut=debut, fin=fin, loc=act.loc) if debut and fin else None
            annexes = tuple(AnnexeConvention(numero=sh.numero, titre=sh.titre, dispositif=sh.code, loc=act.loc)
                            for sh in act.sheets)
            c = Convention(id=ckey, numero=None, periode=periode, montant=montant, annexes=annexes, avenants=0,
                           loc=act.loc, locs={"periode": act.loc, "montant": act.loc, "avenants": act.loc})
            state.structures[act.structure_key] = replace(s, conventions={**s.conventions, ckey: c})
            _history_of(state, act.structure_key, ckey, s, c, phase.nom)
            continue
        c = s.conventions.get(act.convention_key)
        h = state.histories.get((act.structure_key, act.convention_key))
        if c is None or h is None:
            continue  # an unknown convention: the phase's own check says so
        numero = (c.avenants or 0) + 1
        plafond = None if c.montant is None or montant is None else c.montant + montant
        cp = _period(c.periode)
        end = _line_end(act)
        periode = (cp[0], max(cp[1], end) if end else cp[1]) if cp else None
        h.avenants.append(AvenantStep(numero=numero, phase=phase.nom, date=phase.date, deliberation=phase.deliberation,
                                      montant=montant, plafond=plafond, periode=periode, loc=act.loc))
        new = replace(c, avenants=numero, montant=plafond,
                      periode=Periode(debut=periode[0], fin=periode[1], loc=act.loc) if periode else c.periode,
                      annexes=_annexes_after(act, c),
                      locs={**c.locs, "avenants": act.loc, "montant": act.loc, "periode": act.loc})
        state.structures[act.structure_key] = replace(s, conventions={**s.conventions, act.convention_key: new})
    lines = []
    for _, o, ligne in d.lignes():
        s = state.structures.get(ligne.structure)
        lines.append(LedgerLine(phase=phase.nom, structure=ligne.structure or "?",
                                nom=(s.nom if s and s.nom else None) or ligne.structure or "?",
                                dispositif=o.dispositif, territoire=ligne.territoire, budget=o.budget,
                                montant=ligne.montant, loc=ligne.loc))
    return lines


def _entry(ref: PhaseRef, d: Dossier | None) -> PhaseEntry:
    info = d.info if d is not None else None
    return PhaseEntry(nom=ref.nom, root=str(ref.root), numero=info.numero if info else None,
                      date=info.seance.date if info and info.seance else None,
                      deliberation=info.deliberation.numero if info and info.deliberation else None)


def _order(prog: ProgrammeInfo | None, previous: PhaseEntry | None, entry: PhaseEntry, d: Dossier) -> list[Finding]:
    """A phase's year, number and date against the programme and the phase before it."""
    out: list[Finding] = []
    info = d.info
    if info is None:
        return out
    if prog is not None and prog.annee is not None and info.annee is not None and info.annee != prog.annee:
        out.append(error("programme.annee", f"phase de l'année {info.annee} dans le programme {prog.annee}",
                         info.at("annee")))
    if previous is None:
        return out
    if entry.numero is not None and previous.numero is not None and entry.numero <= previous.numero:
        out.append(error("programme.ordre", f"phase n°{entry.numero} après la phase n°{previous.numero} "
                         f"({previous.nom}) : l'ordre du programme est celui des séances", info.at("numero")))
    if entry.date is not None and previous.date is not None and entry.date <= previous.date:
        out.append(error("programme.ordre", f"séance du {_date(entry.date)}, pas après celle de la phase précédente "
                         f"({previous.nom}, {_date(previous.date)})", info.seance.at("date")))
    return out


def _drop_inherited(findings: list[Finding], registry_file: str, known: set) -> list[Finding]:
    """A phase names a known structure without its ``nom``: the registry has it (not « champ manquant »)."""
    return [f for f in findings if not (f.code == "schema.manquant" and f.loc.file == registry_file
                                        and f.loc.path in {f"structures.{k}" for k in known})]


def _phase_dispositifs(annexes: tuple, programme: Path, phase: Path) -> dict:
    dispositifs, _ = load_dispositifs(*annexes, programme / "dispositifs", phase / "dispositifs")
    return dispositifs


def _replay_phase(state: _State, prog, ref: PhaseRef, d: Dossier, loaded: list[Finding]):
    """One phase on top of the state: overlay its registry, check its budget. Return its part of the ledger.

    ``loaded``: the findings of loading the phase, less the « champ manquant » of a structure the registry
    already has (a phase names it only to add what it learnt).
    """
    entry = _entry(ref, d)
    findings = _order(prog, state.previous, entry, d)
    known = {k for k in d.structures if k in state.structures}
    loaded = _drop_inherited(loaded, os.path.join(d.root, "structures.yaml"), known)
    findings += _overlay(state, d.structures)
    d = replace(d, structures=dict(state.structures))
    adopted, _, _ = apply_amendments(d)
    steps, f = _budget(state, entry, adopted, compute(adopted))
    return entry, d, adopted, steps, loaded, findings + f


def within_programme(d: Dossier, loaded: list[Finding], annexes: tuple) -> tuple[Dossier, list[Finding]]:
    """A phase of a programme, its registry derived from the phases before it; its loading and ledger findings.

    Outside a programme, the dossier and ``loaded`` (the findings of loading it) are returned as they are.
    ``annexes``: the engine's sheet folders (``Settings.annexes``).
    """
    root = programme_root(d.root)
    if root is None:
        return d, loaded
    prog, structures, refs, findings = load_programme(root)
    here = os.path.realpath(d.root)
    index = next((i for i, r in enumerate(refs) if os.path.realpath(r.root) == here), None)
    if index is None:
        if prog is not None and prog.phases:
            name = os.path.basename(os.path.normpath(d.root))
            why = error("programme.phase", f"la phase « {name} » n'est pas dans la liste « phases » de son programme : "
                        f"ajoutez-la à sa place dans l'ordre des séances ; d'ici là, son registre et ses disponibles "
                        "ne sont pas déduits des phases précédentes", prog.at("phases"))
        else:
            why = error("programme.phase", f"le dossier {d.root} n'est pas une phase de son programme "
                        f"({root / PROGRAMME_FILE})", d.loc)
        return d, loaded + findings + [why]
    state = _start(structures)
    for ref in refs[:index]:
        if not _replay(state, prog, root, ref, annexes, findings):
            return d, loaded + findings
    _, derived, _, _, loaded, f = _replay_phase(state, prog, refs[index], d, loaded)
    return derived, loaded + findings + f


def _replay(state: _State, prog, root: Path, ref: PhaseRef, annexes: tuple, findings: list[Finding],
            ledger: Ledger | None = None) -> bool:
    """Replay an earlier phase (or, for the ledger, every phase); False when it cannot be read at all."""
    d, loaded = load_dossier(ref.root)
    if d is None:
        findings.append(error("programme.phase_precedente", f"phase {ref.nom} illisible : le registre qu'elle "
                              "laisse est inconnu", ref.loc))
        return False
    entry, _, adopted, steps, loaded, f = _replay_phase(state, prog, ref, d, loaded)
    bad = sum(1 for x in loaded if x.severity is Severity.ERROR)
    if ledger is not None:
        findings += f
    if bad:
        findings.append(error("programme.phase_precedente", f"phase {ref.nom} : {bad} erreur(s) de lecture, le "
                              f"registre qu'elle laisse peut être faux (« deliberation check {ref.root} »)", ref.loc))
    lines = _advance(state, entry, adopted, _phase_dispositifs(annexes, root, ref.root))
    state.previous = entry
    if ledger is not None:
        ledger.phases.append(entry)
        ledger.budget += steps
        ledger.lignes += lines
    return True


def build_ledger(root: str | Path, annexes: tuple, upto: str | Path | None = None) -> Ledger:
    """Replay every phase of a programme: the ledger's tables and every finding of the ledger, located.

    ``upto``: a phase's folder, the last phase replayed (the programme as that phase leaves it).
    """
    root = Path(root)
    if not (root / PROGRAMME_FILE).is_file():
        return Ledger(root=str(root), annee=None, intitule=None,
                      findings=[error("programme.introuvable", f"pas de programme : {root / PROGRAMME_FILE} attendu",
                                      Loc(str(root)))])
    prog, structures, refs, findings = load_programme(root)
    ledger = Ledger(root=str(root), annee=prog.annee if prog else None, intitule=prog.intitule if prog else None)
    state = _start(structures)
    last = os.path.realpath(upto) if upto is not None else None
    for ref in refs:
        if not _replay(state, prog, root, ref, annexes, findings, ledger):
            break
        if last is not None and os.path.realpath(ref.root) == last:
            break
    ledger.conventions = sorted(state.histories.values(), key=lambda h: (h.nom.lower(), h.structure, h.cle))
    ledger.structures = _structures(ledger.lignes)
    ledger.findings = sort_findings(findings)
    return ledger


@dataclass
class ProgrammeState:
    """The programme as its existing phases leave it: what a new phase starts from (``deliberation init``)."""

    root: Path
    info: ProgrammeInfo | None  # programme.yaml
    structures: dict  # the derived registry: key → Structure
    after: dict[str, BudgetStep]  # budget code → its step in the last phase that had it (« après », AE…)
    last: PhaseEntry | None  # the last phase replayed
    complete: bool  # False: a phase could not be read, the state stops before it
    findings: list[Finding] = field(default_factory=list)


def programme_state(root: str | Path, annexes: tuple, before: str | None = None) -> ProgrammeState:
    """Replay a programme's phases (as ``build_ledger`` does) and return the state they leave.

    ``before``: the new phase's folder name. Only the phases before it are replayed: those listed before it
    when ``programme.yaml`` lists it, those before it in name order when the phases are found by folder;
    every phase when the list does not name it (it will be added at the end).
    """
    root = Path(root)
    prog, structures, refs, findings = load_programme(root)
    if before is not None:
        if prog is not None and prog.phases:
            if before in prog.phases:
                listed = set(prog.phases[:prog.phases.index(before)])
                refs = [r for r in refs if r.nom in listed]
        else:
            refs = [r for r in refs if _natural(r.nom) < _natural(before)]
    state = _start(structures)
    complete = True
    for ref in refs:
        if not _replay(state, prog, root, ref, annexes, findings):
            complete = False
            break
    return ProgrammeState(root=root, info=prog, structures=state.structures,
                          after={code: step for code, (_, _, step) in state.after.items()},
                          last=state.previous, complete=complete, findings=sort_findings(findings))


def _structures(lines: list[LedgerLine]) -> list[StructureYear]:
    """Per structure: the year's total, per dispositif, territory and phase (lines of unknown amount left out)."""
    years: dict[str, StructureYear] = {}
    for ln in lines:
        if ln.montant is None:
            continue
        y = years.setdefault(ln.structure, StructureYear(ln.structure, ln.nom, ZERO, {}, {}, {}))
        y.total += ln.montant
        for table, key in ((y.par_dispositif, ln.dispositif), (y.par_territoire, ln.territoire),
                           (y.par_phase, ln.phase)):
            table[key or "?"] = table.get(key or "?", ZERO) + ln.montant
    return sorted(years.values(), key=lambda y: (y.nom.lower(), y.structure))


# ---------------------------------------------------------------------------
# the ledger as data (``ledger --json``) and as tables


def _s(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(cents(value)) if isinstance(value, Decimal) else str(value)


def _p(value: tuple[dt.date, dt.date] | None) -> list[str] | None:
    return None if value is None else [value[0].isoformat(), value[1].isoformat()]


def ledger_to_data(ledger: Ledger) -> dict:
    """The ledger as plain data, amounts as strings (``ledger --json``, tests)."""
    return {
        "programme": {"annee": ledger.annee, "intitule": ledger.intitule},
        "phases": [{"nom": p.nom, "numero": p.numero, "date": _s(p.date), "deliberation": p.deliberation}
                   for p in ledger.phases],
        "budget": [{"phase": b.phase, "code": b.code, "libelle": b.libelle, "imputation": b.imputation,
                    "ae": _s(b.ae), "disponible": _s(b.disponible), "attendu": _s(b.attendu),
                    "ajustement": _s(b.ajustement), "motif": b.motif, "proposition": _s(b.proposition),
                    "apres": _s(b.apres)} for b in ledger.budget],
        "conventions": [{
            "structure": h.structure, "nom": h.nom, "cle": h.cle, "numero": h.numero, "origine": h.origine,
            "montant_initial": _s(h.montant_initial), "periode_initiale": _p(h.periode_initiale),
            "avenants_anterieurs": h.avenants_anterieurs,
            "avenants": [{"numero": a.numero, "phase": a.phase, "date": _s(a.date), "deliberation": a.deliberation,
                          "montant": _s(a.montant), "plafond": _s(a.plafond), "periode": _p(a.periode)}
                         for a in h.avenants],
            "plafond": _s(h.plafond), "periode": _p(h.periode)} for h in ledger.conventions],
        "structures": [{"structure": y.structure, "nom": y.nom, "total": _s(y.total),
                        "par_dispositif": {k: _s(v) for k, v in sorted(y.par_dispositif.items())},
                        "par_territoire": {k: _s(v) for k, v in sorted(y.par_territoire.items())},
                        "par_phase": {k: _s(v) for k, v in y.par_phase.items()}} for y in ledger.structures],
        "constats": [{"code": f.code, "gravite": f.severity.value, "message": f.message, "lieu": str(f.loc)}
                     for f in ledger.findings],
    }


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths, strict=True))).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def _m(value: Decimal | None) -> str:
    return "" if value is None else plain(money(value))


def _d(value: dt.date | None) -> str:
    return "?" if value is None else value.strftime("%d/%m/%Y")


def ledger_tables(ledger: Ledger) -> str:
    """The ledger as plain-text tables: phases, budget lines, conventions, structures."""
    out = [f"PROGRAMME {ledger.annee or '?'}" + (f" — {ledger.intitule}" if ledger.intitule else "")]
    out.append("PHASES\n" + _table(["phase", "n°", "séance", "délibération"],
                                   [[p.nom, str(p.numero or "?"), _d(p.date), p.deliberation or "?"]
                                    for p in ledger.phases], set()))
    rows = [[b.code, b.phase, _m(b.ae), _m(b.attendu), _m(b.ajustement), _m(b.disponible), _m(b.proposition),
             _m(b.apres)] for b in sorted(ledger.budget, key=lambda b: (b.code, _index(ledger, b.phase)))]
    out.append("LIGNES BUDGÉTAIRES (par ligne, dans l'ordre des phases)\n" + _table(
        ["code opération", "phase", "AE", "laissé + ajust.", "ajustement", "disponible", "proposition", "après"],
        rows, {2, 3, 4, 5, 6, 7}))
    motifs = [f"  {b.code}, {b.phase} : ajustement {_m(b.ajustement)} — {b.motif or '(sans motif)'}"
              for b in ledger.budget if b.ajustement is not None]
    if motifs:
        out[-1] += "\n" + "\n".join(motifs)
    rows = []
    for h in ledger.conventions:
        origin = f"créée en {h.origine}" if h.origine else "initiale"
        rows.append([h.nom, h.numero or "(à compléter)", origin, "", _m(h.montant_initial), _m(h.montant_initial),
                     _d(h.periode_initiale[1]) if h.periode_initiale else "?"])
        for a in h.avenants:
            rows.append(["", "", f"avenant n°{a.numero}", a.phase, _m(a.montant), _m(a.plafond),
                         _d(a.periode[1]) if a.periode else "?"])
    out.append("CONVENTIONS (plafond et fin après chaque acte)\n" + _table(
        ["structure", "convention", "acte", "phase", "montant", "plafond", "fin"], rows, {4, 5}))
    rows = []
    for y in ledger.structures:
        rows.append([y.nom, "total", _m(y.total)])
        rows += [["", f"phase {k}", _m(v)] for k, v in y.par_phase.items()]
        rows += [["", f"dispositif {k}", _m(v)] for k, v in sorted(y.par_dispositif.items())]
        rows += [["", f"territoire {k}", _m(v)] for k, v in sorted(y.par_territoire.items())]
    out.append("STRUCTURES (l'année)\n" + _table(["structure", "", "montant"], rows, {2}))
    return "\n\n".join(out) + "\n"


def _index(ledger: Ledger, phase: str) -> int:
    return next((i for i, p in enumerate(ledger.phases) if p.nom == phase), len(ledger.phases))
