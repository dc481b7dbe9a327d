"""A diagonal « PROJET » behind every page of a draft, so that it cannot be mistaken for a final act.

A document is a draft (``is_projet``) when it is an act whose banner says PROJET (``acte.projet``: values
to fill in, or a template the Département has not adopted) or a document of the délibération whose
stamp says it was built from a reconstruction (``PROJET_STAMP``). Such a document gets, in every header
of every section (default, first page, even pages; a header part is made where the template has none),
a text box anchored to the page: « PROJET » in large light grey capitals, turned 45°, centred on the
page, behind the text. It is a DrawingML text box (``wps``), as Word writes them: Word shows it turned.

LibreOffice (7.4) lays such a text box out unturned, and exports Word's own watermark (a VML Fontwork
shape) as outlines, not text. So the PDF gets its watermark from the conversion: the documents handed to
LibreOffice lose their watermark (``for_converter``) and each page of their PDF is drawn over a
« PROJET » turned 45°, as text (``bundle.pdf.draw_watermark``): what Word shows, and a word that a
search or a text extraction finds on every page.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from lxml import etree

#: Before the stamp of a document of the délibération built from a reconstruction (``templates/statuts.yaml``).
PROJET_STAMP = "PROJET (modèle reconstitué) — "

#: The word printed across the page.
WORD = "PROJET"
#: Name of the watermark's drawing in a header (``wp:docPr/@name``), followed by its id.
MARK = "Filigrane PROJET"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
HEADER_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/header"
HEADER_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.header+xml"
#: Name of the header part made for documents whose template has none (next to ``word/document.xml``).
NEW_HEADER = "header-projet.xml"
_REL_ID = "rIdProjet"
_TYPES = ("default", "first", "even")

_NS = {
    "w": W, "r": R, "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
    "wps": "http://schemas.microsoft.com/office/word/2010/wordprocessingShape",
}
_XMLNS = " ".join(f'xmlns:{k}="{v}"' for k, v in _NS.items())
_EMU_CM = 360000
#: The text box: 18 × 5 cm, « PROJET » in 110 pt bold Arial, light grey (its centre at the page's centre).
_BOX = (18 * _EMU_CM, 5 * _EMU_CM)
_SIZE_HALF_POINTS = 220
_GREY = "C8C8C8"
_ROTATION = 315 * 60000  # clockwise, in 60 000ths of a degree: the word rises from bottom left to top right


def _paragraph(shape_id: int) -> etree._Element:
    """The header paragraph holding the anchored text box (its ``wp:docPr`` id: ``shape_id``)."""
    cx, cy = _BOX
    xml = f"""<w:p {_XMLNS}><w:pPr><w:spacing w:before="0" w:after="0"/><w:rPr><w:sz w:val="2"/></w:rPr></w:pPr>
<w:r><w:rPr><w:noProof/><w:sz w:val="2"/></w:rPr><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>
<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="1" behindDoc="1" locked="1"
 layoutInCell="0" allowOverlap="1"><wp:simplePos x="0" y="0"/>
<wp:positionH relativeFrom="page"><wp:align>center</wp:align></wp:positionH>
<wp:positionV relativeFrom="page"><wp:align>center</wp:align></wp:positionV>
<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>
<wp:docPr id="{shape_id}" name="{MARK} {shape_id}" descr="{WORD}"/><wp:cNvGraphicFramePr/>
<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>
<wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm rot="{_ROTATION}"><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>
<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>
<wps:txbx><w:txbxContent><w:p><w:pPr><w:spacing w:before="0" w:after="0" w:line="240" w:lineRule="auto"/>
<w:jc w:val="center"/></w:pPr><w:r><w:rPr><w:rFonts w:ascii="Arial" w:hAnsi="Arial" w:cs="Arial"/><w:b/><w:bCs/>
<w:color w:val="{_GREY}"/><w:sz w:val="{_SIZE_HALF_POINTS}"/><w:szCs w:val="{_SIZE_HALF_POINTS}"/></w:rPr>
<w:t>{WORD}</w:t></w:r></w:p></w:txbxContent></wps:txbx>
<wps:bodyPr rot="0" vert="horz" wrap="none" lIns="0" tIns="0" rIns="0" bIns="0" anchor="ctr" anchorCtr="0">
<a:noAutofit/></wps:bodyPr></wps:wsp></a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>
</mc:AlternateContent></w:r></w:p>"""
    return etree.fromstring(xml.replace("\n", ""))


def is_projet(context: dict) -> bool:
    """Whether the document rendered from ``context`` is a draft: an act saying PROJET, or a PROJET stamp."""
    acte = context.get("acte")
    if isinstance(acte, dict) and acte.get("projet"):
        return True
    tampon = context.get("tampon")
    return isinstance(tampon, str) and tampon.startswith(PROJET_STAMP)


def _mark(header: etree._Element, shape_id: int) -> None:
    """Put the watermark's paragraph first in a header (once)."""
    if header.xpath(".//wp:docPr[@descr=$word]", namespaces=_NS, word=WORD):
        return
    header.insert(0, _paragraph(shape_id))


