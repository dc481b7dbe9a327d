"""Render once, fill many: each Word template is parsed and compiled once per build.

docxtpl re-reads the template, cleans its XML, compiles the Jinja source and re-serialises every
part of the package for each document. Here that work is done once per template: the body and
each header and footer become compiled Jinja templates, the unchanged parts of the package are
deflated once, and each document is only a Jinja render, docxtpl's own post-processing (line
breaks, table fixes, drawing ids) and a zip written from cached members. Markdown values become
WordprocessingML through python-docx, as docxtpl sub-documents do, and each distinct text is
converted once. The output is a valid package with the same content as docxtpl's; the same
context always gives the same bytes, whether documents are rendered one by one or in parallel.

Each document renders under the limits of ``render.docx`` (``DELIBERATION_RENDER_TIMEOUT`` seconds,
default 60; loop turns; size of values and output), in this process or in a forked worker: going past
one, like running out of memory, is a ``TemplateError`` naming the template (exit 3).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import marshal
import multiprocessing
import os
import re
import struct
import sys
import zipfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from docx import Document
from docx.enum.style import WD_STYLE_TYPE
from docxtpl import DocxTemplate
from jinja2 import TemplateError, TemplateSyntaxError, UndefinedError
from lxml import etree

from deliberation.engine import engine_sha
from deliberation.findings import TemplateError as BuildTemplateError
from deliberation.fsio import cache_get, cache_put
from deliberation.messages import library_error
from deliberation.render import finish
from deliberation.render.docx import (
    MAX_OUTPUT,
    MEMORY_MESSAGE,
    RenderLimitError,
    environment,
    render_timeout,
    template_members,
)
from deliberation.render.markdown import MarkdownText, SheetTable, add_markdown, add_sheet_table
from deliberation.render.tables import split_long_tables
from deliberation.render.watermark import add_watermark, is_projet
from deliberation.render.wordml import SheetSkeleton, markdown_xml, sheet_table_xml

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_BODY = f"{{{W}}}body"
_LITERAL = re.compile(r"\{_\{|\}_\}|\{_%|%_\}")
_HF_URIS = (DocxTemplate.HEADER_URI, DocxTemplate.FOOTER_URI)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)  # rendered parts: no entity, no network


class Fragment(str):
    """WordprocessingML produced from a Markdown value: inserted as is (never escaped)."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


def _from_string(env, source: str):
    """``env.from_string(source)``, with Jinja's compiled code kept in the parse cache across builds.

    Compiling the XML of a Word template costs some 15 ms; the code object is stored (marshal) under
    the engine's fingerprint, the Python version and the source, so any change compiles again.
    """
    key = hashlib.sha256(f"{engine_sha()}\0jinja\0{sys.version}\0{source}".encode("utf-8", "surrogatepass"))
    key = key.hexdigest()
    globals_ = env.make_globals(None)
    hit = cache_get(key)
    if isinstance(hit, bytes):
        try:
            return env.template_class.from_code(env, marshal.loads(hit), globals_, None)
        except Exception:  # noqa: BLE001, S110 - a stale or damaged entry is compiled again
            pass
    code = env.compile(source)
    cache_put(key, marshal.dumps(code))
    return env.template_class.from_code(env, code, globals_, None)


