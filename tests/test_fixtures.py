"""The seed, transcribed: golden findings for the as-written dossier, golden figures for the corrected one.

Set ``UPDATE_GOLDEN=1`` to rewrite the golden files after an intended change (then review the diff).
"""

from __future__ import annotations

import collections
import json
import os
import re
from pathlib import Path

import pytest
from conftest import cli, slow_but

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"


def golden(name: str, actual: str) -> str:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def test_as_written_reports_the_seed_mistakes():
    out = cli("check", "-v", "fixtures/phase-6-2024-as-written")  # every finding, one per line
    assert out.returncode == 1
    assert out.stdout == golden("phase-6-2024-as-written/findings.txt", out.stdout)
    text = out.stdout
    assert (
        "thematiques/t4.yaml:8: ERROR: total de la thématique 4 : annoncé 59 220,00 €, somme des lignes "
        "59 200,00 € (20,00 € de moins) — Délibération, article 3 [annonce.montant]" in text
    )
    # the seven places the seed states 59 220 €: délibération art. 3 and 6, rapport ×3, annexes 3 and 4
    assert text.count("annoncé 59 220,00 €") == 7
    assert "annoncé 31 280,00 €, disponible moins proposition 31 300,00 €" in text  # the 7th: the solde
    assert "date inexistante : 31/06/2025 (juin 2025 n'a que 30 jours) [date.inexistante]" in text
    assert "territoire inconnu « Arageois » ; vouliez-vous dire « Arrageois » ?" in text
    assert "période de l'opération 1.2 : annoncée du 01/01/2025 au 30/06/2025" in text


def test_corrected_dossier_has_no_error():
    out = cli("check", "-v", "fixtures/phase-6-2024")
    assert out.returncode == 0, out.stdout
    assert ": ERROR:" not in out.stdout
    codes = collections.Counter(re.findall(r"\[([a-z_.]+)\]$", out.stdout, re.M))
    assert codes["dispositif.ratio"] == 5  # volumes per ETP the dispositif sheets would not expect
    # 21 of the 22 documents to sign lack registry data about real bodies (SIRET, siège…): drafts
    assert codes["acte.incomplet"] == 21
    # the seed's own model citations that the data contradicts (see README.md)
    # MEMPA's two models (5 and 8) are declared merged (`fusion`): its avenant is compared with both at once
    assert codes["acte.modele_divergent"] == 4 and codes["acte.modeles_multiples"] == 0
    assert "MEMPA — avenant à la convention « plateforme » : l'avenant déduit des données diffère de Modèle " \
           "d'avenant n°5 + Modèle d'avenant n°8" in out.stdout
    assert "MEILL HC — avenant à la convention « plateforme » : l'avenant déduit des données diffère" in out.stdout
    assert sum(codes.values()) == out.stdout.count(": WARNING:") == 30


def test_corrected_figures_golden():
    out = cli("figures", "--json", "fixtures/phase-6-2024")
    assert out.returncode == 0
    data = json.loads(out.stdout)
    assert out.stdout == golden("phase-6-2024/figures.json", out.stdout)
    budget = {b["code"]: b for b in data["budget"]}
    assert budget["C02-446A05"]["proposition"] == "712000.00"
    assert [t["montant"] for t in data["thematiques"]] == [
        budget["C02-446A05"]["proposition"], budget["C01-444H02"]["proposition"], budget["C02-428C01"]["proposition"]
    ]


@pytest.mark.parametrize(
    ("code", "solde"),
    slow_but([("C02-446A05", "203067.73"), ("C01-444H02", "520614.11"), ("C02-428C01", "31300.00")], "C02-446A05"),
)
def test_corrected_soldes(code, solde):
    data = json.loads(cli("figures", "--json", "fixtures/phase-6-2024").stdout)
    (b,) = [b for b in data["budget"] if b["code"] == code]
    assert b["solde"] == solde
