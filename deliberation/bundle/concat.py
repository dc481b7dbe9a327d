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
        StreamObject,
        TextStringObject,
    )


    _refs, _remap = _walkers()

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
        ids: dict[tuple[int, int], int] = {}
        objects: dict[tuple[int, int], object] = {}
        order: list[tuple[int, int]] = []
        own_pages = []
        for page in reader.pages:
            ref = page.indirect_reference
            key = (ref.idnum, ref.generation)
            ids[key] = out.new_id()
            own_pages.append((key, page))  # pypdf gives it what it inherits from its page tree
            objects[key] = own_pages[-1][1]
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
            kids.append(ids[key])
            contents = page.get("/Contents")
            if contents is not None:
                contents = contents.get_object()
                for stream in contents if isinstance(contents, ArrayObject) else [contents]:
                    digest.update(stream.get_object()._data)
        for key in later:
            out.write(ids[key], _serialise(_remap(objects[key], ids)))
        if own_pages:
            marks.append((label, ids[own_pages[0][0]]))
        del reader, objects

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
