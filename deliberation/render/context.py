"""The rendering context: built in one place from the dossier, the figures and the numbering.

Templates see nothing else. Values are raw (Decimal, date, int); templates format them with
the French filters. Narratives are ``MarkdownText`` values with their ``[[figures]]`` expanded.
"""

from __future__ import annotations

from decimal import Decimal

from deliberation.acts import model_number
from deliberation.compute import Figures, Totaux
from deliberation.fmt import de_count
from deliberation.model import NOUVELLE, Dossier
from deliberation.plan import annexes
from deliberation.render.filters import liste
from deliberation.render.markdown import MarkdownText
from deliberation.text import expand, figure_values


def _md(text: str | None, t: Totaux | None) -> MarkdownText:
    text = text or ""
    return MarkdownText(expand(text, figure_values(t)) if t is not None else text)


def _sans_civilite(name: str) -> tuple[str, str]:
    civ, _, rest = name.partition(" ")
    return civ, rest


def designation(names: list[str]) -> str:
    """Name people as the act does: « Mesdames A et B ainsi que messieurs C et D »."""
    femmes = [_sans_civilite(n)[1] for n in names if n.startswith("Mme ")]
    hommes = [_sans_civilite(n)[1] for n in names if not n.startswith("Mme ")]

    def liste(items):
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " et " + items[-1]

    parts = []
    if femmes:
        parts.append(("Madame " if len(femmes) == 1 else "Mesdames ") + liste(femmes))
    if hommes:
        word = "monsieur " if len(hommes) == 1 else "messieurs "
        parts.append((word if femmes else word.capitalize()) + liste(hommes))
    return " ainsi que ".join(parts)


def interesses(names: list[str]) -> dict:
    """Wording parts for members « intéressés à l'affaire »: names, agreement, verb."""
    if not names:
        return {"noms": "", "accord": "", "verbe": ""}
    feminine = all(n.startswith("Mme ") for n in names)
    plural = len(names) > 1
    return {
        "noms": designation(names),
        "accord": ("e" if feminine else "") + ("s" if plural else ""),
        "verbe": "n'ont" if plural else "n'a",
    }


def _signing(d: Dossier, conventions: bool) -> dict:
    """Who signs what, agreed with how many: « avec la structure citée …, la convention correspondante »."""
    pairs = {(ligne.structure, ligne.convention) for _, _, ligne in d.lignes()
             if (ligne.convention == NOUVELLE) == conventions}
    structures = {s for s, _ in pairs}
    if conventions:
        actes = "la convention correspondante" if len(pairs) == 1 else "les conventions correspondantes"
    else:
        actes = "l'avenant relatif à la convention" if len(pairs) == 1 else "les avenants relatifs aux conventions"
    return {"signataires": "la structure citée" if len(structures) == 1 else "les structures citées", "actes": actes}


def _presidence(name: str) -> str:
    civ, rest = _sans_civilite(name)
    return ("MADAME " if civ == "Mme" else "MONSIEUR ") + rest.upper()


