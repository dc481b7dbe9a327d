"""The print check (issue 19) as rules of the ``PDF`` stage: what would print badly, read in the converted PDFs.

The reading and the heuristics are in ``deliberation.printcheck``; here each defect is a rule with its
code, a WARNING in an ordinary build and an ERROR under ``build --final`` (the version to sign).
Checked: the documents of the délibération (``NN-….pdf``: what is voted and printed in the bundle), and
under ``--final`` the acts to sign (``actes/``); ``bundle.pdf`` for its page numbers. Without pdfplumber
(the ``pdf`` extra) the check is skipped, said by one warning.

A rule whose feature is not built yet can be registered and listed while reporting nothing: its code
goes in ``AWAITING`` (empty: every rule reports).
"""

from __future__ import annotations

import re

from deliberation.findings import Finding, Loc, error, warning
from deliberation.rules import ERROR, PDF, WARNING, PdfInput, rule

#: Codes whose feature is not merged yet: their rule reports nothing (see the module docstring).
AWAITING: frozenset[str] = frozenset()

BUNDLE = "bundle.pdf"
_DOCUMENT = re.compile(r"\d\d-[^/]*\.pdf")
_LAST: list = []  # (input, issues by file name, note): one reading per build, shared by the rules


def _checked(inp: PdfInput) -> tuple[dict, list[Finding]]:
    """Every issue of the build's PDFs by file name (read once per input), and the warning if pdfplumber is missing."""
    if _LAST and _LAST[0] is inp:
        return _LAST[1], _LAST[2]
    from deliberation import printcheck

    names = [n for n in inp.files if _DOCUMENT.fullmatch(n) or (inp.final and n.startswith("actes/")
                                                              and n.count("/") == 2 and n.endswith(".pdf"))]
    jobs = {n: ("document", inp.files[n], inp.files.get(f"{n[:-4]}.docx")) for n in names}
    if "impression.numero_absent" not in AWAITING and BUNDLE in inp.files:
        jobs[BUNDLE] = ("bundle", inp.files[BUNDLE], None)
    notes: list[Finding] = []
    issues: dict = {}
    if not printcheck.available():
        notes.append(warning("impression.non_verifiee", "contrôle d'impression non fait : pdfplumber n'est pas "
                             "installé (pip install 'deliberation[pdf]')", _loc(inp, BUNDLE)))
    elif jobs:
        issues = printcheck.check_files(jobs)
    _LAST[:] = [inp, issues, notes]
    return issues, notes


def _loc(inp: PdfInput, name: str, page: int = 0) -> Loc:
    where = str(inp.out_dir / name) if inp.out_dir else name
    return Loc(where, 0, f"page {page}" if page else "")


def _findings(inp: PdfInput, code: str) -> list[Finding]:
    if code in AWAITING:
        return []
    issues, _ = _checked(inp)
    make = error if inp.final else warning
    return [make(code, f"{name}, page {i.page} : {i.message}", _loc(inp, name, i.page))
            for name in sorted(issues) for i in issues[name] if i.code == code]


_BOTH = (WARNING, ERROR)


@rule(PDF, ("impression.cellule_coupee", "impression.non_verifiee"), _BOTH)
def check_cells(inp: PdfInput) -> list[Finding]:
    """No amount, date or word broken across two lines of a table cell (and a warning if pdfplumber is missing)."""
    return _checked(inp)[1] + _findings(inp, "impression.cellule_coupee")


#: The other rules: one code each, reported as the print check found it (name, what is checked).
_RULES = (
    ("impression.titre_orphelin", "check_headings",
     "No page ends with a heading, an « Article N : » line or a line ending with « : »."),
    ("impression.signature_coupee", "check_signatures", "No signature block printed on two pages."),
    ("impression.ligne_coupee", "check_rows", "No table row cut by a page break."),
    ("impression.ponctuation_seule", "check_punctuation", "No line holding only punctuation."),
    ("impression.numero_absent", "check_numbers", "Every page of bundle.pdf prints « N/M »."),
    ("impression.filigrane_absent", "check_watermark",
     "Every page of a PROJET document carries the diagonal « PROJET » watermark."),
)


def _one_code(code: str, name: str, doc: str):
    """A registered rule reporting the print check's issues of ``code``."""

    def check(inp: PdfInput) -> list[Finding]:
        return _findings(inp, code)

    check.__name__ = check.__qualname__ = name
    check.__doc__ = doc
    return rule(PDF, (code,), _BOTH)(check)


for _code, _name, _doc in _RULES:
    globals()[_name] = _one_code(_code, _name, _doc)
