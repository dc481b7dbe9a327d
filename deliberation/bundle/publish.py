"""PDF of every document, the merged dossier ``bundle.pdf`` and ``manifest.json``.

The merged dossier is what the clerk reads and transmits: a cover page and a sommaire giving each
document's first page, one bookmark per document (the annexes nested) and, from the Word templates,
the stamp at the foot of every page (« Délibération n°2024-587 — Annexe 5 — page 3/12 »). Every page
of the dossier also prints its own number in the dossier, « N/M », small, in the bottom right-hand
corner (below the documents' footers): the number the sommaire cites and the PDF page label are
that same N, so « page 17 » means the same sheet on paper and on screen.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from deliberation import __version__
from deliberation.bundle.keep import keep_together, remember, remembered
from deliberation.bundle.lean import lean_docx
from deliberation.bundle.parts import assemble_all, prepare
from deliberation.bundle.pdf import (
    ConvertOptions,
    add_drawing,
    base14_font,
    convert,
    converter_id,
    display_matrix,
    finish,
    matrix_operator,
    normalise_many,
    normalise_pdf,
    page_count,
    remember_pages,
)
from deliberation.engine import engine_sha
from deliberation.findings import BuildError
from deliberation.fsio import sha256
from deliberation.outcome import Checked
from deliberation.plan import Document, documents
from deliberation.render.compiled import render_many
from deliberation.render.documents import sommaire_job
from deliberation.resources import package_dir

BUNDLE = "bundle.pdf"
MANIFEST = "manifest.json"


def pdf_title(name: str) -> str:
    """A readable PDF title from a file name."""
    return Path(name).stem


#: The cover page and sommaire, as converted (kept so that a rebuild can reuse it).
SOMMAIRE_PDF = "00-sommaire.pdf"


def publish_pdfs(checked: Checked, files: dict[str, bytes], when: dt.datetime, opts: ConvertOptions,
                 templates_dir: Path | None = None,
                 cache: dict[tuple[str, str], bytes] | None = None) -> tuple[dict[str, bytes], dict[str, str]]:
    """Convert every DOCX of ``files`` to PDF and add the merged ``bundle.pdf``.

    ``cache`` maps ``(pdf name, SHA-256 of its source)`` to the PDF an earlier build made from the same
    source: only the documents not found there are converted, and LibreOffice is not started at all
    when nothing changed. Returns the PDFs and, for each, the SHA-256 of its source.

    Raises:
        BuildError: LibreOffice is missing or fails on a document.

    """
    cache = cache or {}
    sources = {f"{k[:-5]}.pdf": sha256(v) for k, v in files.items() if k.endswith(".docx")}
    pdfs = {name: cache[(name, sha)] for name, sha in sources.items() if (name, sha) in cache}
    todo = {k: v for k, v in files.items() if k.endswith(".docx") and f"{k[:-5]}.pdf" not in pdfs}
    if opts.pdfa:  # LibreOffice draws the Word watermark itself (PDF/A wants every font embedded); no parts
        prep, lean, projets = None, {name: lean_docx(data) for name, data in todo.items()}, set()
        docs = dict(lean)
    else:  # a draft's PDF gets its « PROJET » turned 45° from normalise_many, in Helvetica-Bold
        # the documents with sheets in parts (bundle/parts.py), made lean and planned by the same workers;
        # the others whole, each copy with its « keep with next » chains marked (bundle/keep.py)
        prep = prepare(todo, opts.jobs, lean=True)
        lean, projets, docs = prep.handed, prep.projets, prep.whole_copies
    titles = {f"{k[:-5]}.pdf": pdf_title(f"{k[:-5]}.pdf") for k in todo}
    # one LibreOffice more, started once the batches are handed out, for the sommaire (not with -j 1)
    spare = 1 if opts.office is not None and opts.jobs > 1 and not any(n == SOMMAIRE_PDF for n, _ in cache) else 0
    handed = {**docs, **(prep.docs if prep else {})}
    # the page breaks an earlier build found a copy needs are put in at once (not for PDF/A: no marks)
    first, known = remembered(handed) if not opts.pdfa else (handed, {})
    told = counted_in_documents(opts.progress, len(todo), len(handed))
    raw = convert(first, replace(opts, destinations=not opts.pdfa, spare=spare, progress=told)) if todo else {}
    if raw and not opts.pdfa:  # a heading LibreOffice left at the foot of a page: that copy converted again
        # each round takes the LibreOffice kept warm for the sommaire: it starts another one for it
        raw, breaks = keep_together(handed, raw, lambda d: convert(d, replace(opts, destinations=True, spare=spare,
                                                                                 progress=None)), known)
        remember(handed, {n: b for n, b in breaks.items() if known.get(n) != b})
    wanted = list(documents(checked.dossier))

    def front_matter(counts: list[int]) -> tuple[bytes, str]:
        """The cover and sommaire's PDF for documents of ``counts`` pages (in ``wanted``'s order), and its key."""
        front_pages = 2  # cover + one page of sommaire; corrected below if the sommaire is longer
        for _ in range(3):
            entries, page = [], front_pages + 1
            for doc, n in zip(wanted, counts, strict=True):
                entries.append({"titre": doc.titre, "page": page})
                page += n
            job = sommaire_job(checked, entries, templates_dir)  # its fingerprint names its source
            front_pdf = cache.get((SOMMAIRE_PDF, job.key))
            if front_pdf is None:
                front = convert({"00-sommaire.docx": render_many([(job.template, job.context, job.when)])[0]},
                                replace(opts, progress=None))  # the progress told is the documents'
                front_pdf = normalise_pdf(front["00-sommaire.pdf"], when, "Sommaire")
            if page_count(front_pdf) == front_pages:
                break
            front_pages = page_count(front_pdf)
        return front_pdf, job.key

    # each document's pages are known before its parts are put together: the sommaire is converted
    # meanwhile (in a thread: LibreOffice works while the acts are assembled), again if a count was wrong
    in_parts = {act.name[:-5] + ".pdf": act for act in (prep.acts if prep is not None else [])}

    def pages_before(name: str) -> int | None:
        if name in pdfs:
            return page_count(pdfs[name])
        if name in in_parts:
            act = in_parts[name]
            return page_count(raw[act.own]) + sum(page_count(raw[p]) for p in act.segments if p is not None)
        return page_count(raw[name]) if name in raw else None

    early = [pages_before(f"{doc.stem}.pdf") for doc in wanted]
    wanted = [doc for doc, n in zip(wanted, early, strict=True) if n is not None]
    early = [n for n in early if n is not None]
    failed: list[str] = []
    ahead_error: BuildError | None = None
    with ThreadPoolExecutor(max_workers=1) as side:
        ahead = side.submit(front_matter, early)
        if prep is not None and prep.acts:
            assembled, failed = assemble_all(prep, raw, when, titles, projets)
            for name in prep.docs:
                raw.pop(f"{name[:-5]}.pdf", None)
            for name, (data, pages) in assembled.items():
                remember_pages(data, pages)
                pdfs[name] = data
        pdfs.update(normalise_many(raw, when, {k: pdf_title(k) for k in raw}, projets=projets))
        try:
            front_pdf, key = ahead.result()
        except BuildError as err:
            ahead_error = err
    if failed:  # a part not found in its PDF: those acts converted whole (once the sommaire's LibreOffice is done)
        whole = convert({n: lean[n] for n in failed}, replace(opts, progress=None))
        pdfs.update(normalise_many(whole, when, {k: pdf_title(k) for k in whole}, projets=projets))
    ordered = [(doc, pdfs[f"{doc.stem}.pdf"]) for doc in wanted]
    counts = [page_count(data) for _, data in ordered]
    if counts != early or ahead_error is not None:  # an act converted whole after all: the sommaire again
        if counts == early:
            raise ahead_error
        front_pdf, key = front_matter(counts)
    sources[SOMMAIRE_PDF] = key
    pdfs[SOMMAIRE_PDF] = front_pdf
    sources[BUNDLE] = sha256("".join(sha256(data) for data in (front_pdf, *(d for _, d in ordered))).encode())
    bundle = cache.get((BUNDLE, sources[BUNDLE]))
    pdfs[BUNDLE] = bundle if bundle is not None else merge(front_pdf, ordered, when, checked.dossier)
    return pdfs, {k: v for k, v in sources.items() if k in pdfs}


def counted_in_documents(tell, documents: int, copies: int):
    """``tell`` (done, total, batch ended) counting documents while ``copies`` files are converted for them.

    A document in parts is several copies, a shared part one copy for several documents: the user is
    told « 7/11 document(s) », in proportion, never a number of copies.
    """
    if tell is None or documents == copies:
        return tell

    def told(done: int, total: int, batch: bool) -> None:
        tell(documents if done >= total else done * documents // max(total, 1), documents, batch)

    return told


def merge(front: bytes, ordered: list[tuple[Document, bytes]], when: dt.datetime, d) -> bytes:
    """One PDF: front matter, then each document; bookmarks, page labels, fixed metadata."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(front)), import_outline=False)
    n_front = len(writer.pages)
    writer.add_outline_item(title="Sommaire", page_number=min(1, n_front - 1))  # page 0 is the cover
    annexes_parent = None
    for doc, data in ordered:
        start = len(writer.pages)
        writer.append(PdfReader(io.BytesIO(data)), import_outline=False)
        if doc.annexe is None:
            writer.add_outline_item(title=doc.titre, page_number=start)
        else:
            if annexes_parent is None:
                annexes_parent = writer.add_outline_item(title="Annexes", page_number=start)
            writer.add_outline_item(title=doc.titre, page_number=start, parent=annexes_parent)
    number_pages(writer)
    writer.set_page_label(0, len(writer.pages) - 1, style="/D", start=1)  # the printed number, the sommaire's
    numero = d.info.deliberation.numero if d.info and d.info.deliberation else ""
    return finish(writer, when, f"Délibération n°{numero} — dossier complet")  # not written and read again


