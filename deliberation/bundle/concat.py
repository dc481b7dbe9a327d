"""Finished PDFs put end to end into one, one input at a time: the signature pack ``actes.pdf``.

pypdf's ``PdfWriter`` holds every object of every input as Python objects until it writes: about six
times their bytes (230 MB for the 39 MB of a 550-act phase, the build's peak memory). Here each input
is parsed, its objects renumbered and written out at once, then dropped: memory is the output's bytes
and one input. A stream with no reference in its dictionary (a font file, a page's content, an image)
already written with the same bytes is written once and shared: the sheet descriptions converted once
for many acts (``bundle/parts.py``) bring their fonts and pages' contents once, not once per act.

Each input's pages keep what they inherit from their page tree (resources, boxes, rotation: pypdf's
``reader.pages`` copies it onto each page); its catalog, outline and names are not carried over (as
``PdfWriter.append(import_outline=False)`` did): one bookmark per input, given by the caller.
Same inputs, same bytes (``pdf.finish``'s metadata and ``/ID``, from the pages' contents as stored).

An input as ``pdf.finish`` writes it (plain objects, a cross-reference table, no object stream, no
encryption, nothing inherited from its page tree) is copied object by object as bytes, only its
references renumbered (``_add_raw``): pypdf reads its cross-references and page tree, never the
objects' contents, four times faster. Anything else is read by pypdf and written again (``_add_parsed``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from collections import deque

from deliberation.bundle.pdf import _pdf_date


def _walkers():
    """``refs(obj, found)`` and ``remap(obj, ids, parent)``, with pypdf's classes bound once (imported lazily)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

    def refs(obj, found: list) -> None:
        """Append to ``found`` every indirect reference inside the direct object ``obj`` (not under /Parent)."""
        if isinstance(obj, IndirectObject):
            found.append(obj)
        elif isinstance(obj, DictionaryObject):
            stream = isinstance(obj, StreamObject)
            for key, value in obj.items():
                if key != "/Parent" and not (stream and key == "/Length"):
                    refs(value, found)
        elif isinstance(obj, ArrayObject):
            for value in obj:
                refs(value, found)

    def remap(obj, ids: dict[tuple[int, int], int], parent: int | None = None):
        """A copy of the direct object ``obj`` whose references name the output's objects (``ids``)."""
        if isinstance(obj, IndirectObject):
            return IndirectObject(ids[(obj.idnum, obj.generation)], 0, None)  # type: ignore[arg-type]
        if isinstance(obj, DictionaryObject):
            stream = isinstance(obj, StreamObject)
            copy = StreamObject() if stream else DictionaryObject()
            for key, value in obj.items():
                if key == "/Parent":
                    if parent is not None:
                        copy[NameObject(key)] = IndirectObject(parent, 0, None)  # type: ignore[arg-type]
                elif not (stream and key == "/Length"):
                    copy[NameObject(key)] = remap(value, ids)
            if stream:
                copy._data = obj._data  # as stored (still encoded): written as read
            return copy
        if isinstance(obj, ArrayObject):
            return ArrayObject(remap(value, ids) for value in obj)
        return obj

    return refs, remap


def _serialise(obj) -> bytes:
    buf = io.BytesIO()
    obj.write_to_stream(buf)
    return buf.getvalue()


_REF = re.compile(rb"(?<![\w.#/+-])(\d+)\s+(\d+)\s+R(?![\w#])")
_STRING_CHAR = re.compile(rb"[()\\]")
_OBJ = re.compile(rb"\s*(\d+)\s+(\d+)\s+obj\b")
_STREAM = re.compile(rb"\bstream\r?\n")


def _strings(body: bytes, end: int) -> list[tuple[int, int]] | None:
    """The spans of the literal strings ``( … )`` in ``body[:end]``, None if one is not closed.

    Nested brackets and backslash escapes are followed, as in ISO 32000-1, 7.3.4.2.
    """
    spans: list[tuple[int, int]] = []
    i = body.find(b"(", 0, end)
    while i >= 0:
        depth, j = 0, i
        while True:
            m = _STRING_CHAR.search(body, j, end)
            if m is None:
                return None
            c = body[m.start()]
            j = m.start() + (2 if c == 0x5C else 1)  # a backslash escapes the next byte
            if c != 0x5C:
                depth += 1 if c == 0x28 else -1
                if depth == 0:
                    break
        spans.append((i, j))
        i = body.find(b"(", j, end)
    return spans


