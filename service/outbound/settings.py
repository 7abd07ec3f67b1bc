"""Targets from settings: ``VCS_TARGETS`` and the simple ``VCS_WEBHOOK_URLS`` form, and
the schedule of their deliveries (``VCS_RETRY_SCHEDULE``).

Configuration errors name the variable and the path of the bad field and never repeat
a value, which may be a secret. Names must be unique: they key deliveries in the ledger.
``outbound_from`` is called as every process reads its settings, so that a bad value
stops it at start, as any bad variable does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cerberus import Validator

from ..backoff import Backoff, deliveries
from ..config import Settings
from ..errors import ConfigError
from ..http import public_url
from ..validation import problems
from .gittarget import GIT, git_target
from .targets import (
    DEFAULT_EVENT_TYPE,
    GITHUB,
    GITHUB_API,
    GITLAB,
    GITLAB_URL,
    KINDS,
    WEBHOOK,
    GitHubTarget,
    GitLabTarget,
    Target,
    WebhookTarget,
)

_URL = r"^https?://[^\s/?#]+(/\S*)?$"
_WHSEC = r"^whsec_[A-Za-z0-9+/]+={0,2}$"


def _id_text(value: Any) -> Any:
    """GitLab project ids may be written as JSON numbers; they are used as text."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _schema(kind: str, **fields: dict[str, Any]) -> dict[str, dict[str, Any]]:
    common: dict[str, dict[str, Any]] = {
        "type": {"type": "string", "required": True, "allowed": [kind]},
        "name": {"type": "string", "empty": False, "maxlength": 200, "regex": r"^\S+( \S+)*$"},
    }
    return common | fields


_TOKEN = {"type": "string", "required": True, "minlength": 8, "regex": r"^[\x21-\x7e]+$"}
_REF = r"^[^\s~^:?*\[\\]+$"

SCHEMAS: dict[str, dict[str, dict[str, Any]]] = {
    WEBHOOK: _schema(
        WEBHOOK,
        url={"type": "string", "required": True, "regex": _URL},
        secret={"type": "string", "regex": _WHSEC},
    ),
    GITHUB: _schema(
        GITHUB,
        repository={
            "type": "string",
            "required": True,
            "regex": r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$",
        },
        token=_TOKEN,
        baseUrl={"type": "string", "regex": _URL, "default": GITHUB_API},
        eventType={
            "type": "string",
            "empty": False,
            "maxlength": 100,
            "default": DEFAULT_EVENT_TYPE,
        },
    ),
    GITLAB: _schema(
        GITLAB,
        project={
            "type": "string",
            "required": True,
            "coerce": _id_text,
            "regex": r"^([0-9]+|[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+)$",
        },
        token=_TOKEN,
        ref={"type": "string", "required": True, "maxlength": 255, "regex": _REF},
        baseUrl={"type": "string", "regex": _URL, "default": GITLAB_URL},
    ),
    GIT: _schema(
        GIT,
        url={"type": "string", "required": True, "empty": False, "regex": r"^\S+$"},
        branch={"type": "string", "maxlength": 255, "regex": _REF},
        username={"type": "string", "maxlength": 200, "regex": r"^[^\s:]+$"},
        token=_TOKEN | {"required": False},
    ),
}
_KINDS = (*KINDS, GIT)
_VALIDATORS = {kind: Validator(schema, allow_unknown=False) for kind, schema in SCHEMAS.items()}

_HINTS = {
    "name": "must be text without leading, trailing or doubled spaces",
    "url": "must be an http(s) URL",
    "baseUrl": "must be an http(s) URL",
    "secret": "must have the form whsec_<base64>",
    "token": "must be text of at least 8 characters without spaces",
    "repository": "must be owner/name",
    "project": "must be a numeric id or a path such as group/project",
    "ref": "must be a branch or tag name",
    "branch": "must be a branch name",
    "username": "must be text without spaces or colons",
}


@dataclass(frozen=True)
class Outbound:
    """The delivery targets the settings name, and the retry schedule of each delivery."""

    targets: tuple[Target, ...]
    retry: Backoff

    @property
    def names(self) -> list[str]:
        """The names of the targets of events: whom each completion event is for
        (``git`` targets receive the history branch instead)."""
        return [target.name for target in self.targets if target.kind != GIT]

    @property
    def lanes(self) -> list[str]:
        """Every target's name: what the delivery lanes serve."""
        return [target.name for target in self.targets]


@lru_cache(maxsize=64)
def outbound_from(settings: Settings) -> Outbound:
    """The targets and schedule of ``settings``; ``ConfigError`` names a bad variable.

    Built once per settings value (they are frozen): each archive asks for the names.
    """
    targets = parse_targets(
        settings.vcs_targets,
        settings.vcs_webhook_urls,
        settings.vcs_webhook_secret,
        history=settings.history_repo,
        history_branch=settings.history_branch,
        ssh_command=settings.git_ssh_command,
    )
    try:
        retry = deliveries(settings.vcs_retry_schedule)
    except ValueError as exc:
        raise ConfigError(f"VCS_RETRY_SCHEDULE is invalid: {exc}") from None
    return Outbound(targets, retry)