def build_context(d: Dossier, fig: Figures, effects=()) -> dict:
    """The one context every template of the bundle is rendered with.

    ``effects`` are the adopted amendments (``amend.Effect``): the délibération cites them in its visas
    and in the articles whose figures they changed. The rapport is rendered without them.
    """
    info = d.info
    touched = {e.numero: e for e in effects}
    s = info.seance
    named = list(dict.fromkeys([*s.interesses, *s.interesses_excuses])) if s is not None else []
    numbering = annexes(d)
    narrative_of = {a.thematique.numero: a.numero for a in numbering if a.kind == "narrative"}
    repartition = next(a.numero for a in numbering if a.kind == "repartition")
    modeles = [a for a in numbering if a.kind == "modele"]
    modele_numero = {a.modele.id: a.numero for a in modeles}

    thematiques = []
    for t in d.thematiques:
        tt = fig.of(t)
        operations = []
        for o in t.operations:
            ot = fig.of(o)
            lignes = []
            for i, ligne in enumerate(o.lignes):
                structure = d.structures.get(ligne.structure)
                modele = info.modeles.get(ligne.document)
                if modele is not None and modele.type == "avenant":
                    document = f"Modèle d'avenant n°{model_number(modele, modele_numero.get(modele.id))}"
                elif modele is not None:
                    document = "Convention type"
                else:
                    document = ""
                lignes.append({
                    "id": ligne.id,
                    "premiere": i == 0,
                    "territoire": ligne.territoire,
                    "structure": structure.nom if structure else ligne.structure,
                    "description": ligne.description,
                    "montant": ligne.montant,
                    "document": document,
                    "nouvelle_convention": ligne.convention == NOUVELLE,
                })
            operations.append({
                "numero": o.numero,
                "titre": o.titre,
                "dispositif": o.dispositif,
                "narrative": _md(o.narrative, ot),
                "total": ot.montant,
                "lignes": lignes,
                "structures": ot.structures,
            })
        thematiques.append({
            "numero": t.numero,
            "titre": t.titre,
            "narrative": _md(t.narrative, tt),
            "dispositifs": tt.dispositifs,
            "total": tt.montant,
            "operations": operations,
            "annexe": narrative_of[t.numero],
            "amendements": [n for n, e in touched.items() if t.numero in e.thematiques],
        })

    has_conventions = any(ligne.convention == NOUVELLE for _, _, ligne in d.lignes())
    articles = []
    for t in thematiques:
        articles.append({"numero": len(articles) + 1, "kind": "thematique", "thematique": t})
    financing = [a["numero"] for a in articles]
    if has_conventions:
        articles.append({"numero": len(articles) + 1, "kind": "conventions", **_signing(d, conventions=True)})
    if modeles:
        articles.append({"numero": len(articles) + 1, "kind": "avenants", "annexes": [a.numero for a in modeles],
                         **_signing(d, conventions=False),
                         "projets": ("du projet joint en annexe" if len(modeles) == 1
                                     else "des projets joints en annexes")})
    articles.append({"numero": len(articles) + 1, "kind": "imputation", "articles": financing,
                     "renvoi": (f"de l'article {financing[0]}" if len(financing) == 1
                                else f"des articles {liste(financing)}"),
                     "amendements": [n for n, e in touched.items() if e.budget]})

    budget = [
        {
            "code": code,
            "imputation": b.ligne.imputation,
            "libelle": b.ligne.libelle,
            "ae": b.ligne.ae,
            "disponible": b.ligne.disponible,
            "proposition": b.proposition,
            "solde": b.solde,
        }
        for code, b in fig.budget.items()
        if b.totaux.lignes
    ]
    rapport = info.rapport
    v = s.vote
    return {
        "departement": info.departement,
        "phase": {"annee": info.annee, "numero": info.numero, "intitule": info.intitule},
        "seance": {
            "date": s.date,
            "lieu": s.lieu,
            "presidence": _presidence(s.president),
            "secretaire": s.secretaire,
            "presents": list(s.presents),
            "excuses": list(s.excuses),
            "absents": list(s.absents),
            "presents_sans_voix": list(s.presents_sans_voix),
            "excuses_sans_voix": list(s.excuses_sans_voix),
            "interesses_presents": interesses([m for m in named if m in s.presents]),
            "interesses_excuses": interesses([m for m in named if m in s.excuses]),
            "interesses_absents": interesses([m for m in named if m in s.absents]),
            "vote": {
                "pour": v.pour, "pour_groupes": list(v.pour_groupes),
                "contre": v.contre, "contre_groupes": list(v.contre_groupes),
                "abstention": v.abstention, "abstention_groupes": list(v.abstention_groupes),
                "absents": v.absents_sans_delegation, "absents_groupes": list(v.absents_groupes),
                "resultat": v.resultat,
            },
            "president": {"qualite": s.president_signature.qualite, "nom": s.president_signature.nom},
            "delegation": (
                {"qualite": s.signature_delegation.qualite, "nom": s.signature_delegation.nom}
                if s.signature_delegation else None
            ),
        },
        "deliberation": {
            "numero": info.deliberation.numero,
            "titre": info.deliberation.titre,
            "visas": list(info.deliberation.visas),
            "modele_type": info.deliberation.modele_type_convention or "",
        },
        "commissions": [
            {"numero": c.numero, "nom": c.nom, "date": c.date, "avis": c.avis} for c in info.commissions
        ],
        "rapport": {
            "numero": rapport.numero,
            "pole": rapport.pole,
            "direction": rapport.direction,
            "mission": rapport.mission or "",
            "territoires": rapport.territoires,
            "cantons": rapport.cantons,
            "epci": rapport.epci,
            "introduction": _md(rapport.introduction, fig.phase),
            "instruction": rapport.instruction or "",
            "rapport_cadre": rapport.rapport_cadre,
        },
        "thematiques": thematiques,
        # « la mise en œuvre de dispositifs intervenant dans … » (seed l.967), « d'un dispositif » when there is one
        "mise_en_oeuvre": (de_count(1, "dispositif") if sum(t["dispositifs"] or 0 for t in thematiques) == 1
                           else "de dispositifs"),
        "articles": articles,
        "amendements": [
            {"numero": e.numero, "date": e.date, "objet": e.objet} for e in effects
        ],
        "budget": budget,
        "annexe_repartition": repartition,
        "annexes_modeles": [a.numero for a in modeles],
        "total": fig.phase.montant if fig.phase.montant is not None else Decimal(0),
    }