class _Raw:
    """One object as stored: its body, where its stream's data starts (if a stream), its references."""

    __slots__ = ("body", "data_at", "refs")

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.data_at = -1
        end = len(body)
        spans = _strings(body, end)
        stream = _STREAM.search(body)
        while stream is not None and spans is not None and any(a <= stream.start() < b for a, b in spans):
            stream = _STREAM.search(body, stream.end())  # « stream » inside a string: not the keyword
        if stream is not None:
            end = stream.start()
            self.data_at = stream.end()
            spans = _strings(body, end)
        if spans is None:
            raise ValueError("chaîne non fermée")
        self.refs = [m for m in _REF.finditer(body, 0, end) if not any(a <= m.start() < b for a, b in spans)]

    def data(self) -> bytes:
        """A stream's data as stored (what ``StreamObject._data`` holds)."""
        end = self.body.rfind(b"endstream")
        data = self.body[self.data_at:end]
        return data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith((b"\n", b"\r")) else data

    def renumbered(self, ids: dict[int, int | None]) -> bytes:
        """The body with every reference naming the output's object (``null`` for an object absent)."""
        pieces, at = [], 0
        for m in self.refs:
            new = ids.get(int(m.group(1)))
            pieces += [self.body[at:m.start()], b"null" if new is None else b"%d 0 R" % new]
            at = m.end()
        pieces.append(self.body[at:])
        return b"".join(pieces)


def _plain(data: bytes, reader) -> tuple[dict[int, _Raw], list[int], set[int], list[int]] | None:
    """Every object of a plain file (see the module) by number, its pages, page-tree nodes and contents.

    None when the file is not plain (it is then read by pypdf).
    """
    if reader.is_encrypted or reader.xref_objStm or set(reader.xref) - {0, 65535}:
        return None
    at = data.rfind(b"startxref")
    found = re.match(rb"startxref\s+(\d+)", data[at:]) if at >= 0 else None
    if found is None:
        return None
    offsets = sorted((off, num) for num, off in reader.xref.get(0, {}).items())
    bounds = [off for off, _ in offsets[1:]] + [int(found.group(1))]
    objects: dict[int, _Raw] = {}
    for (off, num), end in zip(offsets, bounds, strict=True):
        chunk = data[off:end]
        head = _OBJ.match(chunk)
        close = chunk.rfind(b"endobj")
        if head is None or int(head.group(1)) != num or head.group(2) != b"0" or close < 0:
            return None
        try:
            objects[num] = _Raw(chunk[head.end():close].strip(b" \t\r\n\f\0"))
        except ValueError:
            return None
    pages: list[int] = []
    nodes: set[int] = set()
    contents: list[int] = []  # the pages' content streams, in order (their data makes the /ID)

    def walk(ref, depth: int) -> bool:
        num = getattr(ref, "idnum", None)
        if num not in objects or num in nodes or num in pages or depth > 64:
            return False
        node = ref.get_object()
        if node.get("/Type") == "/Pages":
            nodes.add(num)
            if any(key in node for key in ("/Resources", "/MediaBox", "/CropBox", "/Rotate")):
                return False  # its pages inherit: read by pypdf, which copies that onto each page
            return all(walk(kid, depth + 1) for kid in node.raw_get("/Kids"))
        pages.append(num)
        drawn = node.raw_get("/Contents") if "/Contents" in node else []
        if hasattr(drawn, "idnum") and objects.get(drawn.idnum, _NO_STREAM).data_at < 0:
            drawn = drawn.get_object()  # an array of streams, stored apart
        for stream in drawn if isinstance(drawn, list) else [drawn]:
            if getattr(stream, "idnum", None) not in objects or objects[stream.idnum].data_at < 0:
                return False
            contents.append(stream.idnum)
        return True

    try:
        root = reader.trailer["/Root"].get_object().raw_get("/Pages")
    except (KeyError, AttributeError):
        return None
    return (objects, pages, nodes, contents) if walk(root, 0) else None


