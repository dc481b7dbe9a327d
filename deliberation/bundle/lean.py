"""The copy of a DOCX handed to LibreOffice: the same pages, without the styles nobody uses.

Every document built from the Département's templates carries Word's whole style gallery: about
350 kB of ``styles.xml`` (some 300 styles, most never used, and the « latent » styles Word lists in
its menus) and a 440 kB ``stylesWithEffects.xml`` kept for Word 2010. LibreOffice reads and builds
all of it for each document it converts, which costs more than laying out a short act: on the
500-avenant phase, a quarter of the conversion time.

``lean_docx`` keeps, in the copy converted to PDF, the styles the document uses (named by any of its
parts, with the styles they are based on, linked to or followed by, and each type's default style)
and the document defaults; it drops the latent styles and ``stylesWithEffects.xml`` (LibreOffice
ignores that part). What a style says is never changed, so the pages are the same: the
text-equivalence test (``tests/test_lean.py``) compares the text of every page with the conversion
of the whole document. The DOCX written to the bundle is never touched.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib

from deliberation.render.watermark import zip_replacing

_STYLE = re.compile(rb"<w:style\b[^>]*>.*?</w:style>", re.S)
_STYLE_ID = re.compile(rb'w:styleId="([^"]*)"')
_REFERENCE = re.compile(rb"<w:(?:pStyle|rStyle|tblStyle|numStyleLink|styleLink|clickAndTypeStyle|defaultTableStyle)"
                        rb'\b[^>]*\bw:val="([^"]*)"')
_CHAIN = re.compile(rb'<w:(?:basedOn|link|next)\b[^>]*\bw:val="([^"]*)"')
_LATENT = re.compile(rb"<w:latentStyles\b.*?</w:latentStyles>|<w:latentStyles\b[^>]*/>", re.S)
_EFFECTS = "word/stylesWithEffects.xml"
_EFFECTS_ENTRY = re.compile(rb"<(?:Relationship|Override)\b[^>]*stylesWithEffects\.xml[^>]*/>")


class _Styles:
    """One ``styles.xml`` cut into its styles: what each depends on, and the text around them."""

    def __init__(self, xml: bytes):
        self.pieces: list[bytes | tuple[bytes, bytes]] = []  # text, or (style id, style XML)
        self.needs: dict[bytes, set[bytes]] = {}
        self.defaults: set[bytes] = set()
        at = 0
        for m in _STYLE.finditer(xml):
            block = m.group(0)
            ident = _STYLE_ID.search(block[:block.find(b">") + 1])
            if ident is None:
                continue
            sid = ident.group(1)
            self.pieces.append(xml[at:m.start()])
            self.pieces.append((sid, block))
            self.needs[sid] = set(_CHAIN.findall(block))
            if b'w:default="1"' in block[:block.find(b">") + 1]:
                self.defaults.add(sid)
            at = m.end()
        self.pieces.append(xml[at:])
        self._cut: dict[frozenset[bytes], bytes] = {}

    def keeping(self, used: set[bytes]) -> bytes:
        """The ``styles.xml`` with only ``used`` and what they need (and without latent styles)."""
        keep: set[bytes] = set()
        todo = [*used, *self.defaults]
        while todo:
            sid = todo.pop()
            if sid in keep or sid not in self.needs:
                continue
            keep.add(sid)
            todo.extend(self.needs[sid])
        key = frozenset(keep)
        if key not in self._cut:
            out = b"".join(p if isinstance(p, bytes) else p[1] for p in self.pieces
                           if isinstance(p, bytes) or p[0] in keep)
            self._cut[key] = _LATENT.sub(b"", out, count=1)
        return self._cut[key]


#: Parsed ``styles.xml`` by its ZIP checksum and size (a build's documents share a handful of them).
_PARSED: dict[tuple[int, int], _Styles] = {}


def _styles(src: zipfile.ZipFile, info: zipfile.ZipInfo) -> _Styles:
    key = (info.CRC, info.file_size)
    if key not in _PARSED:
        if len(_PARSED) >= 16:
            _PARSED.clear()
        _PARSED[key] = _Styles(src.read(info))
    return _PARSED[key]


def lean_docx(docx: bytes) -> bytes:
    """``docx`` without its unused styles and Word 2010's copy of them; itself if it is not a usual DOCX.

    The parts left as they are keep their compressed bytes.
    """
    try:
        src = zipfile.ZipFile(io.BytesIO(docx))
        infos = src.infolist()
        names = {i.filename for i in infos}
        if "word/styles.xml" not in names:
            return docx
        styles = _styles(src, src.getinfo("word/styles.xml"))
        parts = {i.filename: src.read(i) for i in infos if i.filename not in ("word/styles.xml", _EFFECTS)}
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, zlib.error):
        return docx
    used: set[bytes] = set()
    for name, data in parts.items():
        if name.endswith(".xml") and name.startswith("word/") and "styles" not in name.rsplit("/", 1)[-1].lower():
            used.update(_REFERENCE.findall(data))
    parts["word/styles.xml"] = styles.keeping(used)
    if _EFFECTS in names:
        for name in ("word/_rels/document.xml.rels", "[Content_Types].xml"):
            if name in parts:
                parts[name] = _EFFECTS_ENTRY.sub(b"", parts[name])
    new = {name: parts[name] for name in ("word/styles.xml", "word/_rels/document.xml.rels", "[Content_Types].xml")
           if name in parts}
    return zip_replacing(docx, [i for i in infos if i.filename != _EFFECTS], new)


__all__ = ["lean_docx"]
