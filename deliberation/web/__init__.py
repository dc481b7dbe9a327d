"""The workbench (``deliberation serve``): the phase, its documents, its acts, amendments and workbooks in a browser."""
