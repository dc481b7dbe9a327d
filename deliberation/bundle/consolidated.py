"""The consolidated version of a convention as tracked changes against its initial text (issue 22)."""

from __future__ import annotations

import datetime as dt

from deliberation.bundle.redline import redline

#: The author of the tracked changes.
AUTHOR = "deliberation — version consolidée"


def consolidated_redline(initial: bytes, consolidated: bytes, when: dt.datetime) -> bytes:
    """``consolidated`` (``render.consolidate``) with tracked changes against ``initial``, dated ``when``.

    Raises:
        RedlineUnavailable: the comparison engine is missing or fails.

    """
    return redline(initial, consolidated, AUTHOR, when)
