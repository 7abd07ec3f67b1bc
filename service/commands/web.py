"""``archiver web``: the web process under gunicorn, with the settings packaged in ``service/``.

The same process as the Procfile's ``gunicorn -c gunicorn.conf.py "service.app:create_app()"``
(``gunicorn.conf.py`` takes its settings from ``service/gunicorn_conf.py``), runnable from
a ``pip install`` of the project, without a checkout.
"""

from __future__ import annotations

from typing import Any

import click

from .base import ArchiverCommand

CONFIG = "python:service.gunicorn_conf"


@click.command("web", cls=ArchiverCommand, short_help="Run the web process under gunicorn.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    metavar="N",
    help="Listen on 0.0.0.0:N (default: PORT, else 8000).",
)
def web_command(port: int | None) -> None:
    """Run the web process (inbound webhooks, admin API, health, metrics) under gunicorn.

    Needs INBOUND_TOKEN. WEB_CONCURRENCY processes (default: one per core) of WEB_THREADS
    threads (default 32); SIGTERM stops it gracefully.
    """
    from gunicorn.app.base import Application  # type: ignore[import-untyped]

    class WebProcess(Application):  # gunicorn has no type hints: Application is Any
        """gunicorn configured from the packaged module, not from the command line."""

        def load_config(self) -> None:
            self.load_config_from_module_name_or_filename(CONFIG)
            if port is not None:
                self.cfg.set("bind", [f"0.0.0.0:{port}"])
            self.cfg.set("default_proc_name", "archiver web")

        def load(self) -> Any:
            from ..app import create_app

            return create_app()

    WebProcess(prog="archiver web").run()
