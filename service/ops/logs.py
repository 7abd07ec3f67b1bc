"""Logs on stderr, secrets redacted: one JSON object a line, or readable lines on a terminal.

Every process installs one handler on the root logger (``setup_logging``; gunicorn through
``gunicorn_logconfig``), so the product's loggers and third-party ones (werkzeug, urllib3,
gunicorn) all go through one formatter. ``JsonFormatter`` writes ``ts``, ``level``,
``logger``, ``process``, ``pid``, ``msg``, the fields of ``log_context`` and of ``extra``,
and ``exc``; ``TextFormatter`` the same for a person (``LOG_FORMAT``: by default text when
stderr is a terminal, JSON otherwise). Every text either writes passes through ``redact``
first (``service/redaction.py``): the configured secrets, and whatever looks like a
credential (``Authorization`` headers, bearer tokens, ``access_token=``...).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, TextIO

from ..redaction import MASK, redact, secrets_pattern

if TYPE_CHECKING:
    from ..config import Settings

PROCESSES = ("web", "worker", "cli")
FORMATS = ("json", "text")

# Fields added to every line logged in this context (a job's ids, in the job's thread).
_context: ContextVar[Mapping[str, Any] | None] = ContextVar("log_context", default=None)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (``job_id=...``) to every line logged inside the block, in this thread."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys() | {"message", "asctime", "taskName"}
)
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RESERVED = ("ts", "level", "logger", "process", "pid", "msg", "exc", "stack")


class _Formatter(logging.Formatter):
    """What both formats share: the process's name and the secrets to mask."""

    def __init__(self, process: str, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        if process not in PROCESSES:
            raise ValueError(f"process must be one of {', '.join(PROCESSES)}, got {process!r}")
        self.process = process
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))


class TextFormatter(_Formatter):
    """A record as a line for a person at a terminal, redacted as a whole:
    ``02:41:09.123 WARNING service.worker: message [key=value ...]``, then any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        line = (
            f"{moment:%H:%M:%S}.{int(record.msecs):03d} {record.levelname:<7} "
            f"{record.name}: {record.getMessage()}"
        )
        fields = {**(_context.get() or {}), **_extra(record)}
        shown = " ".join(f"{k}={v}" for k, v in fields.items() if k not in _RESERVED)
        if shown:
            line += f" [{shown}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.exc_text:
            line += "\n" + record.exc_text
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return redact(line, self.secrets)


class JsonFormatter(_Formatter):
    """A record as one line of JSON, every text in it redacted."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "process": self.process,
            "pid": record.process,
            "msg": record.getMessage(),
        }
        fields = {**(_context.get() or {}), **_extra(record)}
        entry.update((k, v) for k, v in fields.items() if k not in _RESERVED)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(self._clean(entry), ensure_ascii=False, default=str)
        # Keys, and values json rendered through ``default``, were not looked at one by one.
        pattern = secrets_pattern(self.secrets)
        return pattern.sub(MASK, line) if pattern is not None else line

    def _clean(self, value: Any) -> Any:
        """``value`` as JSON values, each text redacted (and without terminal colours)."""
        if isinstance(value, str):
            if "\x1b" in value:  # werkzeug colours its request lines
                value = _ANSI.sub("", value)
            return redact(value, self.secrets)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {redact(str(k), self.secrets): self._clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._clean(v) for v in value]
        return redact(str(value), self.secrets)


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(record.msecs):03d}Z"


def _extra(record: logging.LogRecord) -> dict[str, Any]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES}


_OURS = "_archiver_handler"  # marks the handler ``setup_logging`` installed


def log_handler(
    process: str,
    secrets: Iterable[str] = (),
    *,
    form: str = "json",
    stream: TextIO | None = None,
) -> logging.Handler:
    """A handler writing ``form`` lines (``json`` or ``text``) to ``stream`` (default:
    stderr at the time of each write)."""
    if form not in FORMATS:
        raise ValueError(f"form must be one of {', '.join(FORMATS)}, got {form!r}")
    handler = _StderrHandler() if stream is None else logging.StreamHandler(stream)
    formatter = JsonFormatter if form == "json" else TextFormatter
    handler.setFormatter(formatter(process, secrets))
    setattr(handler, _OURS, True)
    return handler


def format_of(settings: Settings, stream: TextIO | None = None) -> str:
    """``LOG_FORMAT``, else ``text`` when ``stream`` (default: stderr) is a terminal, a
    person reading it, and ``json`` otherwise, a collector or a file."""
    if settings.log_format:
        return settings.log_format
    target = sys.stderr if stream is None else stream
    try:
        terminal = target.isatty()
    except (AttributeError, ValueError):  # no stream, or a closed one
        terminal = False
    return "text" if terminal else "json"


class _StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at each line (pytest and gunicorn replace it)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def level_of(settings: Settings, default: str = "INFO") -> str:
    """``LOG_LEVEL``, else ``default``."""
    return settings.log_level or default


def setup_logging(
    settings: Settings,
    process: str,
    *,
    default_level: str = "INFO",
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send every logger's records through one handler on the root logger, writing the
    format ``format_of`` picks.

    A handler installed by an earlier call is replaced; others (a test's) are left alone.
    Uncaught exceptions, of the main thread and of others, are logged through it too.
    """
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _OURS, False):
            root.removeHandler(handler)
            handler.close()
    level = level_of(settings, default_level)
    form = format_of(settings, stream)
    handler = log_handler(process, settings.secrets(), form=form, stream=stream)
    handler.setLevel(level)  # also for loggers with a level of their own (werkzeug)
    root.addHandler(handler)
    root.setLevel(level)
    install_exception_hooks()
    return handler


def ensure_logging(settings: Settings, process: str) -> None:
    """``setup_logging`` unless logging is configured already (gunicorn, a test runner)."""
    if not logging.getLogger().handlers:
        setup_logging(settings, process)


def gunicorn_logconfig(settings: Settings) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict``: its error and access logs through our one handler."""
    level = level_of(settings)
    secrets = settings.secrets()
    form = format_of(settings)

    def handler() -> logging.Handler:  # a closure: ``--print-config`` shows no secret
        return log_handler("web", secrets, form=form)

    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            # No handlers of their own: they propagate to the root's.
            "gunicorn.error": {"level": level, "handlers": [], "propagate": True},
            "gunicorn.access": {"level": "INFO", "handlers": [], "propagate": True},
        },
        "handlers": {"stderr": {"()": handler, "level": level}},
        "formatters": {},
    }


def install_exception_hooks() -> None:
    """Log uncaught exceptions (main thread and others) instead of printing them raw."""
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("service").critical("uncaught exception", exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "unknown"
    logging.getLogger("service").critical(
        "uncaught exception in thread %s",
        name,
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),  # type: ignore[arg-type]
    )
