"""The phase dossier as frozen dataclasses: the schema, declared once.

Each input field is declared with ``spec(kind, doc)``; the loader builds these objects from
YAML and every object keeps its location (``loc``) and the location of each of its fields
(``locs``), so any rule can say ``file:line``. Money is ``Decimal``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from deliberation.findings import Loc
from deliberation.schema import (
    Change,
    Choice,
    Date,
    Dec,
    Int,
    Kind,
    ListOf,
    MapOf,
    Markdown,
    Money,
    NamedOf,
    OneFigure,
    Record,
    Text,
    spec,
)

#: The nine MDS territories of the Pas-de-Calais.
TERRITOIRES = (
    "Arrageois", "Artois", "Audomarois", "Boulonnais", "Calaisis",
    "Hénin-Carvin", "Lens-Liévin", "Montreuillois", "Ternois",
)

#: Units a line's volume can be counted in.
UNITES = ("diagnostics", "places", "participants", "familles", "personnes", "jeunes")

#: The value a line's ``convention`` takes when a new convention is to be signed.
NOUVELLE = "nouvelle"

#: The conditional changes an avenant can make to a convention, in article order (see ``acts``).
CLAUSES = ("objet_convention", "duree", "cout", "obligations", "annexes")

#: Every article an avenant can have: the two fixed ones framing the conditional ``CLAUSES``.
ARTICLES = ("objet", *CLAUSES, "autres")

#: Blanks a voted model text may declare (``[[name]]``), with what each holds; the rest of its text is fixed.
MODEL_FIELDS = {
    "structure": "nom de la structure",
    "numero_convention": "numéro de la convention",
    "signature_convention": "date de signature de la convention",
    "objet_convention": "objet de la convention (tel que le registre le donne)",
    "articles_modifies": "articles modifiés (« les articles 4 et 12 »), déduits des articles de l'avenant",
    "motifs": "motifs de l'avenant (« , afin de … »), déduits de ses articles",
    "debut_convention": "premier jour de la convention",
    "fin_initiale": "dernier jour de la convention initiale",
    "fin_convention": "dernier jour de la convention, prolongation comprise",
    "montant_convention": "montant de la convention initiale",
    "cout_total": "coût total : montant de la convention et montant de la phase",
    "debut_phase": "premier jour des lignes financées par la phase (de toutes ses lignes, à défaut)",
    "fin_phase": "dernier jour des lignes financées par la phase (de toutes ses lignes, à défaut)",
    "montant_phase": "montant attribué par la phase",
    "annexe_numero": "numéro de la première annexe jointe",
    "annexe_titre": "titre de la première annexe jointe",
    "annexes": "annexes jointes (« l'annexe 2 », « les annexes 2 et 3 »)",
    "date_cp": "date de la séance de la Commission Permanente",
}


@dataclass(frozen=True)
class VotedArticle:
    """One article of a voted model text: the clause it is, its voted title and wording (``[[blanks]]`` kept)."""

    clause: str
    titre: str
    texte: str
    loc: Loc


@dataclass(frozen=True)
class VotedText:
    """The text of an avenant model as the délibération votes it (``modeles.<clé>.texte``)."""

    modele: str
    articles: tuple[VotedArticle, ...]
    loc: Loc

    @property
    def clauses(self) -> tuple[str, ...]:
        """The conditional articles the voted text has, in its order."""
        return tuple(a.clause for a in self.articles if a.clause in CLAUSES)

    def article(self, clause: str) -> VotedArticle | None:
        """The voted article for ``clause``, if the text has one."""
        return next((a for a in self.articles if a.clause == clause), None)


#: Obligations a dispositif sheet can require (each has a text in ``templates/clauses/``).
OBLIGATIONS = ("france-travail",)


@dataclass(frozen=True, kw_only=True, eq=False)
class Node:
    """Base of every model object: where it was read."""

    loc: Loc = field(default=Loc("?"), compare=False)
    locs: dict = field(default_factory=dict, compare=False, repr=False)
    #: Fields written « à compléter » (``schema.BLANK``): absent, and already reported as such.
    blanks: frozenset = field(default=frozenset(), compare=False, repr=False)

    def at(self, name: str) -> Loc:
        """Location of field ``name`` (falls back to the object's location)."""
        return self.locs.get(name, self.loc)


# ---------------------------------------------------------------------------
# shared pieces


@dataclass(frozen=True, kw_only=True, eq=False)
class Periode(Node):
    """A period of execution, both ends included."""

    debut: dt.date | None = spec(Date(), "Premier jour de la période.")
    fin: dt.date | None = spec(Date(), "Dernier jour de la période (inclus).")


@dataclass(frozen=True, kw_only=True, eq=False)
class Volume(Node):
    """A committed volume: a number and its unit."""

    nombre: Decimal | None = spec(Dec(), "Nombre (diagnostics, places…).")
    unite: str | None = spec(Choice(*UNITES), "Unité : " + ", ".join(UNITES) + ".")


#: Keys a declared figure can use, with the kind of its value.
ANNONCE_KINDS: dict[str, Kind] = {
    "montant": Money(),
    "lignes": Int(),
    "structures": Int(),
    "dispositifs": Int(),
    "etp": Dec(),
    "proposition": Money(),
    "solde": Money(),
    "disponible": Money(),
    "periode": Record(Periode),
    **{u: Dec() for u in UNITES},
}


@dataclass(frozen=True, kw_only=True, eq=False)
class Annonce(Node):
    """A figure the texts declare (« 4 783 diagnostics »), checked like a balance assertion.

    Written as ``{montant: 59 220, source: "Délibération, article 3"}``: exactly one figure key
    (``montant``, ``lignes``, ``structures``, ``dispositifs``, ``etp``, ``proposition``,
    ``solde``, ``disponible``, ``periode`` or a volume unit) and where the text states it.
    """

    quoi: str = ""
    valeur: object = None
    source: str | None = None


ANNONCES = ListOf(OneFigure(ANNONCE_KINDS, Annonce))
ANNONCES_DOC = "Chiffres annoncés par les textes pour ce périmètre, contrôlés contre les chiffres calculés."


# ---------------------------------------------------------------------------
# séance, délibération, rapport


@dataclass(frozen=True, kw_only=True, eq=False)
class Vote(Node):
    """The vote figures and the groups behind them."""

    pour: int | None = spec(Int(), "Voix pour.")
    pour_groupes: tuple = spec(ListOf(Text()), "Groupes ayant voté pour.", required=False, default=())
    contre: int | None = spec(Int(), "Voix contre.")
    contre_groupes: tuple = spec(ListOf(Text()), "Groupes ayant voté contre.", required=False, default=())
    abstention: int | None = spec(Int(), "Abstentions.")
    abstention_groupes: tuple = spec(ListOf(Text()), "Groupes abstentionnistes.", required=False, default=())
    absents_sans_delegation: int | None = spec(Int(), "Absents sans délégation de vote.")
    absents_groupes: tuple = spec(ListOf(Text()), "Groupes des absents.", required=False, default=())
    resultat: str | None = spec(Choice("Adopté", "Rejeté"), "Issue du vote.")


@dataclass(frozen=True, kw_only=True, eq=False)
class Signataire(Node):
    """Someone who signs: quality and name."""

    qualite: str | None = spec(Text(), "Qualité (« La Directrice générale des services »).")
    nom: str | None = spec(Text(), "Prénom et NOM.")


MEMBRE = Text(max_len=120, pattern=r"(M\.|Mme) \S.*", hint="(« M. Prénom NOM » ou « Mme Prénom NOM »)")


@dataclass(frozen=True, kw_only=True, eq=False)
class Seance(Node):
    """The meeting of the Commission Permanente."""

    date: dt.date | None = spec(Date(), "Date de la réunion.")
    lieu: str | None = spec(Text(), "Ville de signature (« ARRAS »).")
    president: str | None = spec(MEMBRE, "Président de séance (« M. Jean-Claude LEROY »).")
    secretaire: str | None = spec(MEMBRE, "Secrétaire de séance.")
    presents: tuple = spec(ListOf(MEMBRE), "Membres présents.")
    excuses: tuple = spec(ListOf(MEMBRE), "Membres excusés.", required=False, default=())
    absents: tuple = spec(ListOf(MEMBRE), "Membres absents.", required=False, default=())
    presents_sans_voix: tuple = spec(
        ListOf(MEMBRE), "Assistant également sans voix délibérative.", required=False, default=()
    )
    excuses_sans_voix: tuple = spec(
        ListOf(MEMBRE), "Excusés sans voix délibérative.", required=False, default=()
    )
    interesses: tuple = spec(
        ListOf(MEMBRE), "Membres « intéressés à l'affaire » (ne prennent pas part au vote).", required=False,
        default=(),
    )
    interesses_excuses: tuple = spec(
        ListOf(MEMBRE),
        "Intéressés que le texte transcrit dit « intéressés à l'affaire et excusés » (relevé : le moteur déduit "
        "l'état de chacun des listes ; chacun doit figurer parmi les excusés).",
        required=False, default=(),
    )
    vote: Vote | None = spec(Record(Vote), "Résultat du vote.")
    president_signature: Signataire | None = spec(Record(Signataire), "Le Président qui signe l'acte.")
    signature_delegation: Signataire | None = spec(
        Record(Signataire), "Signature « Pour le Président » (DGS).", required=False
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Commission(Node):
    """A thematic commission consulted before the séance."""

    numero: int | None = spec(Int(), "Numéro de la commission (1, 2…).")
    nom: str | None = spec(Text(), "Nom (« Solidarités humaines »).")
    date: dt.date | None = spec(Date(), "Date de la réunion de la commission.")
    avis: str | None = spec(Choice("favorable", "défavorable", "réservé"), "Avis rendu.")


#: Natures of an act in the @ctes classification (code → label).
NATURES_ACTES = {
    "1": "Délibérations", "2": "Actes réglementaires", "3": "Actes individuels",
    "4": "Contrats, conventions et avenants", "5": "Documents budgétaires et financiers", "6": "Autres",
}


@dataclass(frozen=True, kw_only=True, eq=False)
class ActesInfo(Node):
    """How the act is classified for its transmission to the préfecture (@ctes, checked by ``check --actes``)."""

    nature: str | None = spec(
        Text(max_len=60),
        "Nature de l'acte @ctes, code ou libellé : " + " ; ".join(f"{k} {v}" for k, v in NATURES_ACTES.items()) + ".",
        required=False,
    )
    matiere: str | None = spec(
        Text(max_len=20), "Matière, code de la classification @ctes (« 7.5 » : Finances locales, Subventions).",
        required=False,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class DeliberationInfo(Node):
    """The act: number, title, visas."""

    numero: str | None = spec(
        Text(max_len=40, pattern=r"\w(?:[\w./ -]*\w)?", hint="(« 2024-587 » : lettres, chiffres, - / . _ espace)"),
        "Numéro de la délibération (« 2024-587 ») ; transmis à @ctes en majuscules, séparateurs changés en « _ ».",
    )
    titre: str | None = spec(Text(), "Titre de l'acte, transmis à @ctes comme objet (1 à 499 caractères, une ligne).")
    actes: ActesInfo | None = spec(
        Record(ActesInfo), "Classification @ctes de l'acte : nature et matière (exigée par check --actes et --final).",
        required=False,
    )
    visas: tuple = spec(ListOf(Text()), "Les « Vu … », dans l'ordre.")
    modele_type_convention: str | None = spec(
        Text(), "Référence du modèle type de convention (« adopté par la Commission Permanente du 12 juin 2023 »).",
        required=False,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Rapport(Node):
    """The Président's report."""

    numero: int | None = spec(Int(minimum=1), "Numéro du rapport (36).")
    pole: str | None = spec(Text(), "Pôle (« Pôle Solidarités »).")
    direction: str | None = spec(Text(), "Direction.")
    mission: str | None = spec(Text(), "Mission.", required=False)
    territoires: str | None = spec(Text(), "Territoire(s) concerné(s).")
    cantons: str | None = spec(Text(), "Canton(s).")
    epci: str | None = spec(Text(), "EPCI(s).")
    introduction: str | None = spec(Markdown(), "Texte d'introduction (Markdown).")
    instruction: str | None = spec(
        Text(), "Début de la phrase de proposition (« Suite à l'instruction de dossiers relatifs aux … »).",
        required=False,
    )
    rapport_cadre: dt.date | None = spec(
        Date(), "Date de la CP du rapport cadre détaillant les dispositifs (17 juin 2024).", required=False
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class AnnexeConvention(Node):
    """An annex sheet attached to an existing convention."""

    numero: int | None = spec(Int(minimum=1), "Numéro de l'annexe dans la convention.")
    titre: str | None = spec(Text(), "Titre de l'annexe.")
    dispositif: str | None = spec(
        Text(), "Code du dispositif que décrit l'annexe (absent : un dispositif qui n'existe plus).", required=False
    )
    montant: Decimal | None = spec(
        Money(), "Part du montant de la convention portée par cette annexe, en euros (quand la convention a "
        "plusieurs annexes : les parts s'additionnent au montant de la convention).", required=False,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Modele(Node):
    """A document model lines can point at: an avenant model or a convention type."""

    id: str = ""
    type: str | None = spec(Choice("avenant", "convention"), "avenant ou convention.")
    titre: str | None = spec(Text(), "Titre du modèle.")
    clauses: tuple = spec(
        ListOf(Choice(*CLAUSES)),
        "Modifications que fait ce modèle d'avenant (" + ", ".join(CLAUSES) + ") ; l'objet de l'avenant et "
        "les autres dispositions sont toujours présents.",
        required=False,
    )
    dispositifs: tuple = spec(
        ListOf(Text()), "Codes des dispositifs dont la fiche est jointe au modèle, dans l'ordre des annexes.",
        required=False,
    )
    annexes_initiales: tuple = spec(
        ListOf(Record(AnnexeConvention)),
        "Annexes de la convention initiale que le modèle modifie ou remplace.", required=False,
    )
    numero: int | None = spec(
        Int(minimum=1), "Numéro propre du modèle (« Modèle d'avenant n°10 » : 10), qui peut différer de son numéro "
        "d'annexe dans la délibération.", required=False,
    )
    texte: str | None = spec(
        Text(), "Texte voté du modèle, chemin relatif au dossier (« modeles/avenant-10.md ») : ses phrases fixes "
        "et ses blancs déclarés `[[champ]]` ; chaque acte signé sous ce modèle lui est comparé mot à mot.",
        required=False,
    )
    fusion: tuple = spec(
        ListOf(Text()), "Modèles que ce modèle peut rejoindre dans un même avenant (clés) : un avenant qui cite "
        "deux modèles sans cette déclaration est une erreur.", required=False, default=(),
    )
    acte: str | None = spec(
        Text(), "L'annexe est l'acte rempli d'une structure (« pdc-actif/2024-01213 » : structure/convention) : "
        "la délibération vote ce texte, identique à l'acte produit dans actes/.", required=False,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Attribuant(Node):
    """The body that grants the subsidies, as open data names it (SCDL « Subventions »)."""

    nom: str | None = spec(Text(), "Nom officiel (« Département du Pas-de-Calais »).")
    siret: str | None = spec(Text(max_len=40), "SIRET (14 chiffres ; clés de contrôle du SIREN et du SIRET, "
                                                "La Poste à part).", required=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class PhaseInfo(Node):
    """``phase.yaml``: the phase, its séance, its act and its report."""

    annee: int | None = spec(Int(minimum=2000), "Année de l'appel à projets (2024).")
    numero: int | None = spec(Int(minimum=1), "Numéro de la phase (6).")
    intitule: str | None = spec(Text(), "Intitulé (« APPELS À PROJETS … 2024-PHASE 6 »).")
    departement: str | None = spec(Text(), "« DEPARTEMENT DU PAS-DE-CALAIS ».")
    seance: Seance | None = spec(Record(Seance), "La réunion de la Commission Permanente.")
    deliberation: DeliberationInfo | None = spec(Record(DeliberationInfo), "L'acte.")
    rapport: Rapport | None = spec(Record(Rapport), "Le rapport du Président.")
    commissions: tuple = spec(ListOf(Record(Commission)), "Commissions consultées et leurs avis.")
    modeles: dict = spec(MapOf(Modele), "Modèles de documents à signer (clé → modèle).", required=False, default={})
    signataire_actes: Signataire | None = spec(
        Record(Signataire),
        "Qui signe les avenants et conventions pour le Département, par délégation "
        "(« La Directrice des Politiques d'Inclusion Durable », « Sabine DESPIERRE »).",
        required=False,
    )
    attribuant: Attribuant | None = spec(
        Record(Attribuant),
        "La collectivité qui attribue les subventions, pour les données ouvertes (`deliberation export scdl`) : "
        "nom officiel et SIRET.",
        required=False,
    )
    alias_territoires: dict = spec(
        NamedOf(ListOf(Choice(*TERRITOIRES)), "un dictionnaire alias → territoires",
                "territoires couverts par l'alias"),
        "Noms de territoire admis en plus des neuf MDS (nom → territoires couverts).",
        required=False, default={},
    )
    annonces: tuple = spec(ANNONCES, "Chiffres annoncés pour toute la phase.", required=False, default=())


# ---------------------------------------------------------------------------
# budget


@dataclass(frozen=True, kw_only=True, eq=False)
class LigneBudgetaire(Node):
    """A budget line: code opération, imputation, AE and disponible."""

    code: str | None = spec(
        Text(pattern=r"[A-Z]\d{2}-\d{3}[A-Z]\d{2}", hint="(« C02-446A05 »)"), "Code opération (« C02-446A05 »)."
    )
    imputation: str | None = spec(
        Text(pattern=r"\d{3,6}/\d{3,6}", hint="(« 6568/93446 »)"), "Imputation budgétaire (« 6568/93446 »)."
    )
    libelle: str | None = spec(Text(), "Libellé opération.")
    ae: Decimal | None = spec(Money(), "Autorisation d'engagement (AE), en euros.")
    disponible: Decimal | None = spec(Money(), "Disponible avant cette phase, en euros.")
    ajustement: Decimal | None = spec(
        Money(), "Dans un programme : écart déclaré entre le disponible de la phase et ce que la phase "
        "précédente a laissé (situation budgétaire du logiciel financier : crédits ajoutés, engagements annulés, "
        "autre consommation), en euros, négatif s'il réduit le disponible.", required=False)
    motif: str | None = spec(Text(), "Raison de l'ajustement (« engagement 2024 annulé », « virement de crédits »).",
                             required=False)
    annonces: tuple = spec(ANNONCES, ANNONCES_DOC, required=False, default=())


@dataclass(frozen=True, kw_only=True, eq=False)
class Budget(Node):
    """``budget.yaml``."""

    lignes: tuple = spec(ListOf(Record(LigneBudgetaire)), "Les lignes budgétaires de la phase.")


# ---------------------------------------------------------------------------
# thématiques, opérations, lignes


@dataclass(frozen=True, kw_only=True, eq=False)
class EcritLigne(Node):
    """A line's texts as the transcribed act prints them: read by the checks, never printed by the engine."""

    structure: str | None = spec(
        Text(), "Nom de la structure tel qu'écrit sur la ligne (« ADEFI - Pheforme »).", required=False
    )
    document: str | None = spec(Text(), "Document tel qu'écrit (« Avenant amencé n°10 »).", required=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class EcritOperation(Node):
    """An opération's texts as the transcribed act prints them: read by the checks, never printed."""

    titre: str | None = spec(
        Text(), "Titre de l'opération tel qu'écrit dans l'annexe 4 (« Ymatisation des parcours… »).",
        required=False,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Ligne(Node):
    """One funding decision: a structure, on a territory, for a period and an amount."""

    id: str | None = spec(
        Text(pattern=r"[a-z0-9][a-z0-9._-]{0,80}", hint="(minuscules, chiffres, . _ -)"),
        "Identifiant unique dans la phase (« t1-o2-mempa-ple »).",
    )
    territoire: str | None = spec(Text(), "Territoire MDS ou alias déclaré.")
    structure: str | None = spec(Text(), "Clé de la structure dans structures.yaml.")
    convention: str | None = spec(
        Text(), "Clé de la convention existante de la structure, ou « nouvelle » pour une nouvelle convention."
    )
    nature: str | None = spec(
        Choice("valorisation", "financement", "mixte"),
        "valorisation (0 €, ETP déjà financés), financement (> 0 €) ou mixte (valorisation + financement).",
    )
    etp: Decimal | None = spec(Dec(), "ETP de la ligne.", required=False)
    etp_valorises: Decimal | None = spec(
        Dec(), "Pour une ligne mixte : part des ETP valorisés (sans financement).", required=False
    )
    volume: Volume | None = spec(Record(Volume), "Volume engagé (nombre et unité).", required=False)
    periode: Periode | None = spec(Record(Periode), "Période d'exécution.")
    montant: Decimal | None = spec(Money(), "Montant retenu, en euros (0 pour une valorisation).")
    document: str | None = spec(Text(), "Clé du modèle de document à signer (voir phase.yaml, modeles).")
    description: str | None = spec(Text(), "Description de l'action (colonne de l'annexe 4).")
    ecrit: EcritLigne | None = spec(
        Record(EcritLigne), "Textes de la ligne tels qu'imprimés dans l'acte transcrit, quand ils diffèrent.",
        required=False,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Operation(Node):
    """An opération of a thématique: a dispositif on one budget line."""

    numero: int | None = spec(Int(minimum=1), "Numéro de l'opération dans la thématique.")
    titre: str | None = spec(Text(), "Titre (« Dynamisation des parcours : accueil des BRSA »).")
    dispositif: str | None = spec(
        Text(pattern=r"\d{1,2}\.\d{1,2}", hint="(« 1.1 »)"),
        "Code du dispositif (fiche dans deliberation/annexes/dispositifs/ ou dispositifs/ du dossier).",
        required=False,
    )
    budget: str | None = spec(Text(), "Code opération de la ligne budgétaire imputée.")
    narrative: str | None = spec(Markdown(), "Présentation de l'opération (Markdown).")
    lignes: tuple = spec(ListOf(Record(Ligne)), "Les lignes de financement.")
    annonces: tuple = spec(ANNONCES, ANNONCES_DOC, required=False, default=())
    ecrit: EcritOperation | None = spec(
        Record(EcritOperation), "Textes de l'opération tels qu'imprimés dans l'acte transcrit, quand ils diffèrent.",
        required=False,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Thematique(Node):
    """A thématique of the call for projects (one file in ``thematiques/``)."""

    numero: int | None = spec(Int(minimum=1), "Numéro de la thématique (1, 3, 4…).")
    titre: str | None = spec(Text(), "Titre de la thématique.")
    narrative: str | None = spec(Markdown(), "Introduction de l'annexe narrative (Markdown).", required=False)
    operations: tuple = spec(ListOf(Record(Operation)), "Les opérations.")
    annonces: tuple = spec(ANNONCES, ANNONCES_DOC, required=False, default=())


# ---------------------------------------------------------------------------
# registry of structures


@dataclass(frozen=True, kw_only=True, eq=False)
class Representant(Node):
    """Who signs for the structure."""

    civilite: str | None = spec(Choice("M.", "Mme"), "M. ou Mme.", required=False)
    nom: str | None = spec(Text(), "Prénom et NOM.", required=False)
    qualite: str | None = spec(Text(), "Qualité (« Présidente »).", required=False)
    habilitation: str | None = spec(
        Text(), "Habilitation (« dûment autorisée par délibération en date du 1er octobre 2021 »).", required=False
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class VersementConvention(Node):
    """An instalment already set by the convention (avance, paiement intermédiaire…)."""

    libelle: str | None = spec(Text(), "Libellé (« avance versée dès signature de la convention »).")
    montant: Decimal | None = spec(Money(), "Montant, en euros.")


DECISION = Choice("oui", "non")


@dataclass(frozen=True, kw_only=True, eq=False)
class Decisions(Node):
    """Explicit decisions for the avenant's conditional articles, where the data cannot decide."""

    objet_convention: str | None = spec(DECISION, "Réécrire l'article 1 (objet) : oui ou non.", required=False)
    duree: str | None = spec(DECISION, "Modifier l'article 3 (période) : oui ou non.", required=False)
    cout: str | None = spec(DECISION, "Modifier l'article 4 (coût) : oui ou non.", required=False)
    obligations: str | None = spec(DECISION, "Compléter l'article 8-1 (obligations) : oui ou non.", required=False)
    annexes: str | None = spec(DECISION, "Modifier l'article 12 (annexes) : oui ou non.", required=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class Convention(Node):
    """An existing convention of a structure."""

    id: str = ""
    numero: str | None = spec(
        Text(pattern=r"\d{4}-\d{3,6}", hint="(« 2024-01213 »)"), "Numéro (« 2024-01213 »).", required=False
    )
    objet: str | None = spec(Text(), "Objet de la convention.", required=False)
    signature: dt.date | None = spec(Date(), "Date de signature.", required=False)
    periode: Periode | None = spec(Record(Periode), "Période couverte.", required=False)
    montant: Decimal | None = spec(Money(), "Montant maximum de la convention.", required=False)
    annexes: tuple = spec(ListOf(Record(AnnexeConvention)), "Annexes de la convention.", required=False, default=())
    avenants: int | None = spec(
        Int(minimum=0), "Nombre d'avenants déjà signés (le prochain porte le numéro suivant).", required=False
    )
    versements: tuple = spec(
        ListOf(Record(VersementConvention)), "Échéancier fixé par la convention, en montants.", required=False
    )
    clauses: Decisions | None = spec(
        Record(Decisions), "Décisions explicites sur les articles de l'avenant que les données ne tranchent pas.",
        required=False,
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Structure(Node):
    """A funded structure (association, CCAS, PLIE, GIP…)."""

    id: str = ""
    nom: str | None = spec(Text(), "Nom usuel (colonne « Structure » de l'annexe 4).")
    article: str | None = spec(
        Choice("le", "la", "l'", "les", "aucun"),
        "Article devant le nom dans une phrase (« la » : « entre le Département et la Maison de l'emploi », « pour la "
        "Maison de l'emploi ») ; « aucun » pour un nom propre (« Pas-de-Calais Actif »). Absent : le nom seul.",
        required=False,
    )
    raison_sociale: str | None = spec(Text(), "Dénomination légale.", required=False)
    forme_juridique: str | None = spec(Text(), "Forme juridique (« Groupement d'intérêt public »).", required=False)
    siege: str | None = spec(Text(), "Adresse du siège.", required=False)
    siret: str | None = spec(Text(max_len=40), "SIRET (14 chiffres ; clés de contrôle du SIREN et du SIRET, "
                                                "La Poste à part).", required=False)
    representant: Representant | None = spec(Record(Representant), "Représentant légal.", required=False)
    conventions: dict = spec(MapOf(Convention), "Conventions en cours (clé → convention).", required=False, default={})


@dataclass(frozen=True, kw_only=True, eq=False)
class Registre(Node):
    """``structures.yaml``."""

    structures: dict = spec(MapOf(Structure), "Les structures (clé → structure).")


# ---------------------------------------------------------------------------
# the whole dossier


@dataclass(frozen=True, kw_only=True, eq=False)
class Dossier(Node):
    """A phase dossier: the folder, loaded."""

    root: str = ""
    info: PhaseInfo | None = None
    budget: tuple = ()
    thematiques: tuple = ()
    structures: dict = field(default_factory=dict)
    files: tuple = ()
    amendements: tuple = ()  # as loaded from amendements.yaml (adopted or not)
    textes_modeles: dict = field(default_factory=dict)  # model key → VotedText (``modeles.<clé>.texte``)

    def operations(self):
        """Yield ``(thematique, operation)`` pairs in order."""
        for t in self.thematiques:
            for o in t.operations:
                yield t, o

    def lignes(self):
        """Yield ``(thematique, operation, ligne)`` triples in order."""
        for t, o in self.operations():
            for ligne in o.lignes:
                yield t, o, ligne


# ---------------------------------------------------------------------------
# a programme: the phases of one call-for-projects year (programme.yaml, issue 22)


@dataclass(frozen=True, kw_only=True, eq=False)
class ProgrammeInfo(Node):
    """``programme.yaml``: one call-for-projects year, whose phases are the sub-folders named here."""

    annee: int | None = spec(Int(minimum=2000), "Année de l'appel à projets (chaque phase a la même).")
    intitule: str | None = spec(Text(), "Intitulé du programme (« APPELS À PROJETS … 2025 »).", required=False)
    phases: tuple = spec(
        ListOf(Text(pattern=r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,80}", hint="(« phase-2 »)")),
        "Les sous-dossiers des phases, dans l'ordre des séances. Absent : les sous-dossiers qui ont un "
        "phase.yaml, dans l'ordre de leur numéro.", required=False)


# ---------------------------------------------------------------------------
# dispositif sheets (front matter of annexes/dispositifs/*.md)


@dataclass(frozen=True, kw_only=True, eq=False)
class Ratio(Node):
    """Volume per ETP the sheet expects; outside the range is a warning."""

    unite: str | None = spec(Choice(*UNITES), "Unité du volume (places, diagnostics…).")
    min_par_etp: Decimal | None = spec(Dec(), "Volume minimum par ETP.", required=False)
    max_par_etp: Decimal | None = spec(Dec(), "Volume maximum par ETP.", required=False)
    source: str | None = spec(Text(), "Phrase de la fiche qui fixe ce ratio.", required=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class Plafond(Node):
    """A ceiling the sheet sets; above it is an error."""

    unite: str | None = spec(Choice(*UNITES), "Unité pour un plafond par unité et par mois.", required=False)
    par_mois: Decimal | None = spec(Money(), "Montant maximum par unité et par mois.", required=False)
    par_etp_an: Decimal | None = spec(Money(), "Montant maximum par ETP et par an.", required=False)
    source: str | None = spec(Text(), "Phrase de la fiche qui fixe ce plafond.", required=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class Versement(Node):
    """One instalment of the payment schedule, as a percentage of the amount."""

    libelle: str | None = spec(Text(), "Libellé (« avance à la signature »).")
    pourcentage: Decimal | None = spec(Dec(), "Part du montant, en %.")


@dataclass(frozen=True, kw_only=True, eq=False)
class Dispositif(Node):
    """A dispositif sheet: its code, title and funding rules (parameters as data)."""

    code: str | None = spec(Text(pattern=r"\d{1,2}\.\d{1,2}", hint="(« 1.1 »)"), "Code du dispositif.")
    titre: str | None = spec(Text(), "Titre de la fiche.")
    ratios: tuple = spec(ListOf(Record(Ratio)), "Ratios volume / ETP.", required=False, default=())
    plafonds: tuple = spec(ListOf(Record(Plafond)), "Plafonds de financement.", required=False, default=())
    versements: tuple = spec(ListOf(Record(Versement)), "Échéancier de versement.", required=False, default=())
    obligations: tuple = spec(
        ListOf(Choice(*OBLIGATIONS)),
        "Obligations que la fiche impose à l'organisme (l'avenant complète alors l'article 8-1).", required=False,
    )
    source: str | None = spec(Text(), "Document source de la fiche.", required=False)
    corps: str = ""
    corps_ligne: int = 1


# ---------------------------------------------------------------------------
# clause texts (front matter of templates/clauses/*.md)


#: A template's status: the text the Département adopted, or a reconstruction written for the engine.
STATUTS = ("adopté", "reconstitution")


@dataclass(frozen=True, kw_only=True, eq=False)
class ClauseText(Node):
    """An article of an avenant as lawyers write it: heading, article it modifies, motive, visa."""

    titre: str | None = spec(Text(), "Titre de l'article (« Coût de l'opération »).")
    modifie: int | None = spec(
        Int(minimum=1), "Article de la convention initiale que la clause modifie (cité à l'article 1).", required=False
    )
    motif: str | None = spec(Text(), "Motif cité à l'article 1 (« de prolonger sa durée »).", required=False)
    visa: str | None = spec(Text(), "Visa ajouté quand la clause est présente (« la loi du … ; »).", required=False)
    statut: str | None = spec(Choice(*STATUTS),
                              "adopté (le texte que le Département a adopté) ou reconstitution (écrit pour le moteur, "
                              "à remplacer) ; absent : tenu pour une reconstitution.", required=False)
    reference: str | None = spec(Text(), "La délibération qui adopte le texte, ou ce dont il est reconstitué.",
                                 required=False)
    parties: str | None = spec(Text(), "Les parties reconstituées, quand ce n'est pas tout le texte.", required=False)
    corps: str = ""
    corps_ligne: int = 1


@dataclass(frozen=True, kw_only=True, eq=False)
class TemplateStatus(Node):
    """Whether a template is the text the Département adopted, or a reconstruction (``statuts.yaml``, headers)."""

    id: str = ""
    statut: str | None = spec(Choice(*STATUTS), "adopté (le texte adopté) ou reconstitution (à remplacer).")
    reference: str | None = spec(Text(), "La délibération qui l'adopte, ou ce dont il est reconstitué.",
                                 required=False)
    parties: str | None = spec(Text(), "Les parties reconstituées, quand ce n'est pas tout le texte.", required=False)


@dataclass(frozen=True, kw_only=True, eq=False)
class Statuts(Node):
    """``templates/statuts.yaml``: the status of each Word template, by file (clause texts: in their header)."""

    modeles: dict = spec(MapOf(TemplateStatus), "Modèle Word (« convention.docx ») → statut.",
                         required=False, default={})


# ---------------------------------------------------------------------------
# amendments (amendements.yaml)

#: What each amendment target lets one change (the other fields are the dossier's structure).
AMENDABLE = {
    "ligne": ("territoire", "structure", "convention", "nature", "etp", "etp_valorises", "volume", "periode",
              "montant", "document", "description"),
    "operation": ("titre", "dispositif", "budget", "narrative"),
    "structure": ("nom", "raison_sociale", "forme_juridique", "siege", "siret", "representant"),
    "convention": ("numero", "objet", "signature", "periode", "montant", "annexes", "avenants", "versements",
                   "clauses"),
}

#: The keys a modification names its target with.
TARGETS = ("ligne", "operation", "structure", "convention")

@dataclass(frozen=True, kw_only=True, eq=False)
class Modification(Node):
    """One change an amendment makes: a target, then new values, a withdrawal or an added line.

    Written flat: ``{ligne: t1-o3-pdc-actif, montant: "70 000"}``, ``{ligne: …, retrait: oui}``,
    ``{operation: "1.2", ajout: {id: …, …}}``, ``{structure: pdc-actif, siret: …}`` or
    ``{structure: pdc-actif, convention: 2024-01213, montant: …}``. The location of each new
    value is kept in ``locs`` under its field name, so findings point into ``amendements.yaml``.
    """

    cible: str = ""  # ligne, operation, structure or convention
    ligne: str | None = None
    operation: str | None = None  # « 1.2 » : thématique 1, opération 2
    structure: str | None = None
    convention: str | None = None
    retrait: bool = False
    ajout: Ligne | None = None
    valeurs: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The target as a reader names it (« ligne t1-o3-pdc-actif »)."""
        if self.cible == "convention":
            return f"convention {self.convention} de la structure {self.structure}"
        return f"{'opération' if self.cible == 'operation' else self.cible} {getattr(self, self.cible)}"


@dataclass(frozen=True, kw_only=True, eq=False)
class Amendement(Node):
    """An amendment put to the vote in séance: numbered, dated, with its object and its changes."""

    numero: int | None = spec(Int(minimum=1), "Numéro de l'amendement (1, 2…), dans l'ordre d'application.")
    date: dt.date | None = spec(Date(), "Date de dépôt ou d'adoption (au plus tard le jour de la séance).")
    objet: str | None = spec(Text(max_len=499), "Objet (« Réduction du financement de Pas-de-Calais Actif »).")
    auteur: str | None = spec(Text(), "Auteur (« Le Président », « le groupe … »).", required=False)
    sort: str | None = spec(
        Choice("adopté", "rejeté", "retiré"), "Sort de l'amendement ; seuls les amendements adoptés s'appliquent.",
        required=False, default="adopté",
    )
    modifications: tuple = spec(
        ListOf(Change(TARGETS, AMENDABLE, {"ligne": Ligne, "operation": Operation, "structure": Structure,
                                           "convention": Convention}, Modification)),
        "Les changements, appliqués dans l'ordre. Chacun nomme une cible — `ligne: <id>`, `operation: \"1.2\"` "
        "(thématique 1, opération 2), `structure: <clé>`, ou `structure` et `convention: <clé>` — puis soit de "
        "nouvelles valeurs (`montant: \"70 000,00\"`), soit `retrait: oui` (une ligne, ou une opération avec toutes "
        "ses lignes), soit `ajout: {…}` (une ligne complète ajoutée à l'opération). Champs modifiables : "
        + " ; ".join(f"{cible} : {', '.join(champs)}" for cible, champs in AMENDABLE.items()) + ".",
    )


@dataclass(frozen=True, kw_only=True, eq=False)
class Amendements(Node):
    """``amendements.yaml``: the amendments of the phase, applied in order on top of the dossier."""

    amendements: tuple = spec(ListOf(Record(Amendement)), "Les amendements.")
