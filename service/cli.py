"""``python -m service.cli``: the ``archiver`` command line (see ``service/commands``)."""

from .commands import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