def add_watermark(document: etree._Element, parts: dict[str, bytes], rels: bytes, content_types: bytes,
                  document_part: str = "word/document.xml") -> dict[str, bytes]:
    """Mark every page of a document « PROJET »; return the package parts changed or added.

    ``document`` is the rendered ``w:document`` element (its sections get the header references they
    lack, in place); ``parts`` the rendered header and footer parts by name; ``rels`` and
    ``content_types`` the document's relationships and the package's content types. Every existing
    header gets the watermark; a section without a header of some kind (default, first page, even
    pages) gets the one its previous section has, else a header holding only the watermark.
    """
    folder = document_part.rsplit("/", 1)[0]
    rels_tree = etree.fromstring(rels)
    targets = {rel.get("Id"): f"{folder}/{rel.get('Target')}" for rel in rels_tree
               if rel.get("Type") == HEADER_REL}
    out: dict[str, bytes] = {}
    shape_id = 900000
    for name in sorted(n for n in set(targets.values()) if n in parts):
        shape_id += 1
        header = etree.fromstring(parts[name])
        _mark(header, shape_id)
        out[name] = etree.tostring(header, encoding="UTF-8", standalone=True)
    needs_new = False
    inherited: dict[str, str] = {}
    for sect in document.iter(f"{{{W}}}sectPr"):
        refs = {ref.get(f"{{{W}}}type", "default"): ref for ref in sect.findall(f"{{{W}}}headerReference")}
        added = 0
        for kind in _TYPES:
            if kind in refs:
                inherited[kind] = refs[kind].get(f"{{{R}}}id")
                continue
            rid = inherited.get(kind, _REL_ID)
            needs_new |= rid == _REL_ID
            ref = etree.Element(f"{{{W}}}headerReference")
            ref.set(f"{{{W}}}type", kind)
            ref.set(f"{{{R}}}id", rid)
            sect.insert(added, ref)  # header references come first in a section's properties
            added += 1
            inherited[kind] = rid
    if needs_new:
        header = etree.fromstring(f"<w:hdr {_XMLNS}/>".encode())
        _mark(header, 900000)
        out[f"{folder}/{NEW_HEADER}"] = etree.tostring(header, encoding="UTF-8", standalone=True)
        rel = etree.SubElement(rels_tree, f"{{{PKG_RELS}}}Relationship")
        rel.set("Id", _REL_ID)
        rel.set("Type", HEADER_REL)
        rel.set("Target", NEW_HEADER)
        out[f"{folder}/_rels/{document_part.rsplit('/', 1)[1]}.rels"] = etree.tostring(
            rels_tree, encoding="UTF-8", standalone=True)
        types = etree.fromstring(content_types)
        override = etree.SubElement(types, f"{{{CT}}}Override")
        override.set("PartName", f"/{folder}/{NEW_HEADER}")
        override.set("ContentType", HEADER_CT)
        out["[Content_Types].xml"] = etree.tostring(types, encoding="UTF-8", standalone=True)
    return out


def _unmarked(header: bytes) -> bytes:
    """A header part without the watermark's paragraph."""
    root = etree.fromstring(header)
    for doc_pr in root.xpath(".//wp:docPr[starts-with(@name, $mark)]", namespaces=_NS, mark=MARK):
        paragraph = next(doc_pr.iterancestors(f"{{{W}}}p"))
        paragraph.getparent().remove(paragraph)
    return etree.tostring(root, encoding="UTF-8", standalone=True)


def zip_replacing(data: bytes, infos: list[zipfile.ZipInfo], new: dict[str, bytes],
                  level: int = zlib.Z_DEFAULT_COMPRESSION) -> bytes:
    """A copy of the zip ``data`` with the members named in ``new`` replaced; the others copied as they are.

    The members kept are not inflated and deflated again: their compressed bytes are copied. ``level``:
    zlib's compression level of the members replaced (1 for a copy read once, by LibreOffice).
    """
    out = io.BytesIO()
    central = []
    for info in infos:
        raw_name = info.filename.encode("utf-8")
        if info.filename in new:
            body = new[info.filename]
            c = zlib.compressobj(level, zlib.DEFLATED, -15)
            crc, size, method, packed = zlib.crc32(body), len(body), zipfile.ZIP_DEFLATED, c.compress(body) + c.flush()
        else:
            start = info.header_offset
            name_len, extra_len = struct.unpack("<HH", data[start + 26:start + 30])
            begin = start + 30 + name_len + extra_len
            crc, size, method = info.CRC, info.file_size, info.compress_type
            packed = data[begin:begin + info.compress_size]
        y, mo, d, h, mi, sec = info.date_time
        date, time = ((y - 1980) << 9) | (mo << 5) | d, (h << 11) | (mi << 5) | (sec // 2)
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x800, method, time, date, crc, len(packed), size,
                              len(raw_name), 0) + raw_name + packed)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0x800, method, time, date, crc,
                                   len(packed), size, len(raw_name), 0, 0, 0, 0, 0, offset) + raw_name)
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def for_converter(docx: bytes) -> tuple[bytes, bool]:
    """The document to hand to LibreOffice, and whether it is marked « PROJET ».

    A marked document is returned without its watermark (its PDF gets its own, ``bundle.pdf.draw_watermark``),
    an unmarked one as it is.
    """
    mark = MARK.encode()
    with zipfile.ZipFile(io.BytesIO(docx)) as z:
        infos = z.infolist()
        headers = {i.filename: z.read(i) for i in infos if i.filename.startswith("word/header")}
    marked = {name: _unmarked(data) for name, data in headers.items() if mark in data}
    if not marked:
        return docx, False
    return zip_replacing(docx, infos, marked), True


__all__ = ["MARK", "PROJET_STAMP", "WORD", "add_watermark", "for_converter", "is_projet", "zip_replacing"]
