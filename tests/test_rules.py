"""Each rule: one dossier that breaks it, and the clean fictitious dossier that passes it."""

from __future__ import annotations

import pytest

from deliberation.findings import Severity


def test_clean_fictitious_dossier_has_no_finding(fictif):
    assert fictif.check() == []


def _only(findings, code):
    hits = [f for f in findings if f.code == code]
    assert hits, f"no {code} in {[f.code for f in findings]}"
    return hits


def test_negative_amount(fictif):
    fictif.edit("thematiques/t1.yaml", '        montant: "50 000,00"', '        montant: "-50 000,00"')
    f = _only(fictif.check(), "montant.negatif")[0]
    assert f.loc.file.endswith("t1.yaml") and f.loc.line == fictif.line_of("thematiques/t1.yaml", "-50 000")
    assert "-50 000,00 €" in f.message


def test_three_decimals(fictif):
    fictif.edit("thematiques/t4.yaml", "        montant: 12000", "        montant: 12000.005")
    f = _only(fictif.check(), "montant.decimales")[0]
    assert "12000.005" in f.message


def test_french_and_plain_amounts_are_equal(fictif):
    fictif.edit("thematiques/t4.yaml", "        montant: 12000", '        montant: "12 000,00 €"')
    assert fictif.check() == []


def test_impossible_date(fictif):
    fictif.edit("thematiques/t1.yaml", "fin: 30/06/2025", "fin: 31/06/2025")
    f = _only(fictif.check(), "date.inexistante")[0]
    assert f.loc.line == fictif.line_of("thematiques/t1.yaml", "31/06/2025")
    assert "juin 2025 n'a que 30 jours" in f.message


def test_period_reversed(fictif):
    fictif.edit("thematiques/t4.yaml", "fin: 2025-12-31", "fin: 2024-12-31")
    f = _only(fictif.check(), "periode.inversee")[0]
    assert "01/01/2025 après sa fin le 31/12/2024" in f.message


def test_budget_overrun(fictif):
    fictif.edit("budget.yaml", "disponible: 90000.00", "disponible: 10000.00")
    f = _only(fictif.check(), "budget.depassement")[0]
    assert "proposition 12 000,00 € supérieure au disponible 10 000,00 € (solde -2 000,00 €)" in f.message


def test_disponible_above_ae(fictif):
    fictif.edit("budget.yaml", "ae: 130000.00", "ae: 80000.00")
    f = _only(fictif.check(), "budget.disponible_ae")[0]
    assert "(10 000,00 € de plus)" in f.message


def test_declared_total_is_a_balance_assertion(fictif):
    fictif.edit("thematiques/t1.yaml", '{montant: "50 000,00"', '{montant: "50 020,00"')
    f = _only(fictif.check(), "annonce.montant")[0]
    assert f.message == (
        "total de la thématique 1 : annoncé 50 020,00 €, somme des lignes 50 000,00 € "
        "(20,00 € de moins) — Délibération, article 1"
    )
    assert f.loc.line == fictif.line_of("thematiques/t1.yaml", "50 020,00")


@pytest.mark.parametrize(
    ("old", "new", "code"),
    [
        ("{structures: 2,", "{structures: 3,", "annonce.structures"),
        ("{diagnostics: 1200,", "{diagnostics: 1300,", "annonce.diagnostics"),
        ("{dispositifs: 2,", "{dispositifs: 4,", "annonce.dispositifs"),
        ("fin: 31/12/2025}, source", "fin: 30/06/2025}, source", "annonce.periode"),
    ],
)
def test_declared_counts_volumes_periods(fictif, old, new, code):
    fictif.edit("thematiques/t1.yaml", old, new)
    assert _only(fictif.check(), code)


def test_declared_budget_solde(fictif):
    fictif.edit("budget.yaml", 'solde: "450 000,00"', 'solde: "450 020,00"')
    f = _only(fictif.check(), "annonce.solde")[0]
    assert "disponible moins proposition 450 000,00 €" in f.message


def test_unknown_references(fictif):
    fictif.edit("thematiques/t1.yaml", "structure: beta", "structure: delta")
    fictif.edit("thematiques/t1.yaml", "budget: C02-446A05", "budget: C09-999Z99")
    fictif.edit("thematiques/t4.yaml", "document: convention-type", "document: convention-xx")
    codes = fictif.codes()
    assert {"ref.structure", "ref.budget", "ref.document"} <= set(codes)


def test_unknown_convention(fictif):
    fictif.edit("thematiques/t1.yaml", "convention: plateforme", "convention: plie")
    f = _only(fictif.check(), "ref.convention")[0]
    assert "conventions connues : plateforme" in f.message


