"""Open data (``export scdl``): every value of the SCDL « Subventions » rows follows the schema.

The rows and the schema are :mod:`deliberation.opendata`'s; this rule reports what its values break:
a value missing or against the schema is an error located at the dossier value it comes from (the
value is left empty in the CSV), an objet cut to 256 characters or a text neutralised as a possible
spreadsheet formula is a warning.
"""

from __future__ import annotations

from deliberation.findings import Finding, sort_findings
from deliberation.opendata import examine, missing_attribuant
from deliberation.rules import ERROR, SCDL, WARNING, ScdlInput, rule


@rule(SCDL, ("scdl.attribuant", "scdl.manquant", "scdl.format", "scdl.bornes", "scdl.longueur", "scdl.valeur",
             "scdl.siret", "scdl.objet_tronque", "scdl.formule"), (ERROR, WARNING))
def check_scdl(inp: ScdlInput) -> list[Finding]:
    """Each SCDL value is there and follows the schema; objets cut and formulas neutralised are warnings."""
    findings = missing_attribuant(inp.dossier)
    for line in inp.lines:
        findings += examine(line)[1]
    return sort_findings(findings)