class CompiledTemplate:
    """A Word template compiled once; ``render(context)`` gives one document's DOCX bytes."""

    def __init__(self, path: Path, when: dt.datetime):
        self.path = path
        self.when = when
        self.timeout = render_timeout()
        try:
            data = path.read_bytes()
        except OSError as err:
            raise BuildTemplateError(f"{path}: modèle Word illisible ({library_error(err)})") from err
        members = template_members(path, data)  # no DOCTYPE: nothing below resolves an entity
        names = list(members)
        try:
            tpl = DocxTemplate(io.BytesIO(data))
            tpl.init_docx()
            self.env = environment()
            self.tpl = tpl
            self.body = self._compile(tpl.patch_xml(tpl.get_xml()))
            self.parts: dict[str, tuple] = {}
            for uri in _HF_URIS:
                for _, part in tpl.get_headers_footers(uri):
                    xml = tpl.get_part_xml(part)
                    self.parts[str(part.partname).lstrip("/")] = self._compile(tpl.patch_xml(xml))
            tpl.render_properties({}, self.env)  # as docxtpl does (the templates' properties hold no tag)
            props = tpl.docx.core_properties
            props.author = "Département du Pas-de-Calais"
            props.last_modified_by = "deliberation"
            props.created = props.modified = when
            props.last_printed = when
            props.revision = 1
            core = etree.tostring(props._element, encoding="UTF-8", standalone=True)
            root = tpl.docx.element
            self.document_part = str(tpl.docx.part.partname).lstrip("/")
            # the document element with an empty body, re-parsed for each document
            shell = etree.fromstring(etree.tostring(root))
            body = shell.find(_BODY)
            for child in list(body):
                body.remove(child)
            self.shell = etree.tostring(shell)
        except (OSError, KeyError, ValueError, zipfile.BadZipFile, etree.LxmlError) as err:
            raise BuildTemplateError(f"{path}: modèle Word illisible ({library_error(err)})") from err
        except TemplateSyntaxError as err:
            raise BuildTemplateError(f"{path}: balise mal formée : {err.message}") from err
        core_name = str(tpl.docx.part.package._core_properties_part.partname).lstrip("/")
        members[core_name] = core
        first = [n for n in names if n == "[Content_Types].xml"]
        self.order = first + sorted(n for n in names if n not in first)
        rendered = {self.document_part, *self.parts}
        # what a draft's watermark may change besides the rendered parts (``watermark.add_watermark``)
        folder, base = self.document_part.rsplit("/", 1)
        self.rels_part = f"{folder}/_rels/{base}.rels"
        self.raw = {n: members[n] for n in ("[Content_Types].xml", self.rels_part) if n in members}
        self.fixed = {n: _deflate(members[n]) for n in self.order if n not in rendered}
        # numbered lists restart where the source restarts them: the numbering part changes per document
        self.numbering = next((n for n in names if n == "word/numbering.xml"), None)
        self.numbering_xml = members.get(self.numbering) if self.numbering else None
        styles = members.get("word/styles.xml")
        self.numbered = finish.numbered_styles(styles) if styles and self.numbering else {}
        # scratch document for Markdown: styles are looked up in the template, as docxtpl sub-documents do
        self.scratch = Document()
        self.scratch._part = tpl.docx._part
        self.fragments: dict[tuple, Fragment] = {}
        self.style_ids: dict[str, str | None] = {}
        self.skeleton = self._skeleton()

    def style_id(self, name: str) -> str | None:
        """The id of paragraph style ``name`` in this template (None for its default style)."""
        if name not in self.style_ids:
            self.style_ids[name] = self.tpl.docx.part.get_style_id(name, WD_STYLE_TYPE.PARAGRAPH)
        return self.style_ids[name]

    def _skeleton(self) -> SheetSkeleton:
        """The fixed parts of an annex-sheet table, as python-docx writes them for this template."""
        xml = self._python_docx(SheetTable(((" ", ""),)))
        tbl_open = xml[: xml.index("<w:tr>")]
        cells = re.findall(r"<w:tc>.*?</w:tcPr>", xml)
        return SheetSkeleton(tbl_open, (cells[0], cells[1]))

    def _python_docx(self, value) -> str:
        """A Markdown value through python-docx, as docxtpl sub-documents do (the reference, slower)."""
        body = self.scratch.element.body
        for child in list(body):
            if not child.tag.endswith("}sectPr"):
                body.remove(child)
        if isinstance(value, MarkdownText):
            add_markdown(self.scratch, value.text)
        else:
            add_sheet_table(self.scratch, value.rows, value.mark)
        xml = etree.tostring(body, encoding="unicode")
        xml = re.sub(r"<w:sectPr\b.*?</w:sectPr>|<w:sectPr\b[^>]*/>", "", xml, flags=re.S)
        return re.sub(r"</?w:body[^>]*>", "", xml)

    def _compile(self, xml: str):
        # docxtpl's escapes for a literal tag (``{_{`` prints ``{{``…) are resolved in the template, not in
        # the rendered text: docxtpl replaces them after rendering, which would also rewrite the data
        xml = _LITERAL.sub(lambda m: "{% raw %}" + m.group(0).replace("_", "") + "{% endraw %}", xml)
        return _from_string(self.env, re.sub(r"<w:p([ >])", r"\n<w:p\1", xml))

    # -- values ------------------------------------------------------------------------------

    def fragment(self, value: MarkdownText | SheetTable) -> Fragment:
        """The WordprocessingML of a Markdown value (converted once per distinct value)."""
        key = (type(value).__name__, value.text) if isinstance(value, MarkdownText) else \
            (type(value).__name__, value.rows, value.mark)
        frag = self.fragments.get(key)
        if frag is None:
            if isinstance(value, MarkdownText):
                frag = Fragment("".join(markdown_xml(value.text, self.style_id)))
            else:
                frag = Fragment(sheet_table_xml(value.rows, self.skeleton, self.style_id, value.mark))
            self.fragments[key] = frag
        return frag

    def _values(self, value):
        if isinstance(value, (MarkdownText, SheetTable)):
            return self.fragment(value)
        if isinstance(value, dict):
            return {k: self._values(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._values(v) for v in value]
        return value

    # -- rendering ---------------------------------------------------------------------------

    def _render_xml(self, template, context) -> str:
        try:
            xml = template.render(context)
        except UndefinedError as err:
            raise BuildTemplateError(f"{self.path}: valeur inconnue dans le modèle : {err.message}") from err
        except RenderLimitError as err:  # time, loop turns, size of a value
            raise BuildTemplateError(f"{self.path}: {library_error(err)}") from err
        except TemplateError as err:  # the sandbox's SecurityError too (``''.__class__``, unsafe calls)
            raise BuildTemplateError(f"{self.path}: erreur de modèle : {library_error(err)}") from err
        except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as err:  # 1/0, range(10**9)…
            raise BuildTemplateError(f"{self.path}: erreur de modèle : {library_error(err)}") from err
        if len(xml) > MAX_OUTPUT:
            raise BuildTemplateError(f"{self.path}: rendu arrêté : plus de {MAX_OUTPUT // 1_000_000} millions de "
                                     f"caractères pour une partie d'un document")
        xml = re.sub(r"\n<w:p([ >])", r"<w:p\1", xml)
        if "\t" in xml or "\a" in xml or "\n" in xml or "\f" in xml:  # docxtpl's line breaks and tabs in text
            xml = self.tpl.resolve_listing(xml)
        return xml

    def render(self, context: dict) -> bytes:
        """One document, as normalised DOCX bytes.

        Raises:
            BuildTemplateError: the template refers to an unknown value, fails to render, goes past a
                rendering limit or exhausts memory.

        """
        self.env.start(self.timeout)
        try:
            return self._render(context)
        except MemoryError as err:  # a huge value: the build stops on this template, like any other error
            raise BuildTemplateError(f"{self.path}: {MEMORY_MESSAGE}") from err

    def _render(self, context: dict) -> bytes:
        ctx = self._values(context)
        tree = self.tpl.fix_tables(self._render_xml(self.body, ctx))
        split_long_tables(tree)  # LibreOffice lays out one long table in quadratic time
        finish.typeset(tree)
        finish.highlight_blanks(tree)
        finish.lay_out(tree)
        numbering = finish.restart_lists(tree, self.numbering_xml, self.numbered) if self.numbered else None
        ids = 1000
        for elt in tree.xpath("//wp:docPr", namespaces={"wp": _WP}):
            ids += 1
            elt.attrib["id"] = str(ids)
        root = etree.fromstring(self.shell)
        root.replace(root.find(_BODY), tree)
        out = {}
        if numbering is not None:
            out[self.numbering] = numbering
        for name, template in self.parts.items():
            xml = self._render_xml(template, ctx)
            try:
                part = etree.fromstring(xml.encode("utf-8"), _PARSER)
                finish.typeset(part)
                finish.highlight_blanks(part)
                out[name] = etree.tostring(part, encoding="UTF-8", standalone=True)
            except etree.XMLSyntaxError as err:
                msg = f"{self.path}: {name} : XML invalide après rendu ({library_error(err)})"
                raise BuildTemplateError(msg) from err
        order = self.order
        if is_projet(ctx) and len(self.raw) == 2:  # a draft: « PROJET » across every page
            out.update(add_watermark(root, out, self.raw[self.rels_part], self.raw["[Content_Types].xml"],
                                     self.document_part))
            order = order + sorted(n for n in out if n not in self.order)
        out[self.document_part] = etree.tostring(root, encoding="UTF-8", standalone=True)
        members = [(n, _deflate(out[n]) if n in out else self.fixed[n]) for n in order]
        return _zip(members, self.when)


_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"


def _deflate(data: bytes) -> tuple[int, int, bytes]:
    """(CRC-32, size, raw deflate) of a member, as zipfile would write it."""
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return zlib.crc32(data), len(data), c.compress(data) + c.flush()


def _zip(members: list[tuple[str, tuple[int, int, bytes]]], when: dt.datetime) -> bytes:
    """A zip of pre-deflated members: fixed order, one fixed timestamp, no extra fields."""
    date = ((max(when.year, 1980) - 1980) << 9) | (when.month << 5) | when.day
    out = io.BytesIO()
    central = []
    for name, (crc, size, data) in members:
        raw = name.encode("utf-8")
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, date, crc, len(data), size, len(raw), 0))
        out.write(raw)
        out.write(data)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, 0, 8, 0, date, crc,
                                   len(data), size, len(raw), 0, 0, 0, 0, 0o644 << 16, offset) + raw)
    start = out.tell()
    for entry in central:
        out.write(entry)
    size = out.tell() - start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), size, start, 0))
    return out.getvalue()