def test_avenant_needs_existing_convention(fictif):
    fictif.edit("thematiques/t1.yaml", "convention: plateforme", "convention: nouvelle")
    assert _only(fictif.check(), "document.avenant_sans_convention")


def test_duplicate_line(fictif):
    text = (fictif.root / "thematiques/t4.yaml").read_text()
    block = text[text.index("      - id: t4-o1-gamma"):]
    fictif.write("thematiques/t4.yaml", text + block.replace("t4-o1-gamma", "t4-o1-gamma-bis"))
    assert _only(fictif.check(), "ligne.doublon")
    fictif.write("thematiques/t4.yaml", text + block)
    assert _only(fictif.check(), "ligne.doublon_id")


def test_unknown_territory_suggests_closest(fictif):
    fictif.edit("thematiques/t1.yaml", "territoire: Arrageois", "territoire: Arageois")
    f = _only(fictif.check(), "territoire.inconnu")[0]
    assert "vouliez-vous dire « Arrageois » ?" in f.message


@pytest.mark.parametrize(
    ("typo", "expected"),
    [("Boulois", "Boulonnais"), ("Lensois", "Lens-Liévin"), ("Hénin Carvin", "Hénin-Carvin"),
     ("Lenz/liévin", "Lens-Liévin")],
)
def test_territory_suggestions(typo, expected):
    from deliberation.model import TERRITOIRES
    from deliberation.rules.territoires import suggest

    assert suggest(typo, list(TERRITOIRES)) == expected


def test_declared_alias_is_accepted(fictif):
    fictif.edit("thematiques/t4.yaml", "territoire: Lens-Liévin", "territoire: Montreuillois/Ternois")
    assert "territoire.inconnu" in fictif.codes()
    alias = 'alias_territoires:\n  "Montreuillois/Ternois": [Montreuillois, Ternois]\nmodeles:'
    fictif.edit("phase.yaml", "modeles:", alias)
    assert "territoire.inconnu" not in fictif.codes()


def test_siret_key(fictif):
    fictif.edit("structures.yaml", '"88123456100010"', '"88123456100011"')
    fictif.edit("structures.yaml", '"88234567100011"', '"8823456710"')
    findings = fictif.check()
    assert [f.code for f in findings] == ["siret.cle", "siret.format"]
    assert findings[0].message == "structure alpha : SIRET 88123456100011 : clé de contrôle (Luhn) invalide"


def test_siret_luhn():
    from deliberation.rules.siret import siret_ok

    assert siret_ok("18620009300083")  # Pas-de-Calais Actif, from the seed
    assert not siret_ok("18620009300084")
    assert siret_ok("35600000000001")  # La Poste: digit sum multiple of 5


def test_valorisation_carries_zero(fictif):
    fictif.edit("thematiques/t1.yaml", "montant: 0", "montant: 100")
    assert _only(fictif.check(), "nature.valorisation")


def test_financement_carries_money(fictif):
    fictif.edit("thematiques/t4.yaml", "        montant: 12000", "        montant: 0")
    assert _only(fictif.check(), "nature.financement")


def test_ratio_range_is_a_warning(fictif):
    fictif.edit("thematiques/t1.yaml", "{nombre: 140, unite: places}", "{nombre: 150, unite: places}")
    f = _only(fictif.check(), "dispositif.ratio")[0]
    assert f.severity is Severity.WARNING
    assert "150 places pour 2 ETP, soit 75 par ETP ; la fiche 1.2 prévoit 55 à 70 places par ETP" in f.message


def test_ceiling_is_an_error(fictif, tmp_path):
    sheets = fictif.root / "dispositifs"
    sheets.mkdir(exist_ok=True)
    (sheets / "4.1.md").write_text(
        '---\ncode: "4.1"\ntitre: Test\nplafonds:\n  - {unite: jeunes, par_mois: 40}\n---\nCorps\n', encoding="utf-8"
    )
    f = _only(fictif.check(), "dispositif.plafond")[0]
    assert f.severity is Severity.ERROR
    assert "12 000,00 € pour 20 jeunes sur 12 mois" in f.message
    assert "soit 9 600,00 € au plus" in f.message


def test_vote_total(fictif):
    fictif.edit("phase.yaml", "pour: 5", "pour: 6")
    f = _only(fictif.check(), "vote.total")[0]
    assert "la commission compte 7 membres" in f.message


def test_interested_member_must_be_member(fictif):
    fictif.edit("phase.yaml", "interesses: [M. Louis PETIT]", "interesses: [M. Jean INCONNU]")
    assert _only(fictif.check(), "seance.interesse_inconnu")


