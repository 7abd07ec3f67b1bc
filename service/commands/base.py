"""What every command shares: the app and its settings, built once, and one line per error.

The command classes turn a failure into one line ``<program>: <message>`` on stderr and
an exit status (0 done, 1 the operation failed, 2 usage or configuration error): our own
errors (``ArchiverError``, secrets masked) and click's usage errors alike, so that a cron
job or a log collector gets one line, whatever went wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..errors import ArchiverError, ConfigError, LedgerError, UsageError

if TYPE_CHECKING:
    from flask import Flask

    from ..config import Settings
    from ..ledger import Ledger


class CommandEnv:
    """The object every command gets (``ctx.obj``): the app every process builds
    (``create_app(web=False)``), built on first use from ``environ`` (default: ``.env``,
    then the process environment); the command then runs inside its context."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = environ
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        """The app, built now if not yet, its context pushed until the command ends;
        ``ConfigError`` (exit 2) naming a bad variable. Nothing is created or opened."""
        if self._app is None:
            from ..app import create_app

            self._app = create_app(self.environ, web=False)
            ctx = click.get_current_context(silent=True)
            if ctx is not None:
                ctx.find_root().with_resource(self._app.app_context())
        return self._app

    @property
    def settings(self) -> Settings:
        """The app's validated settings, their paths absolute (every message names a path
        absolute); ``ConfigError`` (exit 2) naming a bad variable."""
        from ..extensions import settings

        return settings(self.app)

    def secrets(self) -> list[str]:
        """The secrets to mask in messages: none known until the settings are loaded."""
        return self.settings.secrets() if self._app is not None else []


pass_env = click.make_pass_decorator(CommandEnv, ensure=True)


def program() -> str:
    """The name errors start with: ``archiver``, or a script's name without ``.py``."""
    ctx = click.get_current_context(silent=True)
    name = ctx.find_root().info_name if ctx else None
    return (name or "archiver").removesuffix(".py")


def warn(message: str) -> None:
    """One line ``<program>: <message>`` on stderr, secrets masked."""
    ctx = click.get_current_context(silent=True)
    _say(program(), message, ctx.find_object(CommandEnv) if ctx else None)


def _say(prog: str, message: str, env: object) -> None:
    """``<prog>: <message>`` on stderr without a secret (a server, or a mistyped argument,
    may carry one): those of the settings when loaded, and credential-looking values."""
    from ..redaction import redact

    secrets = env.secrets() if isinstance(env, CommandEnv) else []
    click.echo(f"{prog}: {redact(message, secrets)}", err=True)


def absolute(path: Path) -> Path:
    """``path`` as messages name it: absolute (relative paths are from the current folder)."""
    return Path(path).absolute()


def open_existing_ledger(settings: Settings) -> Ledger:
    """The ledger, which commands that only read never create (exit 1 naming its path)."""
    from ..ledger import Ledger

    path = absolute(settings.archiver_db)
    if not path.is_file():
        raise LedgerError(f"no ledger at {path} (ARCHIVER_DB)")
    return Ledger(path)


def setup_logs(settings: Settings, process: str, *, quiet: bool = False) -> None:
    """JSON log lines on stderr; ``quiet`` commands print a summary and log WARNING and up
    unless ``LOG_LEVEL`` says otherwise."""
    from ..ops.logs import setup_logging

    setup_logging(settings, process, default_level="WARNING" if quiet else "INFO")


class _OneLineErrors(click.Command):
    """``main`` as click's, except that every error is one line on stderr."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        env = extra.setdefault("obj", CommandEnv())
        prog = (prog_name or self.name or "archiver").removesuffix(".py")
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.NoArgsIsHelpError as exc:
            exc.show()
            code = exc.exit_code
        except click.UsageError as exc:
            usage = " ".join(exc.ctx.get_usage().split()[1:]) if exc.ctx else prog
            _say(prog, f"{exc.format_message()} (usage: {usage})", env)
            code = 2
        except click.ClickException as exc:
            _say(prog, exc.format_message(), env)
            code = exc.exit_code
        except ArchiverError as exc:
            _say(prog, str(exc), env)
            code = 2 if isinstance(exc, (ConfigError, UsageError)) else 1
        except click.Abort:  # Ctrl-C
            code = 130
        sys.exit(code if isinstance(code, int) else 0)


class ArchiverCommand(_OneLineErrors):
    """A command: runs alone too (the scripts in ``scripts/`` call one by its ``main``)."""


class ArchiverGroup(_OneLineErrors, click.Group):
    """A group of commands whose commands and subgroups are of these classes too."""

    command_class = ArchiverCommand
    group_class = type