def _add_raw(plain, out: _Out, shared: dict[bytes, int], pages_id: int, digest) -> list[int]:
    """Copy the pages of a plain file (``_plain``) and what they reach; their new numbers."""
    objects, pages, nodes, contents = plain
    for num in contents:
        digest.update(objects[num].data())
    ids: dict[int, int | None] = dict.fromkeys(nodes, pages_id)  # a page's /Parent: the output's tree
    for num in pages:
        ids[num] = out.new_id()
    order: list[int] = []
    seen = set(pages) | nodes
    todo = deque(int(m.group(1)) for num in pages for m in objects[num].refs)
    while todo:  # every object the pages reach, in a fixed order
        num = todo.popleft()
        if num in seen or num not in objects:
            continue
        seen.add(num)
        order.append(num)
        todo.extend(int(m.group(1)) for m in objects[num].refs)
    later = []
    for num in order:
        obj = objects[num]
        if obj.data_at >= 0 and not obj.refs:  # a stream standing alone: shared when seen before
            h = hashlib.sha256(obj.body).digest()
            if h not in shared:
                shared[h] = out.new_id()
                out.write(shared[h], obj.body)
            ids[num] = shared[h]
        else:
            ids[num] = out.new_id()
            later.append(num)
    for num in pages:
        out.write(ids[num], objects[num].renumbered(ids))
    for num in later:
        out.write(ids[num], objects[num].renumbered(ids))
    return [ids[num] for num in pages]


_NO_STREAM = _Raw(b"null")


class _Out:
    """The output's body: objects written in order, with their offsets (from the body's start)."""

    def __init__(self, first: int) -> None:
        self.body = io.BytesIO()
        self.offsets: dict[int, int] = {}
        self.next = first

    def new_id(self) -> int:
        self.next += 1
        return self.next - 1

    def write(self, n: int, data: bytes) -> None:
        self.offsets[n] = self.body.tell()
        self.body.write(b"%d 0 obj\n%s\nendobj\n" % (n, data))


def _add_parsed(reader, out: _Out, shared: dict[bytes, int], pages_id: int, digest) -> list[int]:
    """Copy the pages of any readable PDF and what they reach, through pypdf's objects; their new numbers."""
    from pypdf.generic import ArrayObject, StreamObject

    _refs, _remap = _walkers()
    ids: dict[tuple[int, int], int] = {}
    objects: dict[tuple[int, int], object] = {}
    order: list[tuple[int, int]] = []
    own_pages = []
    for page in reader.pages:
        ref = page.indirect_reference
        key = (ref.idnum, ref.generation)
        ids[key] = out.new_id()
        own_pages.append((key, page))  # pypdf gives it what it inherits from its page tree
        objects[key] = page
    found_pages: list = []
    for _, page in own_pages:
        _refs(page, found_pages)
    todo = deque(found_pages)
    while todo:  # every object the pages reach, in a fixed order
        ref = todo.popleft()
        key = (ref.idnum, ref.generation)
        if key in objects:
            continue
        obj = objects[key] = ref.get_object()
        order.append(key)
        more: list = []
        _refs(obj, more)
        todo.extend(more)
    later = []
    for key in order:
        obj = objects[key]
        found_refs: list = []
        _refs(obj, found_refs)
        if isinstance(obj, StreamObject) and not found_refs:  # a stream standing alone: shared when seen before
            data_out = _serialise(_remap(obj, ids))
            h = hashlib.sha256(data_out).digest()
            if h not in shared:
                shared[h] = out.new_id()
                out.write(shared[h], data_out)
            ids[key] = shared[h]
        else:
            ids[key] = out.new_id()
            later.append(key)
    for key, page in own_pages:
        out.write(ids[key], _serialise(_remap(page, ids, parent=pages_id)))
        contents = page.get("/Contents")
        if contents is not None:
            contents = contents.get_object()
            for stream in contents if isinstance(contents, ArrayObject) else [contents]:
                digest.update(stream.get_object()._data)
    for key in later:
        out.write(ids[key], _serialise(_remap(objects[key], ids)))
    return [ids[key] for key, _ in own_pages]


