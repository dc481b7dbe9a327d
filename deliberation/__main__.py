"""Entry point for ``python -m deliberation``."""

from deliberation import cli

if __name__ == "__main__":
    cli.ONE_SHOT = True  # this process is the command: ``check`` may end it at once (``cli._end``)
    cli.main()
