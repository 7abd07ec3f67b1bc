"""The environment, read once and validated, becomes a ``Settings`` value.

No other module reads ``os.environ``. A ``.env`` file in the working folder is
read when present; real environment variables win over it. Tests pass a plain
mapping instead of the environment.

Settings keep raw values: what is built from them (the delivery targets and their
retry schedule) is built by the package that uses it, at the wiring point
(``service.app.read_settings``), so that this module imports nothing of the project
but its errors and every layer may import it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from cerberus import Validator
from dotenv import dotenv_values

from .errors import ConfigError


def _finite(value: Any) -> float:
    """A float from text, refusing ``nan`` and ``inf`` (they pass every ``min`` check)."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


_URL = r"^https?://[^\s/]+(/\S*)?$"
_DOMAIN = r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
# A branch name git accepts, kept simple: no "..", "//", leading "-" or trailing "/", ".lock".
_BRANCH = r"^(?!.*\.\.)(?!.*//)(?!.*\.lock$)[A-Za-z0-9_][A-Za-z0-9._/-]*(?<![/.])$"

# Every variable of the contract, its type and its default. Values arrive as strings.
SCHEMA: dict[str, dict[str, Any]] = {
    "GENESYS_REGION": {"type": "string", "regex": _DOMAIN, "default": "mypurecloud.com"},
    "GENESYS_API_URL": {"type": "string", "regex": _URL, "nullable": True, "default": None},
    "GENESYS_LOGIN_URL": {"type": "string", "regex": _URL, "nullable": True, "default": None},
    "GENESYS_CLIENT_ID": {"type": "string", "empty": False, "nullable": True, "default": None},
    # Secrets have a minimum length: a short one guesses easily, and redacting it from logs
    # would blank out ordinary text.
    "GENESYS_CLIENT_SECRET": {"type": "string", "minlength": 8, "nullable": True, "default": None},
    "ARCHIVER_DB": {"type": "string", "empty": False, "default": "var/ledger.db"},
    "ARCHIVE_DIR": {"type": "string", "empty": False, "default": "var/archive"},
    # Metric files of the web and worker processes (default: "metrics" beside ARCHIVER_DB).
    "METRICS_DIR": {"type": "string", "empty": False, "nullable": True, "default": None},
    # The bare git repository of the history (contract section 10); set empty: no history.
    "HISTORY_REPO": {"type": "string", "nullable": True, "default": "var/history.git"},
    "HISTORY_BRANCH": {"type": "string", "regex": _BRANCH, "default": "main"},
    # The ssh command of pushes to ssh:// git targets, as git reads it (unset: ssh).
    "GIT_SSH_COMMAND": {"type": "string", "nullable": True, "default": None},
    "ARCHIVAL_ENDPOINT": {"type": "string", "regex": _URL, "nullable": True, "default": None},
    "ARCHIVAL_TOKEN": {"type": "string", "minlength": 8, "nullable": True, "default": None},
    "RETENTION_DAYS": {"type": "integer", "coerce": int, "min": 1, "default": "365"},
    "RETENTION_MAX_VERSIONS": {
        "type": "integer",
        "coerce": int,
        "min": 1,
        "nullable": True,
        "default": None,
    },
    "MAX_CONCURRENT_ARCHIVES": {"type": "integer", "coerce": int, "min": 1, "default": "5"},
    "INBOUND_TOKEN": {"type": "string", "minlength": 16, "nullable": True, "default": None},
    "ADMIN_TOKEN": {"type": "string", "minlength": 16, "nullable": True, "default": None},
    "VCS_WEBHOOK_URLS": {"type": "string", "nullable": True, "default": None},
    "VCS_TARGETS": {"type": "string", "nullable": True, "default": None},
    "VCS_RETRY_SCHEDULE": {"type": "string", "nullable": True, "default": None},
    "VCS_WEBHOOK_SECRET": {
        "type": "string",
        "regex": r"^whsec_[A-Za-z0-9+/]+={0,2}$",
        "nullable": True,
        "default": None,
    },
    "SWEEP_INTERVAL_SECONDS": {"type": "integer", "coerce": int, "min": 0, "default": "3600"},
    # Comma-separated source types to archive (unset: all); the names are checked against
    # the registry of sources at the wiring point (service.app.read_settings).
    "SOURCES": {"type": "string", "nullable": True, "default": None},
    # Days an inbound event's body is kept (its row stays); 0 keeps bodies forever.
    "EVENT_RETENTION_DAYS": {"type": "integer", "coerce": int, "min": 0, "default": "30"},
    "PORT": {"type": "integer", "coerce": int, "min": 1, "max": 65535, "default": "8000"},
    # Seconds a request's whole body may take to arrive before the web process gives up (408).
    "BODY_READ_TIMEOUT_SECONDS": {
        "type": "float",
        "coerce": _finite,
        "min": 0.1,
        "default": "10",
    },
    # Worker tuning: optional, the defaults suit production.
    "WORKER_THREADS": {
        "type": "integer",
        "coerce": int,
        "min": 1,
        "nullable": True,
        "default": None,
    },
    "WORKER_POLL_SECONDS": {"type": "float", "coerce": _finite, "min": 0.01, "default": "1.0"},
    # The worker's CPU niceness (0 to 19): above the web process's, so that the webhooks'
    # answers come first on a machine both share.
    "WORKER_NICE": {"type": "integer", "coerce": int, "min": 0, "max": 19, "default": "10"},
    "JOB_LEASE_SECONDS": {"type": "float", "coerce": _finite, "min": 1.0, "default": "60"},
    "JOB_MAX_TRIES": {"type": "integer", "coerce": int, "min": 1, "default": "5"},
    "JOB_RETRY_BASE_SECONDS": {"type": "float", "coerce": _finite, "min": 0.0, "default": "30"},
    # How long a write waits for the ledger's lock before failing (web and worker processes).
    "LEDGER_LOCK_TIMEOUT_SECONDS": {
        "type": "float",
        "coerce": _finite,
        "min": 0.05,
        "default": "30",
    },
    # Unset: INFO, but WARNING for `archiver archive` and `sweep`, whose summary says the rest.
    "LOG_LEVEL": {
        "type": "string",
        "coerce": str.upper,
        "allowed": ["DEBUG", "INFO", "WARNING", "ERROR"],
        "nullable": True,
        "default": None,
    },
    # Unset: readable lines when stderr is a terminal, JSON lines otherwise.
    "LOG_FORMAT": {
        "type": "string",
        "coerce": str.lower,
        "allowed": ["json", "text"],
        "nullable": True,
        "default": None,
    },
}

