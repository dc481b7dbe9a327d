"""Read back what a Word document says: its paragraphs and table rows, in order (for tests and diffs)."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.table import Table
from docx.text.paragraph import Paragraph


def docx_lines(path: str | Path) -> list[str]:
    """Text of a DOCX, one line per paragraph and one per table row (cells joined by `` | ``)."""
    doc = Document(str(path))
    lines: list[str] = []
    for block in doc.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            previous: list[str] | None = None
            for row in block.rows:
                cells = ["\n".join(p.text for p in cell.paragraphs) for cell in row.cells]  # merged cells repeat
                if previous is not None and len(previous) == len(cells) and _continues(row):
                    # a row cut in parts under a merged heading (``finish.split_tall_rows``): one row, as printed
                    previous = [a if _merged(tc) else f"{a}\n{b}" for a, b, tc in
                                zip(previous, cells, row._tr.tc_lst, strict=False)]
                    lines[-1] = " | ".join(previous)
                    continue
                previous = cells
                lines.append(" | ".join(cells))
    return lines


def _merged(tc) -> bool:
    """True for a cell that continues the vertical merge of the cell above."""
    return tc.vMerge == "continue"


def _continues(row) -> bool:
    tcs = row._tr.tc_lst
    return bool(tcs) and _merged(tcs[0]) and len(tcs) == len(row.cells)


def docx_text(path: str | Path) -> str:
    """The whole text of a DOCX as one string (no-break spaces kept)."""
    return "\n".join(docx_lines(path))


#: Typographic characters and what one types for them on a keyboard.
_TYPED = str.maketrans({"\u00a0": " ", "\u202f": " ", "’": "'", "“": '"', "”": '"'})


def typed(text: str) -> str:
    """The text as typed on a keyboard: no-break spaces become spaces, ’ and “ ” become ' and ".

    For comparisons where the typography is not the point (``deliberation.typo`` has its own tests).
    """
    return text.translate(_TYPED)