# ---------------------------------------------------------------------------
# page numbers of the dossier

#: Size (points) of the dossier's page number, and its distance from the page's right and bottom edges.
NUMBER_SIZE, NUMBER_RIGHT, NUMBER_BOTTOM = 8, 28.0, 14.0
#: Widths (thousandths of the size) of the characters of « N/M » in Helvetica (base-14 font, not embedded).
_HELVETICA = {**dict.fromkeys("0123456789", 556), "/": 278}


def number_stream(n: int, total: int, width: float, height: float) -> bytes:
    """PDF operators printing « n/total » in the bottom right-hand corner of a ``width`` × ``height`` page.

    Coordinates are those of the page as displayed (origin at the bottom left), in points; the text is
    right-aligned ``NUMBER_RIGHT`` from the right edge, its baseline ``NUMBER_BOTTOM`` above the bottom.
    """
    text = f"{n}/{total}"
    w = sum(_HELVETICA[c] for c in text) * NUMBER_SIZE / 1000
    x, y = width - NUMBER_RIGHT - w, NUMBER_BOTTOM
    return f"BT /DlbN {NUMBER_SIZE} Tf 0.2 g {x:.2f} {y:.2f} Td ({text}) Tj ET".encode("ascii")


def number_pages(writer) -> None:
    """Print « N/M » on every page of ``writer`` (N: the page's place in the document, M: its page count).

    Drawn over each page's content (``pdf.add_drawing``) in Helvetica, a base-14 font: nothing embedded.
    The same pages always give the same bytes.
    """
    font = base14_font(writer, "Helvetica")
    total = len(writer.pages)
    for n, page in enumerate(writer.pages, 1):
        matrix, width, height = display_matrix(page)
        number = number_stream(n, total, width, height)
        add_drawing(writer, page, "DlbN", font, after=matrix_operator(matrix) + b" " + number)


