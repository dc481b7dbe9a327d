"""Redlines: a Word copy of each changed document, with tracked changes against its previous version.

When the two versions differ only in the words of some paragraphs (an amended amount: the usual case),
the tracked changes are computed here (``bundle.tracked``, word by word, in milliseconds). Otherwise the
comparison is done by Python-Redlines' Docxodus engine (a compiled Open-XML comparer shipped in the
wheel; about 0.7 s per document, most of it .NET start-up). The lawyer opens the copy in Word or
LibreOffice and accepts or rejects each change.
The revision date is the build date (from the dossier), and the file is normalised like every
other DOCX, so redlines are reproducible too.
"""

from __future__ import annotations

import datetime as dt
import os
from concurrent.futures import ThreadPoolExecutor

from deliberation.bundle.tracked import tracked_redline
from deliberation.fsio import normalise_zip

#: Folder of the bundle that holds the redlines of the latest version.
REVISIONS = "revisions"


class RedlineUnavailable(Exception):  # noqa: N818 - reported as a note, never a crash
    """The comparison engine is missing or failed; ``done`` holds the redlines made without it."""

    def __init__(self, message: str, done: dict[str, bytes] | None = None, missing: list[str] | None = None):
        super().__init__(message)
        self.done = done or {}
        self.missing = missing or []


def _engine():
    # .NET needs ICU for culture data unless told not to; the comparison needs no culture data.
    os.environ.setdefault("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
    try:
        from python_redlines import DocxodusEngine
    except ImportError as err:
        raise RedlineUnavailable("le paquet python-redlines[docxodus] n'est pas installé") from err
    try:
        return DocxodusEngine()
    except Exception as err:  # the binary cannot be found or unpacked
        raise RedlineUnavailable(f"moteur de comparaison indisponible : {err}") from err


def redline(old: bytes, new: bytes, author: str, when: dt.datetime, engine=None) -> bytes:
    """``new`` with tracked changes against ``old`` (deletions and insertions by ``author`` at ``when``).

    Raises:
        RedlineUnavailable: the engine is missing or fails on these documents.

    """
    quick = tracked_redline(old, new, author, when)
    if quick is not None:
        return normalise_zip(quick, when)
    return _compare(old, new, author, when, engine or _engine())


def _compare(old: bytes, new: bytes, author: str, when: dt.datetime, engine) -> bytes:
    """The general comparer's redline (Docxodus), normalised."""
    try:
        out, _, _ = engine.run_redline(author, old, new, date_time=when.strftime("%Y-%m-%dT%H:%M:%SZ"))
    except Exception as err:  # EngineExecutionError, OSError…
        raise RedlineUnavailable(f"comparaison impossible : {str(err).splitlines()[0]}") from err
    return normalise_zip(out, when)


def redlines(pairs: dict[str, tuple[bytes, bytes]], author: str, when: dt.datetime,
             jobs: int = 2) -> dict[str, bytes]:
    """Redline every ``name → (old, new)`` pair, ``jobs`` comparisons at a time; return ``name → bytes``.

    Raises:
        RedlineUnavailable: the engine is missing (optional extra ``redlines``) or fails on a document;
            it carries the redlines made without it and the names of the others.

    """
    done = {}
    for name, (old, new) in pairs.items():
        quick = tracked_redline(old, new, author, when)
        if quick is not None:
            done[name] = normalise_zip(quick, when)
    rest = [n for n in pairs if n not in done]
    if rest:
        # the largest first: the comparison time grows with the document, and the pool then ends sooner
        rest.sort(key=lambda n: (-len(pairs[n][1]), n))
        try:
            engine = _engine()
            with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
                done.update(zip(rest, pool.map(lambda n: _compare(*pairs[n], author, when, engine), rest),
                                strict=True))
        except RedlineUnavailable as err:
            raise RedlineUnavailable(str(err), dict(sorted(done.items())), sorted(rest)) from err
    return dict(sorted(done.items()))
