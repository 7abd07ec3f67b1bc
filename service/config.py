"""The environment, read once and validated, becomes a ``Settings`` value.

No other module reads ``os.environ``. A ``.env`` file in the working folder is
read when present; real environment variables win over it. Tests pass a plain
mapping instead of the environment.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cerberus import Validator
from dotenv import dotenv_values

from .backoff import DELIVERIES, Backoff, deliveries
from .errors import ConfigError
from .http import public_url
from .outbound.settings import parse_targets
from .validation import problems

if TYPE_CHECKING:
    from .outbound.targets import Target


def _finite(value: Any) -> float:
    """A float from text, refusing ``nan`` and ``inf`` (they pass every ``min`` check)."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


_URL = r"^https?://[^\s/]+(/\S*)?$"
_DOMAIN = r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"

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
    archival_endpoint: str | None = None
    archival_token: str | None = field(default=None, repr=False)
    retention_days: int = 365
    retention_max_versions: int | None = None
    max_concurrent_archives: int = 5
    inbound_token: str | None = field(default=None, repr=False)
    admin_token: str | None = field(default=None, repr=False)
    vcs_webhook_urls: tuple[str, ...] = ()
    vcs_webhook_secret: str | None = field(default=None, repr=False)
    vcs_targets: tuple[Target, ...] = ()
    vcs_retry_schedule: Backoff = DELIVERIES
    sweep_interval_seconds: int = 3600
    event_retention_days: int = 30  # 0: event bodies are kept forever
    port: int = 8000
    body_read_timeout_seconds: float = 10.0
    worker_threads: int | None = None  # None: as many as max_concurrent_archives
    worker_poll_seconds: float = 1.0
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
        return [v for v in values if v] + [s for t in self.vcs_targets for s in t.secrets()]

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
    found = problems(validator, raw)
    if found:
        name = sorted(found)[0]
        raise ConfigError(f"{name} {_describe(name, raw.get(name), found[name])}")
    values = validator.document
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
    shown = public_url(value)
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
        "vcs_targets": parse_targets(
            values.get("VCS_TARGETS"), hooks, values.get("VCS_WEBHOOK_SECRET")
        ),
    }
    if values.get("VCS_RETRY_SCHEDULE"):
        try:
            kwargs["vcs_retry_schedule"] = deliveries(values["VCS_RETRY_SCHEDULE"])
        except ValueError as exc:
            raise ConfigError(f"VCS_RETRY_SCHEDULE is invalid: {exc}") from None
    taken = {"GENESYS_REGION", "GENESYS_API_URL", "GENESYS_LOGIN_URL", "ARCHIVER_DB"}
    taken |= {"ARCHIVE_DIR", "METRICS_DIR", "VCS_WEBHOOK_URLS", "VCS_TARGETS", "VCS_RETRY_SCHEDULE"}
    names = {f.name for f in fields(Settings)}
    for name, value in values.items():
        if name not in taken and name.lower() in names:
            kwargs[name.lower()] = value
    return Settings(**kwargs)
