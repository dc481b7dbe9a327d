"""Entry point for ``python -m deliberation``."""

from deliberation.cli import main

if __name__ == "__main__":
    main()