_HINTS = {
    "regex": "does not have the expected form",
    "integer": "must be a whole number",
    "float": "must be a number",
}


@dataclass(frozen=True)
class Settings:
    """Validated configuration; secrets are kept out of ``repr``."""

    genesys_region: str = "mypurecloud.com"
    genesys_api_url: str = "https://api.mypurecloud.com"
    genesys_login_url: str = "https://login.mypurecloud.com"
    genesys_client_id: str | None = None
    genesys_client_secret: str | None = field(default=None, repr=False)
    archiver_db: Path = Path("var/ledger.db")
    archive_dir: Path = Path("var/archive")
    metrics_dir: Path = Path("var/metrics")
    history_repo: Path | None = Path("var/history.git")  # None: no history
    history_branch: str = "main"
    git_ssh_command: str | None = None
    archival_endpoint: str | None = None
    archival_token: str | None = field(default=None, repr=False)
    retention_days: int = 365
    retention_max_versions: int | None = None
    max_concurrent_archives: int = 5
    inbound_token: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)
    # The delivery targets and their schedule as written; service.outbound builds them.
    vcs_webhook_urls: tuple[str, ...] = field(default=(), repr=False)  # a query may hold a token
    vcs_webhook_secret: str | None = field(default=None, repr=False)
    vcs_targets: str | None = field(default=None, repr=False)  # JSON, with tokens
    vcs_retry_schedule: str | None = None  # None: the default schedule
    sweep_interval_seconds: int = 3600
    sources: tuple[str, ...] | None = None  # None: every source type
    event_retention_days: int = 30  # 0: event bodies are kept forever
    port: int = 8000
    body_read_timeout_seconds: float = 10.0
    worker_threads: int | None = None  # None: as many as max_concurrent_archives
    worker_poll_seconds: float = 1.0
    worker_nice: int = 10
    job_lease_seconds: float = 60.0
    job_max_tries: int = 5
    job_retry_base_seconds: float = 30.0
    ledger_lock_timeout_seconds: float = 30.0
    log_level: str | None = None  # None: each command's own default (service/ops/logs.py)
    log_format: str | None = None  # None: text on a terminal, JSON otherwise

    @property
    def worker_thread_count(self) -> int:
        """Threads of one worker process: ``WORKER_THREADS``, else ``MAX_CONCURRENT_ARCHIVES``."""
        return self.worker_threads or self.max_concurrent_archives

    def secrets(self) -> list[str]:
        """Every secret value set, for redaction."""
        values = (
            self.genesys_client_secret,
            self.archival_token,
            self.inbound_token,
            self.admin_token,
            self.vcs_webhook_secret,
        )
        return [v for v in values if v] + target_secrets(self.vcs_webhook_urls, self.vcs_targets)

    def require(self, *names: str, purpose: str) -> None:
        """Raise ``ConfigError`` naming the first of ``names`` (env names) that is unset."""
        for name in names:
            if getattr(self, name.lower()) in (None, "", ()):
                raise ConfigError(f"{name} is required {purpose} but is not set")


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build ``Settings`` from ``environ`` (default: ``.env`` then the process environment)."""
    if environ is None:
        merged: dict[str, Any] = {}
        if dotenv and Path(".env").is_file():
            merged.update({k: v for k, v in dotenv_values(".env").items() if v is not None})
        merged.update(os.environ)
        environ = merged
    raw = {name: environ[name] for name in SCHEMA if environ.get(name, "") != ""}
    validator = Validator(SCHEMA, allow_unknown=False)
    found: dict[str, list[str]] = {} if validator.validate(raw) else validator.errors
    if found:
        name = sorted(found)[0]
        raise ConfigError(f"{name} {_describe(name, raw.get(name), found[name])}")
    values = dict(validator.document)
    if "HISTORY_REPO" in environ and not environ["HISTORY_REPO"].strip():
        values["HISTORY_REPO"] = None  # set empty: the history is off
    return _build(values)


def _describe(name: str, value: Any, messages: list[str]) -> str:
    text = messages[0]
    if "regex" in text or "does not match" in text:
        text = "does not have the expected form"
        if SCHEMA[name].get("regex") == _URL:
            text = "must be an http(s) URL"
        elif name == "VCS_WEBHOOK_SECRET":
            text = "must have the form whsec_<base64>"
        elif name == "GENESYS_REGION":
            text = "must be a region domain such as mypurecloud.com"
        elif name == "HISTORY_BRANCH":
            text = "must be a git branch name such as main"
    elif "field" in text and "coerce" in text:
        text = _HINTS[SCHEMA[name]["type"]]
    elif text.startswith("unallowed value"):
        text = f"must be one of {', '.join(SCHEMA[name]['allowed'])}"
    elif text.startswith("min value"):
        text = f"must be at least {SCHEMA[name]['min']:g}"
    elif text.startswith("max value"):
        text = f"must be at most {SCHEMA[name]['max']}"
    elif text.startswith("min length"):
        text = f"must be at least {SCHEMA[name]['minlength']} characters long"
    return f"is invalid: {text}{_shown(name, value)}"


def _shown(name: str, value: Any) -> str:
    """What a message may repeat of a bad value: nothing of a secret, of a URL only the
    scheme, host and path (its userinfo and query string may hold credentials)."""
    if _is_secret(name) or value is None:
        return ""
    if SCHEMA[name].get("regex") == _URL:
        return _shown_url(str(value))
    return f" (got {value!r})"


def _shown_url(value: str) -> str:
    """`` (got 'scheme://host/path')`` for something shaped like a URL, else nothing: a
    value that is not one may be a token pasted into the wrong variable."""
    try:
        parts = urlsplit(value)
    except ValueError:  # unparseable: show nothing
        return ""
    shown = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    return f" (got {shown!r})" if "://" in shown else ""


def _is_secret(name: str) -> bool:
    return bool(re.search(r"SECRET|TOKEN", name))


def _build(values: Mapping[str, Any]) -> Settings:
    region = values["GENESYS_REGION"]
    urls = values.get("VCS_WEBHOOK_URLS") or ""
    hooks = tuple(u.strip() for u in urls.split(",") if u.strip())
    kwargs: dict[str, Any] = {
        "genesys_region": region,
        "genesys_api_url": (values.get("GENESYS_API_URL") or f"https://api.{region}").rstrip("/"),
        "genesys_login_url": (values.get("GENESYS_LOGIN_URL") or f"https://login.{region}").rstrip(
            "/"
        ),
        "archiver_db": Path(values["ARCHIVER_DB"]),
        "archive_dir": Path(values["ARCHIVE_DIR"]),
        "metrics_dir": Path(
            values.get("METRICS_DIR") or Path(values["ARCHIVER_DB"]).parent / "metrics"
        ),
        "vcs_webhook_urls": hooks,
        "history_repo": Path(values["HISTORY_REPO"]) if values.get("HISTORY_REPO") else None,
        "sources": (
            tuple(name.strip() for name in values["SOURCES"].split(","))
            if values.get("SOURCES") is not None
            else None
        ),
    }
    taken = {"GENESYS_REGION", "GENESYS_API_URL", "GENESYS_LOGIN_URL", "ARCHIVER_DB"}
    taken |= {"ARCHIVE_DIR", "METRICS_DIR", "VCS_WEBHOOK_URLS", "HISTORY_REPO", "SOURCES"}
    names = {f.name for f in fields(Settings)}
    for name, value in values.items():
        if name not in taken and name.lower() in names:
            kwargs[name.lower()] = value
    return Settings(**kwargs)


# Keys of a VCS_TARGETS object whose values are credentials, whatever the target type.
_SECRET_KEY = re.compile(r"token|secret|password", re.IGNORECASE)


def target_secrets(webhook_urls: tuple[str, ...], vcs_targets: str | None) -> list[str]:
    """The credentials in the targets' raw settings, for redaction: every ``token``,
    ``secret`` or ``password`` value of ``VCS_TARGETS``, and what each URL holds."""
    found = [s for url in webhook_urls for s in url_secrets(url)]
    try:
        items = json.loads(vcs_targets) if vcs_targets else []
    except json.JSONDecodeError:  # refused at start by the outbound package
        items = []
    for key, value in _strings(items):
        if _SECRET_KEY.search(key):
            found.append(value)
        elif "://" in value:
            found.extend(url_secrets(value))
    return [value for value in found if value]


def url_secrets(url: str) -> list[str]:
    """A URL's password and its query values that look like tokens (eight characters or
    more): the parts of a URL that may hold credentials."""
    try:
        parts = urlsplit(url.strip())
        found = [parts.password or ""]
    except ValueError:
        return []
    return found + [value for _, value in parse_qsl(parts.query) if len(value) >= 8]


def _strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every text of a JSON value with the key it is found under."""
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, Mapping):
        for name, value in node.items():
            yield from _strings(value, str(name))
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value, key)