# ---------------------------------------------------------------------------
# many documents


class Renderer:
    """Compiled templates of one build, compiled on first use."""

    def __init__(self):
        self.compiled: dict[tuple, CompiledTemplate] = {}

    def render(self, template: Path, context: dict, when: dt.datetime) -> bytes:
        """Render one document from its (compiled) template."""
        key = (str(template), when)
        ct = self.compiled.get(key)
        if ct is None:
            ct = self.compiled[key] = CompiledTemplate(template, when)
        return ct.render(context)


_WORKER: Renderer | None = None


def _work(batch: list[tuple[Path, dict, dt.datetime]]) -> list[bytes]:
    global _WORKER  # noqa: PLW0603 - one renderer per worker process, reused across batches
    if _WORKER is None:
        _WORKER = Renderer()
    return [_WORKER.render(*item) for item in batch]


#: Below this many documents, one process is faster than forking workers (a document takes milliseconds).
PARALLEL_FROM = 150


def render_many(items: list[tuple[Path, dict, dt.datetime]], jobs: int | None = None) -> list[bytes]:
    """Render ``(template, context, when)`` items, in parallel over the cores for large batches.

    Templates are compiled once, in this process, before the workers are forked, so that each
    worker starts with them. The result is the same, byte for byte, whatever the number of processes.
    """
    global _WORKER  # noqa: PLW0603 - handed to the forked workers
    jobs = jobs or os.cpu_count() or 1
    renderer = Renderer()
    if jobs <= 1 or len(items) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
        return [renderer.render(*item) for item in items]
    first = {}
    for i, (template, _, when) in enumerate(items):
        first.setdefault((str(template), when), i)
    head = {i: renderer.render(*items[i]) for i in sorted(first.values())}  # compiles each template here
    rest = [i for i in range(len(items)) if i not in head]
    size = max(8, len(rest) // (jobs * 4))
    batches = [[items[i] for i in rest[k:k + size]] for k in range(0, len(rest), size)]
    _WORKER = renderer
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))
    try:
        done = [doc for batch in pool.map(_work, batches) for doc in batch]
    except BrokenProcessPool as err:  # a worker killed (out of memory…): name what it was rendering
        names = ", ".join(sorted({str(items[i][0]) for i in rest}))
        raise BuildTemplateError(f"un processus de rendu s'est arrêté brutalement (mémoire épuisée ?) ; "
                                 f"modèle(s) : {names}") from err
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on an error, the batches not started are dropped
        _WORKER = None
    out = dict(head)
    out.update(zip(rest, done, strict=True))
    return [out[i] for i in range(len(items))]


__all__ = ["CompiledTemplate", "Fragment", "Renderer", "render_many"]
