"""Load a phase dossier folder and the dispositif catalogue."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

from deliberation.findings import Finding, Loc, error
from deliberation.load.modeles import load_model_texts
from deliberation.load.yaml import convert_text, external_link, is_inside, load_record, load_records, read_text
from deliberation.model import Amendements, Budget, Dispositif, Dossier, PhaseInfo, Registre, Thematique
from deliberation.resources import programme_root
from deliberation.schema import control_message

#: The files of a dossier folder, in load order.
DOSSIER_FILES = ("phase.yaml", "budget.yaml", "structures.yaml")
#: Optional: the amendments adopted in séance, applied on top of the dossier (see ``amend``).
AMENDEMENTS_FILE = "amendements.yaml"
THEMATIQUES_DIR = "thematiques"

_FRONT = re.compile(r"\A---\n(.*?)\n---\n?(.*)\Z", re.S)


def load_dossier(root: str | Path) -> tuple[Dossier | None, list[Finding]]:
    """Load every file of a dossier; return the dossier (or None) and all findings.

    Only regular files are read; a symbolic link (file or folder) is followed only when it leads to a
    place inside the dossier: anything else is a finding, and its content is never read.
    """
    root = Path(root)
    if not root.is_dir():
        return None, [error("dossier.introuvable", f"dossier introuvable : {root}", Loc(str(root)))]
    within = os.path.realpath(root)
    findings: list[Finding] = []
    tdir = root / THEMATIQUES_DIR
    files, ff = list_files(tdir, "*.yaml", within)
    own_registry = programme_root(root) is None or os.path.lexists(root / "structures.yaml")
    # a phase of a programme without its own registry takes it from the programme (``ledger``)
    records = load_records([(root / "phase.yaml", PhaseInfo), (root / "budget.yaml", Budget),
                            *([(root / "structures.yaml", Registre)] if own_registry else []),
                            *((path, Thematique) for path in files)], within)
    (info, f1), (budget, f2), *records = records
    (registre, f3), *records = records if own_registry else [(None, []), *records]
    findings += f1 + f2 + f3
    findings += ff
    if not files and not ff:
        findings.append(error("dossier.thematiques", f"aucune thématique : {tdir}/*.yaml attendu", Loc(str(tdir))))
    thematiques = []
    for t, ft in records:
        findings += ft
        if t is not None:
            thematiques.append(t)
    amendements = ()
    if os.path.lexists(root / AMENDEMENTS_FILE):  # a link, even broken or leading out, is reported
        a, fa = load_record(root / AMENDEMENTS_FILE, Amendements, within=within)
        findings += fa
        amendements = a.amendements if a is not None else ()
    textes, fm = load_model_texts(root, info.modeles if info else {}, within)
    findings += fm
    inputs = [root / n for n in (*DOSSIER_FILES, AMENDEMENTS_FILE)] + files
    inputs += [Path(t.loc.file) for _, t in sorted(textes.items())]
    dossier = Dossier(
        root=str(root),
        info=info,
        budget=budget.lignes if budget else (),
        thematiques=tuple(sorted(thematiques, key=lambda t: (t.numero or 0, t.loc.file))),
        structures=registre.structures if registre else {},
        files=tuple(str(p) for p in inputs if is_inside(os.path.realpath(p), within) and p.exists()),
        amendements=amendements,
        textes_modeles=textes,
        loc=Loc(str(root)),
    )
    return dossier, findings


def list_files(folder: Path, pattern: str, within: str) -> tuple[list[Path], list[Finding]]:
    """The entries of ``folder`` matching ``pattern``, sorted; none and a finding if it leads out of ``within``.

    A missing folder lists nothing. Each entry is still checked when it is read (``read_text``).
    """
    if not os.path.lexists(folder):
        return [], []
    if not is_inside(os.path.realpath(folder), within):
        return [], [external_link(str(folder))]
    if not folder.is_dir():
        return [], []
    return sorted(folder.glob(pattern)), []


def load_dispositifs(*dirs: str | Path) -> tuple[dict[str, Dispositif], list[Finding]]:
    """Load dispositif sheets (Markdown with YAML front matter); later folders override earlier ones.

    A folder and its sheets may not lead, by symbolic links, out of the folder holding it (the dossier,
    for the dossier's own ``dispositifs/``); like the dossier's files, only regular files are read.
    """
    catalogue: dict[str, Dispositif] = {}
    findings: list[Finding] = []
    for d in dirs:
        d = Path(d)
        within = os.path.realpath(d.parent)
        paths, f = list_files(d, "*.md", within)
        findings += f
        for path in paths:
            sheet, f = load_sheet(path, within)
            findings += f
            if sheet is not None and sheet.code:
                catalogue[sheet.code] = sheet
    return catalogue, findings


def load_sheet(path: Path, within: str | None = None) -> tuple[Dispositif | None, list[Finding]]:
    """Load one dispositif sheet; its front matter gives the parameters, the body the text.

    ``within``: a resolved folder the sheet's links may not leave (see ``read_text``).
    """
    file = str(path)
    text, findings = read_text(path, file, within)
    if text is None:
        return None, findings
    m = _FRONT.match(text.replace("\r\n", "\n"))
    if not m:
        return None, [error("fiche.entete", "fiche sans en-tête YAML (--- … ---)", Loc(file, 1))]
    front, body = m.groups()
    # pad with blank lines so that YAML line marks are the file's own line numbers
    sheet, f = convert_text("\n" + front, Dispositif, file)
    if sheet is None:
        return None, findings + f
    body_line = front.count("\n") + 4  # first line after the closing --- (front: lines 2 to n + 1)
    for n, line in enumerate(body.split("\n"), body_line):  # a Word document cannot hold them
        if (why := control_message(line)) is not None:
            f.append(error("texte.controle", why, Loc(file, n)))
    return dataclasses.replace(sheet, corps=body, corps_ligne=body_line), findings + f
