"""References resolve (budget lines, structures, conventions, document models); no duplicates."""

from __future__ import annotations

from deliberation.findings import Finding, error, warning
from deliberation.model import NOUVELLE
from deliberation.rules import DOSSIER, ERROR, WARNING, RuleInput, rule


@rule(DOSSIER, ("ref.budget", "ref.dispositif", "ref.structure", "ref.convention", "ref.document",
                "document.avenant_sans_convention", "document.convention_existante"), (ERROR, WARNING))
def check_references(inp: RuleInput) -> list[Finding]:
    """Every code or key a line or opération uses exists, and documents fit conventions."""
    d = inp.dossier
    codes = {b.code for b in d.budget}
    modeles = d.info.modeles if d.info else {}
    out: list[Finding] = []
    for t, o in d.operations():
        if o.budget is not None and o.budget not in codes:
            msg = f"opération {t.numero}.{o.numero} : ligne budgétaire « {o.budget} » absente de budget.yaml"
            out.append(error("ref.budget", msg, o.at("budget")))
        if o.dispositif is not None and o.dispositif not in inp.dispositifs:
            msg = f"opération {t.numero}.{o.numero} : aucune fiche pour le dispositif {o.dispositif} dans annexes/"
            out.append(warning("ref.dispositif", msg, o.at("dispositif")))
    for _, _, ligne in d.lignes():
        s = d.structures.get(ligne.structure) if ligne.structure else None
        if ligne.structure is not None and s is None:
            msg = f"ligne {ligne.id} : structure « {ligne.structure} » absente de structures.yaml"
            out.append(error("ref.structure", msg, ligne.at("structure")))
        if s is not None and ligne.convention not in (None, NOUVELLE) and ligne.convention not in s.conventions:
            known = ", ".join(s.conventions) or "aucune"
            msg = (
                f"ligne {ligne.id} : convention « {ligne.convention} » inconnue pour {s.id} "
                f"(conventions connues : {known} ; ou « {NOUVELLE} »)"
            )
            out.append(error("ref.convention", msg, ligne.at("convention")))
        modele = modeles.get(ligne.document) if ligne.document else None
        if ligne.document is not None and modele is None:
            msg = f"ligne {ligne.id} : modèle de document « {ligne.document} » absent de phase.yaml (modeles)"
            out.append(error("ref.document", msg, ligne.at("document")))
        if modele is not None and ligne.convention is not None:
            if modele.type == "avenant" and ligne.convention == NOUVELLE:
                msg = f"ligne {ligne.id} : un avenant modifie une convention existante, pas une « nouvelle » convention"
                out.append(error("document.avenant_sans_convention", msg, ligne.at("document")))
            if modele.type == "convention" and ligne.convention != NOUVELLE:
                msg = (
                    f"ligne {ligne.id} : le modèle {modele.id} crée une nouvelle convention ; "
                    f"la ligne vise la convention existante « {ligne.convention} »"
                )
                out.append(error("document.convention_existante", msg, ligne.at("document")))
    return out


@rule(DOSSIER, ("ligne.doublon_id", "ligne.doublon", "thematique.doublon", "operation.doublon",
                "budget.doublon"))
def check_duplicates(inp: RuleInput) -> list[Finding]:
    """Line ids, thématique and opération numbers and budget codes are unique; no line is entered twice."""
    d = inp.dossier
    out: list[Finding] = []
    first: dict = {}
    content: dict = {}
    for t, o, ligne in d.lignes():
        if ligne.id is not None:
            if ligne.id in first:
                msg = f"identifiant de ligne « {ligne.id} » déjà utilisé ({first[ligne.id]})"
                out.append(error("ligne.doublon_id", msg, ligne.at("id")))
            else:
                first[ligne.id] = str(ligne.loc)
        key = (
            t.numero, o.numero, ligne.structure, ligne.territoire, ligne.convention, ligne.nature, ligne.etp,
            ligne.montant, ligne.description,
            (ligne.periode.debut, ligne.periode.fin) if ligne.periode else None,
        )
        if key in content:
            msg = f"ligne {ligne.id} : même contenu que la ligne {content[key][0]} ({content[key][1]})"
            out.append(error("ligne.doublon", msg, ligne.loc))
        else:
            content[key] = (ligne.id, str(ligne.loc))
    out += _unique(d.thematiques, "numero", "thematique.doublon", lambda t: f"thématique {t.numero}")
    for t in d.thematiques:
        out += _unique(t.operations, "numero", "operation.doublon", lambda o, t=t: f"opération {t.numero}.{o.numero}")
    out += _unique(d.budget, "code", "budget.doublon", lambda b: f"ligne budgétaire {b.code}")
    return out


def _unique(items, field: str, code: str, label) -> list[Finding]:
    """One finding per item whose ``field`` repeats an earlier item's, citing where the first one is."""
    first: dict = {}
    out = []
    for item in items:
        value = getattr(item, field)
        if value in first:
            out.append(error(code, f"{label(item)} définie deux fois ({first[value]})", item.at(field)))
        first.setdefault(value, str(item.loc))
    return out