# ---------------------------------------------------------------------------
# manifest


def _input_name(path: str, dossier_root: str, engine_root: Path) -> str:
    file = os.path.abspath(path)
    for base, prefix in ((os.path.abspath(dossier_root), "dossier/"), (str(engine_root), "")):
        rel = os.path.relpath(file, base)
        if not rel.startswith(".."):
            return prefix + rel.replace(os.sep, "/")
    return Path(path).name


def input_files(checked: Checked, templates_dir: Path) -> dict[str, str]:
    """Every input of the build, with its SHA-256: dossier files, annex sheets, templates."""
    d = checked.dossier
    engine = package_dir()
    paths: set[str] = set()
    root = Path(d.root)
    paths |= {str(p) for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml", ".md")}
    paths |= {s.loc.file for s in checked.dispositifs.values()}
    paths |= {str(p) for p in templates_dir.rglob("*") if p.is_file()}
    out = {}
    for p in sorted(paths):
        try:
            out[_input_name(p, d.root, engine)] = sha256(Path(p).read_bytes())
        except OSError:
            continue
    return dict(sorted(out.items()))


def manifest(checked: Checked, files: dict[str, bytes], options: dict, templates_dir: Path, when: dt.datetime,
             version: int = 1, keys: dict[str, str] | None = None, sources: dict[str, str] | None = None,
             known_pages: dict[str, int] | None = None) -> bytes:
    """``manifest.json``: the bundle's version, outputs (SHA-256, size, pages), inputs, engine, options.

    Each Word document also records the fingerprint of what it was rendered from (``empreinte``) and
    each PDF the SHA-256 of its source (``source``): a rebuild reuses what did not change.
    ``known_pages`` gives the page count of PDFs already counted (by SHA-256), e.g. by the previous
    manifest, so that unchanged PDFs are not read again.
    """
    keys, sources, known_pages = keys or {}, sources or {}, dict(known_pages or {})
    shas = {name: sha256(data) for name, data in files.items()}

    def pages(name: str) -> int:
        sha = shas[name]
        if sha not in known_pages:
            known_pages[sha] = page_count(files[name])
        return known_pages[sha]

    outputs = {}
    for name in sorted(files):
        data = files[name]
        entry = {"sha256": shas[name], "octets": len(data)}
        if name in keys:
            entry["empreinte"] = keys[name]
        if name in sources:
            entry["source"] = sources[name]
        if name.endswith(".pdf"):
            entry["pages"] = pages(name)
        elif name.endswith(".docx") and name[:-5] + ".pdf" in files:
            entry["pages"] = pages(name[:-5] + ".pdf")
        outputs[name] = entry
    body = {
        "version": version,
        "moteur": {"nom": "deliberation", "version": __version__, "empreinte": engine_sha()},
        "convertisseur": converter_id() if options.get("pdf") else "",
        "date": when.date().isoformat(),
        "options": dict(sorted(options.items())),
        "entrees": input_files(checked, templates_dir),
        "sorties": outputs,
    }
    return (json.dumps(body, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")
