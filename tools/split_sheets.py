"""Issue 23: give each annex sheet of ``avenant.docx`` and ``convention.docx`` a second, shared part.

After the sheet's table (``{{p a.table }}``: the act's own conditions), the loop over ``acte.annexes``
gets, when the sheet has one, its description on a new page: the same page break and title paragraphs,
« Annexe N°… (suite) — description du dispositif » (no structure name) and ``{{p a.fiche }}``.
The new paragraphs are copies of the sheet's own, so they look the same; the rest of each file is left
as it is. Run once: ``python tools/split_sheets.py [TEMPLATES_DIR]`` (a file already split is skipped).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

from docx import Document

HEADING = "Annexe N°{{ a.numero }} (suite) — description du dispositif"


def split(path: Path) -> bool:
    """Add the description part to the annex loop of the template at ``path``; False if already there."""
    doc = Document(str(path))
    body = doc.element.body
    paragraphs = list(doc.paragraphs)
    if any("a.fiche" in p.text for p in paragraphs):
        return False
    texts = [p.text for p in paragraphs]
    table = next(i for i, t in enumerate(texts) if t.strip() == "{{p a.table }}")
    brk, titre, annexe = paragraphs[table - 3], paragraphs[table - 2], paragraphs[table - 1]
    assert texts[table - 4] == "{%p for a in acte.annexes %}" and not brk.text, path  # noqa: S101 - a tool
    assert annexe.text.startswith("Annexe N°"), path  # noqa: S101

    def tag(text: str):
        p = copy.deepcopy(paragraphs[table]._p)
        p.xpath("./w:r/w:t")[0].text = text
        return p

    heading = copy.deepcopy(annexe._p)
    ts = heading.xpath(".//w:t")
    ts[0].text = HEADING
    for t in ts[1:]:
        t.getparent().remove(t)
    new = [tag("{%p if a.fiche %}"), copy.deepcopy(brk._p), copy.deepcopy(titre._p), heading,
           tag("{{p a.fiche }}"), tag("{%p endif %}")]
    anchor = paragraphs[table]._p
    for el in new:
        anchor.addnext(el)
        anchor = el
    assert anchor.getparent() is body  # noqa: S101
    doc.save(str(path))
    return True


def main() -> None:
    """Split the sheets of the avenant and convention templates of the given directory (default: the engine's)."""
    engine = Path(__file__).resolve().parents[1] / "deliberation" / "templates"
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else engine
    for name in ("avenant.docx", "convention.docx"):
        print(f"{folder / name} : {'modifié' if split(folder / name) else 'déjà en deux parties'}")


if __name__ == "__main__":
    main()