def test_payment_schedule_adds_to_100(fictif):
    sheets = fictif.root / "dispositifs"
    sheets.mkdir(exist_ok=True)
    (sheets / "4.1.md").write_text(
        '---\ncode: "4.1"\ntitre: Test\nversements:\n  - {libelle: avance, pourcentage: 60}\n'
        "  - {libelle: solde, pourcentage: 30}\n---\n",
        encoding="utf-8",
    )
    f = _only(fictif.check(), "dispositif.versements")[0]
    assert f.loc.file.endswith("4.1.md") and f.loc.line == 5  # the list of instalments


def test_member_listed_twice(fictif):
    fictif.edit("phase.yaml", "absents: [M. Hugo VERT]", "absents: [M. Hugo VERT, M. Marc BLANC]")
    codes = fictif.codes()
    assert codes == ["seance.membre_double"]  # counted once: the vote still adds up


def test_member_said_excused_but_listed_absent(fictif):
    # « intéressés à l'affaire et excusés » (seed l.64) for a member of the absents: excusé ≠ absent
    fictif.edit("phase.yaml", "interesses: [M. Louis PETIT]",
                "interesses: [M. Louis PETIT]\n  interesses_excuses: [M. Hugo VERT, Mme Julie NOIR]")
    found = _only(fictif.check(), "seance.excuse_absent")
    assert len(found) == 1 and found[0].message.startswith("M. Hugo VERT est dit « intéressé à l'affaire et excusé »")
    assert "parmi les absents" in found[0].message and found[0].loc.line == 16


def test_president_must_be_present(fictif):
    fictif.edit("phase.yaml", "president: M. Paul DURAND", "president: M. Paul DUPONT")
    assert "seance.role_absent" in fictif.codes()


def test_more_absents_without_delegation_than_absent_members(fictif):
    fictif.edit("phase.yaml", "pour: 5", "pour: 4")
    fictif.edit("phase.yaml", "absents_sans_delegation: 1", "absents_sans_delegation: 3")
    fictif.edit("phase.yaml", "abstention: 1", "abstention: 0")
    assert "vote.absents" in fictif.codes()


def test_commission_after_the_seance(fictif):
    fictif.edit("phase.yaml", "date: 2025-02-24", "date: 2025-03-24")
    assert "seance.avis_apres" in fictif.codes()


def test_unused_budget_line_is_a_warning(fictif):
    fictif.edit("budget.yaml", "lignes:\n", "lignes:\n  - {code: C09-999Z99, imputation: 6568/93400, libelle: Vide, "
                "ae: 10, disponible: 10}\n")
    f = _only(fictif.check(), "budget.inutilisee")[0]
    assert f.severity is Severity.WARNING


def test_mixed_line(fictif):
    fictif.edit("thematiques/t1.yaml", "        nature: financement\n        etp: 2\n",
                "        nature: mixte\n        etp: 2\n        etp_valorises: 1.5\n")
    assert fictif.check() == []
    fictif.edit("thematiques/t1.yaml", "etp_valorises: 1.5", "etp_valorises: 2.5")
    assert _only(fictif.check(), "nature.mixte")


def test_declared_figure_out_of_scope(fictif):
    fictif.edit("budget.yaml", '{solde: "450 000,00", source: Rapport}', '{diagnostics: 3, source: Rapport}')
    fictif.edit("thematiques/t4.yaml", "{montant: 12000, source: Annexe 3}", "{solde: 12000, source: Annexe 3}")
    assert _only(fictif.check(), "annonce.portee")


def test_partial_period_still_proves_a_declared_period_wrong(fictif):
    fictif.edit("thematiques/t1.yaml", "fin: 31/12/2025}, source", "fin: 30/06/2025}, source")
    tail = '}\n        montant: "- €"'
    fictif.edit("thematiques/t1.yaml", "fin: 31/12/2025" + tail, "fin: 31/13/2025" + tail)
    f = _only(fictif.check(), "annonce.periode")[0]
    assert "les lignes lisibles couvrent déjà du 01/01/2025 au 31/12/2025" in f.message


def test_unknown_dispositif_sheet_is_a_warning(fictif):
    fictif.edit("thematiques/t4.yaml", 'dispositif: "4.1"', 'dispositif: "4.99"')
    f = _only(fictif.check(), "ref.dispositif")[0]
    assert f.severity is Severity.WARNING


def test_duplicate_numbers_and_codes(fictif):
    fictif.edit("thematiques/t1.yaml", "  - numero: 2\n", "  - numero: 1\n")
    fictif.edit("thematiques/t4.yaml", "numero: 4\n", "numero: 1\n")
    text = (fictif.root / "budget.yaml").read_text()
    fictif.write("budget.yaml", text + text[text.index("  - code: C02-428C01"):])
    codes = fictif.codes()
    assert {"operation.doublon", "thematique.doublon", "budget.doublon"} <= set(codes)