def parse_targets(
    vcs_targets: str | None,
    webhook_urls: Sequence[str],
    webhook_secret: str | None,
    *,
    history: Path | None = None,
    history_branch: str = "main",
    ssh_command: str | None = None,
) -> tuple[Target, ...]:
    """Every configured target: one per ``VCS_WEBHOOK_URLS`` entry, then ``VCS_TARGETS``.

    ``git`` targets push the branch ``history_branch`` of the repository ``history``
    (``HISTORY_REPO``; None: the history is off, and a ``git`` target is refused), over
    SSH with ``ssh_command`` (``GIT_SSH_COMMAND``) when given.
    """
    if webhook_secret is not None and not re.match(_WHSEC, webhook_secret):
        raise ConfigError("VCS_WEBHOOK_SECRET is invalid: must have the form whsec_<base64>")
    targets: list[Target] = []
    origin: dict[str, str] = {}
    urls = [url.strip() for url in webhook_urls if url.strip()]
    for number, url in enumerate(urls, start=1):
        if not re.match(_URL, url):
            # Only the scheme, host and path, and only of something shaped like a URL:
            # a value that is not one may be a token pasted into the wrong variable.
            shown = public_url(url)
            got = f" (got {shown!r})" if "://" in shown else ""
            raise ConfigError(
                f"VCS_WEBHOOK_URLS is invalid: entry {number} is not an http(s) URL{got}"
            )
    if urls and not webhook_secret:
        raise ConfigError("VCS_WEBHOOK_SECRET is required when VCS_WEBHOOK_URLS is set")
    for url in urls:
        assert webhook_secret
        target: Target = WebhookTarget(name=public_url(url), url=url, secret=webhook_secret)
        if target.name in origin:
            raise ConfigError(f"VCS_WEBHOOK_URLS is invalid: {target.name} is listed twice")
        origin[target.name] = "VCS_WEBHOOK_URLS"
        targets.append(target)
    for index, item in enumerate(_json_list(vcs_targets)):
        path = f"VCS_TARGETS[{index}]"
        target = _target(path, item, webhook_secret, (history, history_branch, ssh_command))
        if target.name in origin:
            raise ConfigError(
                f"{path}.name is invalid: {target.name!r} is already used by {origin[target.name]}"
            )
        origin[target.name] = path
        targets.append(target)
    return tuple(targets)


def _json_list(text: str | None) -> list[Any]:
    if text is None or not text.strip():
        return []
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg describes the syntax only; the text itself may hold tokens.
        raise ConfigError(
            f"VCS_TARGETS is invalid: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    if not isinstance(value, list):
        raise ConfigError("VCS_TARGETS is invalid: must be a JSON list of objects")
    return value


def _target(
    path: str,
    item: Any,
    webhook_secret: str | None,
    pushing: tuple[Path | None, str, str | None],  # a git target's history, branch, ssh
) -> Target:
    if not isinstance(item, Mapping):
        raise ConfigError(f"{path} is invalid: must be a JSON object")
    kind = item.get("type")
    if kind is None:
        raise ConfigError(f"{path}.type is required")
    if kind not in _KINDS:
        raise ConfigError(f"{path}.type is invalid: must be one of {', '.join(_KINDS)}")
    if kind == GIT:
        doc = _validated(path, GIT, item)
        return git_target(path, doc, *pushing)
    doc = _validated(path, kind, item)
    if kind in (GITHUB, GITLAB):
        where = doc["repository"] if kind == GITHUB else doc["project"]
        common = {
            "name": doc.get("name") or f"{kind}:{where}",
            "token": doc["token"],
            "base_url": doc["baseUrl"].rstrip("/"),
        }
        if kind == GITHUB:
            return GitHubTarget(repository=where, event_type=doc["eventType"], **common)
        return GitLabTarget(project=where, ref=doc["ref"], **common)
    secret = doc.get("secret") or webhook_secret
    if not secret:
        raise ConfigError(f"{path}.secret is required (or set VCS_WEBHOOK_SECRET)")
    return WebhookTarget(
        name=doc.get("name") or public_url(doc["url"]), url=doc["url"], secret=secret
    )


def _validated(path: str, kind: str, item: Mapping[str, Any]) -> dict[str, Any]:
    """The target's fields as its schema has them (defaults filled in), or the first
    problem in the schema's order as a ``ConfigError``."""
    validator = _VALIDATORS[kind]
    found = problems(validator, item)
    if found:
        order = list(SCHEMAS[kind])
        key = min(found, key=lambda k: (order.index(k) if k in order else len(order), k))
        raise ConfigError(f"{path}.{key} {_describe(kind, key, found[key][0])}")
    return dict(validator.document)


def _describe(kind: str, key: str, message: str) -> str:
    """Cerberus's message in an operator's words, never quoting the value."""
    if message == "required field":
        return "is required"
    if message == "unknown field":
        return f"is invalid: not a field of a {kind} target"
    if message.startswith("value does not match regex"):
        return f"is invalid: {_HINTS.get(key, 'does not have the expected form')}"
    if message.startswith("must be of") or "cannot be coerced" in message:
        return f"is invalid: {_HINTS['project'] if key == 'project' else 'must be a string'}"
    if message == "empty values not allowed":
        return "is invalid: must not be empty"
    if message.startswith("min length is") and key in _HINTS:
        return f"is invalid: {_HINTS[key]}"
    if message.startswith("max length is"):
        return f"is invalid: must be at most {message.removeprefix('max length is ')} characters"
    return "is invalid"
