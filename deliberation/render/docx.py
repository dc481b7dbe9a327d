"""Word rendering with docxtpl under a sandboxed, strict, autoescaping Jinja environment.

Templates come from a folder the user names (``--modeles``), so rendering has limits; each broken
one stops the build with a ``TemplateError`` (exit 3) naming the template:

- time: one document may render for ``DELIBERATION_RENDER_TIMEOUT`` seconds (default 60). The
  deadline is checked on every call made by a template (macros, methods, recursion) and every
  1 024 turns of a loop; a document may make at most ``MAX_ITERATIONS`` loop turns in all;
- size: an operator (``*``, ``+``, ``**``, ``%``), a padding filter (``center``, ``indent``…) or a
  padding string method never builds a value over ``MAX_LENGTH`` characters or items, nor an
  integer over ``MAX_INT_BITS`` bits; a rendered part may not exceed ``MAX_OUTPUT`` characters;
  ``MemoryError`` becomes a template error;
- XML: a template's parts are read from a zip of at most ``MAX_TEMPLATE_BYTES`` and may not declare a
  DOCTYPE (external or internal entities: file reads, billion laughs).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import re
import time
import zipfile
import zlib
from pathlib import Path

from docxtpl import DocxTemplate
from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, nodes
from jinja2.filters import FILTERS as JINJA_FILTERS
from jinja2.sandbox import MAX_RANGE, SandboxedEnvironment, SecurityError
from lxml import etree

from deliberation.findings import BuildError
from deliberation.findings import TemplateError as BuildTemplateError
from deliberation.fsio import normalise_zip
from deliberation.messages import library_error
from deliberation.render import finish
from deliberation.render.filters import FILTERS
from deliberation.render.markdown import MarkdownText, SheetTable, add_markdown, add_sheet_table
from deliberation.render.tables import split_long_tables
from deliberation.render.watermark import add_watermark, is_projet

#: Seconds one document may take to render, unless ``DELIBERATION_RENDER_TIMEOUT`` says otherwise.
DEFAULT_TIMEOUT = 60.0
TIMEOUT_VAR = "DELIBERATION_RENDER_TIMEOUT"
#: Loop turns one document may make (all loops together): bounds the memory an endless loop fills.
MAX_ITERATIONS = 5_000_000
#: Characters (or items) of a string (or list) built by an operator, a padding filter or method.
MAX_LENGTH = 10_000_000
#: Bits of an integer built by ``*`` or ``**``.
MAX_INT_BITS = 100_000
#: Characters of one rendered part (body, header, footer) of a document.
MAX_OUTPUT = 200_000_000
#: Bytes of a template's parts once decompressed.
MAX_TEMPLATE_BYTES = 200_000_000

_TICK = 1024  # loop turns between two looks at the clock
_LOOP_FILTER = "_loop_guard"  # the filter every loop's items go through

#: What a template that exhausted memory is told.
MEMORY_MESSAGE = "mémoire épuisée pendant le rendu (valeur ou boucle démesurée dans le modèle ?)"


class RenderLimitError(SecurityError):
    """A template went past a rendering limit (time, loop turns, size of a value)."""


def render_timeout() -> float:
    """Seconds allowed to render one document: ``DELIBERATION_RENDER_TIMEOUT``, else ``DEFAULT_TIMEOUT``.

    Raises:
        BuildError: the variable is set but is not a positive number of seconds.

    """
    raw = os.environ.get(TIMEOUT_VAR, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        value = 0.0
    if not 0 < value < math.inf:
        raise BuildError(f"{TIMEOUT_VAR} : « {raw} » n'est pas un nombre de secondes positif")
    return value


# printf conversions: ``%(key)-08.3f``; a ``*`` width or precision, or a huge one, is refused
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_PADDING_METHODS = frozenset({"center", "ljust", "rjust", "zfill", "expandtabs"})


def _check_printf(fmt: str) -> None:
    if "%" in fmt:
        for m in _PRINTF.finditer(fmt):
            for n in m.groups():
                if n == "*" or (n is not None and len(n) > 7):
                    raise RenderLimitError(f"format « {m.group(0)[:20]} » refusé (largeur démesurée)")


def _n(number: int) -> str:
    """``10 000 000``: digits grouped the French way (a plain space, as in the engine's messages)."""
    return f"{number:,}".replace(",", " ")


def _sized(value) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _capped_filter(name: str, key: str, limit: int):
    """Jinja's filter ``name`` with its size argument ``key`` (the first after the value) at most ``limit``."""
    inner = JINJA_FILTERS[name]
    pass_arg = getattr(inner, "jinja_pass_arg", None)
    at = 2 if pass_arg is not None else 1  # (eval context,) value, size

    def capped(*args, **kwargs):
        n = args[at] if len(args) > at else kwargs.get(key)
        if isinstance(n, int) and n > limit:
            raise RenderLimitError(f"filtre « {name} » : taille {_n(n)} refusée (au plus {_n(limit)})")
        return inner(*args, **kwargs)

    capped.__name__ = name
    if pass_arg is not None:
        capped.jinja_pass_arg = pass_arg
    return capped


def _printf_filter(value, *args, **kwargs):
    """Jinja's ``format`` filter, with huge printf widths refused."""
    _check_printf(str(value))
    return JINJA_FILTERS["format"](value, *args, **kwargs)


class GuardedEnvironment(SandboxedEnvironment):
    """The sandbox, with a deadline per document and caps on the size of what a template builds.

    ``start()`` opens a document's budget: its deadline and its loop turns.
    """

    intercepted_binops = frozenset({"*", "+", "**", "%"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.globals.pop("lipsum", None)  # n paragraphs of filler: an unchecked loop, of no use here
        self.filters.update({
            "center": _capped_filter("center", "width", MAX_LENGTH),  # " " * width
            "indent": _capped_filter("indent", "width", MAX_LENGTH),
            "batch": _capped_filter("batch", "linecount", MAX_LENGTH),  # padded to linecount items
            "slice": _capped_filter("slice", "slices", MAX_RANGE),  # a Python loop over slices
            "format": _printf_filter,
            _LOOP_FILTER: self.guarded_iter,
        })
        self.timeout = math.inf
        self.deadline = math.inf
        self.turns_left = MAX_ITERATIONS

    def start(self, timeout: float) -> None:
        """Open the budget of one document: ``timeout`` seconds from now, ``MAX_ITERATIONS`` loop turns."""
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.turns_left = MAX_ITERATIONS

    def _late(self) -> None:
        raise RenderLimitError(f"rendu arrêté après {self.timeout:g} s pour un seul document (boucle ou récursion "
                               f"sans fin ? délai : {TIMEOUT_VAR})")

    def _spend(self, turns: int) -> None:
        self.turns_left -= turns
        if self.turns_left < 0:
            raise RenderLimitError(f"rendu arrêté : plus de {_n(MAX_ITERATIONS)} tours de boucle pour un seul document")
        if time.monotonic() > self.deadline:
            self._late()

    def _parse(self, source, name, filename):
        """Parse, then route every ``{% for %}`` over :meth:`guarded_iter` (the loop's clock and count).

        A filter rather than a call: compiled as a direct call, it costs less than the sandbox's ``call``.
        """
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.lineno)
        return tree

    def guarded_iter(self, iterable):
        """The items of ``iterable``, counted against the document's budget, the clock read every 1 024."""
        n = 0
        for item in iterable:
            n += 1
            if n == _TICK:
                self._spend(n)
                n = 0
            yield item
        self._spend(n)

    def call(self, context, obj, /, *args, **kwargs):
        """Every call a template makes: the deadline first, then padding methods capped, then the sandbox."""
        if time.monotonic() > self.deadline:
            self._late()
        if args and type(args[0]) is int and args[0] > MAX_LENGTH and isinstance(getattr(obj, "__self__", None), str) \
                and getattr(obj, "__name__", "") in _PADDING_METHODS:
            raise RenderLimitError(f"« {obj.__name__}({args[0]}) » refusé (au plus {_n(MAX_LENGTH)} caractères)")
        return super().call(context, obj, *args, **kwargs)

    def call_binop(self, context, operator, left, right):
        """``*``, ``+``, ``**`` and ``%``, refused when the result would be huge (checked before computing it)."""
        if operator == "*":
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise RenderLimitError(f"produit refusé : nombre de plus de {_n(MAX_INT_BITS)} bits")
            else:
                size, count = (_sized(right), left) if isinstance(left, int) else (_sized(left), right)
                if size is not None and isinstance(count, int) and size * count > MAX_LENGTH:
                    raise RenderLimitError(f"répétition refusée : {_n(size * count)} éléments (au plus "
                                           f"{_n(MAX_LENGTH)})")
        elif operator == "+":
            a, b = _sized(left), _sized(right)
            if a is not None and b is not None and a + b > MAX_LENGTH:
                raise RenderLimitError(f"concaténation refusée : {_n(a + b)} éléments (au plus {_n(MAX_LENGTH)})")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and abs(left) > 1 \
                    and (abs(left) - 1).bit_length() * right > MAX_INT_BITS:
                raise RenderLimitError(f"puissance refusée : nombre de plus de {_n(MAX_INT_BITS)} bits")
        elif isinstance(left, str):
            _check_printf(left)
        return self.binop_table[operator](left, right)


def environment() -> GuardedEnvironment:
    """The Jinja environment every template renders in: sandboxed, strict, autoescaped, with limits."""
    env = GuardedEnvironment(undefined=StrictUndefined, autoescape=True, keep_trailing_newline=True)
    env.filters.update(FILTERS)
    return env


# ---------------------------------------------------------------------------
# reading templates

_ASCII_FAMILY = re.compile(rb"utf-?8|(us-)?ascii|iso[-_]?8859-\d+|latin-?1|(windows|cp)-?125\d", re.I)
_ENCODING = re.compile(rb"\A<\?xml[^>]*?encoding\s*=\s*[\"']([^\"']*)")
_SAFE_XML = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _declares_doctype(data: bytes) -> bool:
    """True when ``data`` is XML with a DOCTYPE (never resolving or loading anything)."""
    head = data[:512].removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    if head.startswith(b"<") and head[1:2] != b"\0":
        m = _ENCODING.match(head)
        if m is None or _ASCII_FAMILY.fullmatch(m.group(1)):  # ASCII as ASCII: the bytes are searched as is
            return b"<!DOCTYPE" in data
    elif not head.startswith((b"<", b"\xff\xfe", b"\xfe\xff", b"\0", b"\x4c\x6f\xa7\x94")):
        return False  # not XML (a picture…)
    try:  # another encoding (UTF-16…): the parser tells
        info = etree.fromstring(data, _SAFE_XML).getroottree().docinfo
    except etree.XMLSyntaxError:
        return any(word in data for word in (b"DOCTYPE", "DOCTYPE".encode("utf-16-le"), "DOCTYPE".encode("utf-16-be")))
    return bool(info.doctype) or info.internalDTD is not None or info.externalDTD is not None


def template_members(path: Path, data: bytes | None = None) -> dict[str, bytes]:
    """Every member of Word template ``path`` (its bytes ``data`` if already read), checked.

    Raises:
        BuildTemplateError: the file is not a readable zip, is too large once decompressed, or one of
            its XML parts declares a DOCTYPE (entities could read files or fill memory).

    """
    try:
        data = path.read_bytes() if data is None else data
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            total = sum(i.file_size for i in infos)
            if total > MAX_TEMPLATE_BYTES:
                raise BuildTemplateError(f"{path}: modèle invalide : {total // 1_000_000} Mo une fois décompressé "
                                         f"(au plus {MAX_TEMPLATE_BYTES // 1_000_000} Mo)")
            members = {i.filename: z.read(i) for i in infos}
    except (OSError, KeyError, ValueError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile,
            zlib.error) as err:
        raise BuildTemplateError(f"{path}: modèle illisible ({library_error(err)})") from err
    for name, member in members.items():
        if _declares_doctype(member):
            raise BuildTemplateError(f"{path}: modèle invalide : {name} : déclaration DOCTYPE interdite "
                                     f"(entités XML refusées)")
    return members


def _with_subdocs(value, tpl: DocxTemplate):
    """Replace every ``MarkdownText`` of the context by a rendered sub-document of ``tpl``."""
    if isinstance(value, MarkdownText):
        sub = tpl.new_subdoc()
        add_markdown(sub.subdocx, value.text)
        return sub
    if isinstance(value, SheetTable):
        sub = tpl.new_subdoc()
        add_sheet_table(sub.subdocx, value.rows, value.mark)
        return sub
    if isinstance(value, dict):
        return {k: _with_subdocs(v, tpl) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_subdocs(v, tpl) for v in value]
    return value


def render_docx(template: Path, context: dict, when: dt.datetime) -> bytes:
    """Render ``template`` with ``context``; return normalised DOCX bytes (fixed dates, fixed order).

    Raises:
        BuildTemplateError: the template is missing, unreadable, refers to an unknown value or goes
            past a rendering limit.

    """
    template_members(template)
    try:
        tpl = DocxTemplate(str(template))
        tpl.init_docx()
    except (OSError, KeyError, zipfile.BadZipFile, ValueError) as err:
        msg = f"{template}: modèle Word illisible ({library_error(err)})"
        raise BuildTemplateError(msg) from err
    env = environment()
    env.start(render_timeout())
    try:
        tpl.render(_with_subdocs(context, tpl), jinja_env=env, autoescape=True)
    except UndefinedError as err:
        raise BuildTemplateError(f"{template}: valeur inconnue dans le modèle : {err.message}") from err
    except TemplateSyntaxError as err:
        raise BuildTemplateError(f"{template}: balise mal formée : {err.message}") from err
    except RenderLimitError as err:
        raise BuildTemplateError(f"{template}: {library_error(err)}") from err
    except TemplateError as err:
        raise BuildTemplateError(f"{template}: erreur de modèle : {library_error(err)}") from err
    except MemoryError as err:
        raise BuildTemplateError(f"{template}: {MEMORY_MESSAGE}") from err
    split_long_tables(tpl.docx.element.body)  # LibreOffice lays out one long table in quadratic time
    props = tpl.docx.core_properties
    props.author = "Département du Pas-de-Calais"
    props.last_modified_by = "deliberation"
    props.created = props.modified = when
    props.last_printed = when
    props.revision = 1
    buf = io.BytesIO()
    tpl.save(buf)
    return normalise_zip(finish_package(buf.getvalue(), context), when)


def finish_package(data: bytes, context: dict) -> bytes:
    """The last pass of ``compiled`` on a whole DOCX: typography, layout, lists, blanks, a draft's watermark.

    The reference renderer (docxtpl, one document at a time) finishes its documents as the compiled one does.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        infos = z.infolist()
        members = {i.filename: z.read(i) for i in infos}
    document_part = "word/document.xml"
    root = finish.parse(members[document_part])
    body = root.find(f"{{{finish.W}}}body")
    finish.typeset(body)
    finish.highlight_blanks(body)
    finish.lay_out(body)
    if "word/numbering.xml" in members and "word/styles.xml" in members:
        numbered = finish.numbered_styles(members["word/styles.xml"])
        numbering = finish.restart_lists(body, members["word/numbering.xml"], numbered) if numbered else None
        if numbering is not None:
            members["word/numbering.xml"] = numbering
    parts = {}
    for name in members:
        if re.fullmatch(r"word/(header|footer)\d*\.xml", name):
            part = finish.parse(members[name])
            finish.typeset(part)
            finish.highlight_blanks(part)
            parts[name] = etree.tostring(part, encoding="UTF-8", standalone=True)
    members.update(parts)
    rels = "word/_rels/document.xml.rels"
    if is_projet(context) and rels in members:
        members.update(add_watermark(root, parts, members[rels], members["[Content_Types].xml"], document_part))
    members[document_part] = etree.tostring(root, encoding="UTF-8", standalone=True)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, value in members.items():
            z.writestr(name, value)
    return out.getvalue()


def template_variables(template: Path) -> set[str]:
    """Top-level names a template uses (for checking it against the context before rendering)."""
    tpl = DocxTemplate(str(template))
    return set(tpl.get_undeclared_template_variables(environment()))
