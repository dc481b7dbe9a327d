"""The engine's identity: its version and a fingerprint of its own code."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from deliberation import __version__


@functools.cache
def engine_sha() -> str:
    """SHA-256 of the engine's own code: a new engine renders (and parses) everything again."""
    h = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()
