"""Excel: the annexe 4 and budget workbooks, written by ``build`` and read by ``import-xlsx``."""
