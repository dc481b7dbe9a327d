"""Excel: the annexe 4 and budget workbooks, written by ``build`` and read by ``import-xlsx``.

Every module of this package imports openpyxl, which imports numpy when it is installed (the
``programme`` extra's charts bring it) only to count numpy's number types as numbers: 0.17 s of every
build. Our cells never hold numpy values, so openpyxl is loaded here with numpy hidden, once, unless
numpy is already loaded; numpy stays importable afterwards.
"""

import sys

if "openpyxl" not in sys.modules and "numpy" not in sys.modules:
    sys.modules["numpy"] = None  # type: ignore[assignment]  # « import numpy » raises ImportError
    try:
        import openpyxl  # noqa: F401
    finally:
        del sys.modules["numpy"]