def concatenate(inputs: list[tuple[bytes, str]], when: dt.datetime, title: str | None) -> tuple[bytes, int]:
    """One PDF of every ``(pdf, bookmark)`` of ``inputs`` in order, each bookmarked; and its page count.

    Raises:
        pypdf.errors.PdfReadError: an input is not a readable PDF.

    """
    from pypdf import PdfReader
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        IndirectObject,
        NameObject,
        NumberObject,
        TextStringObject,
    )


    info, catalog, pages_id, outlines_id = 1, 2, 3, 4
    out = _Out(5)
    shared: dict[bytes, int] = {}  # digest of a stream written → its object
    kids: list[int] = []
    marks: list[tuple[str, int]] = []  # bookmark → its first page's object
    digest = hashlib.md5(usedforsecurity=False)  # noqa: S324 - an identifier, as in pdf.finish
    version = 4
    for data, label in inputs:
        found = re.match(rb"%PDF-1\.(\d)", data)
        version = max(version, int(found.group(1)) if found else 4)
        reader = PdfReader(io.BytesIO(data))
        plain = _plain(data, reader)
        new = (_add_raw(plain, out, shared, pages_id, digest) if plain is not None
               else _add_parsed(reader, out, shared, pages_id, digest))
        kids += new
        if new:
            marks.append((label, new[0]))
        del reader, plain

    def ref(n: int) -> IndirectObject:
        return IndirectObject(n, 0, None)  # type: ignore[arg-type]

    items = [out.new_id() for _ in marks]
    for k, ((label, page), n) in enumerate(zip(marks, items, strict=True)):
        item = DictionaryObject({NameObject("/Title"): TextStringObject(label),
                                 NameObject("/Parent"): ref(outlines_id),
                                 NameObject("/Dest"): ArrayObject([ref(page), NameObject("/Fit")])})
        if k:
            item[NameObject("/Prev")] = ref(items[k - 1])
        if k + 1 < len(items):
            item[NameObject("/Next")] = ref(items[k + 1])
        out.write(n, _serialise(item))
    stamp = _pdf_date(when)
    meta = DictionaryObject({NameObject(k): TextStringObject(v) for k, v in (
        ("/Producer", "LibreOffice, deliberation"), ("/Creator", "deliberation"),
        ("/Author", "Département du Pas-de-Calais"), ("/CreationDate", stamp), ("/ModDate", stamp),
        *((("/Title", title),) if title else ()))})
    out.write(info, _serialise(meta))
    root = DictionaryObject({NameObject("/Type"): NameObject("/Catalog"), NameObject("/Pages"): ref(pages_id)})
    if items:
        root[NameObject("/Outlines")] = ref(outlines_id)
        out.write(outlines_id, _serialise(DictionaryObject({
            NameObject("/Type"): NameObject("/Outlines"), NameObject("/First"): ref(items[0]),
            NameObject("/Last"): ref(items[-1]), NameObject("/Count"): NumberObject(len(items))})))
    out.write(catalog, _serialise(root))
    out.write(pages_id, _serialise(DictionaryObject({
        NameObject("/Type"): NameObject("/Pages"), NameObject("/Kids"): ArrayObject(ref(n) for n in kids),
        NameObject("/Count"): NumberObject(len(kids))})))
    ident = digest.hexdigest().encode("ascii")
    head = b"%%PDF-1.%d\n%%\xe2\xe3\xcf\xd3\n" % version
    size = out.next
    xref = [b"0000000000 65535 f \n"]
    for n in range(1, size):
        at = out.offsets.get(n)
        xref.append(b"%010d 00000 n \n" % (len(head) + at) if at is not None else b"0000000000 65535 f \n")
    start = len(head) + out.body.tell()
    tail = (b"xref\n0 %d\n%s" % (size, b"".join(xref))
            + b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%s> <%s>] >>\nstartxref\n%d\n%%%%EOF\n"
            % (size, catalog, info, ident, ident, start))
    return head + out.body.getvalue() + tail, len(kids)


__all__ = ["concatenate"]
