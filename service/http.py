"""What every HTTP client of the project shares: its session, ``Retry-After``, showing a URL.

``make_session`` builds the one ``requests.Session`` of each remote service: user agent,
base headers, bearer token. Clients report every answer through ``observed``, and
whoever wires the process registers what to do with it (metrics) with
``on_response``: the clients need not know of metrics.

Genesys Cloud, the archival endpoint and the delivery targets all answer 429 with a
``Retry-After``; one parser reads it for all three, and always caps it: a wait taken
from a remote server must never be unbounded (a ``timedelta`` of 10**20 seconds
overflows). ``public_url`` shows a URL in a message without the parts that may hold a
secret (``user:password@``, the query string, the fragment).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests

from . import __version__
from .backoff import DAY

__all__ = ["DAY", "make_session", "observed", "on_response", "parse_retry_after", "public_url"]

USER_AGENT = f"genesys-strategy-archiver/{__version__}"

# Who hears of each answer of a remote service ("genesys", "archival"): status, or None
# for no answer at all.
Observer = Callable[[int | None], None]
_OBSERVERS: dict[str, list[Observer]] = {}


def make_session(
    *, user_agent: str = USER_AGENT, auth: str | None = None, headers: Mapping[str, str] = {}
) -> requests.Session:
    """A session for one remote service; ``auth`` is a bearer token sent on every request.

    Redirects are the caller's to refuse (``allow_redirects=False``), and so is the
    ``timeout=`` of every call: requests has no default.
    """
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    session.headers.update(headers)
    if auth:
        session.headers["Authorization"] = f"Bearer {auth}"
    return session


def on_response(service: str, observer: Observer) -> None:
    """Call ``observer`` with every answer of ``service`` from now on (once, however often
    it is registered)."""
    observers = _OBSERVERS.setdefault(service, [])
    if observer not in observers:
        observers.append(observer)


def observed(service: str, status: int | None) -> None:
    """One try of a request to ``service`` ended with ``status`` (None: no answer)."""
    for observer in _OBSERVERS.get(service, ()):
        observer(status)


_SECONDS = re.compile(r"\d+(?:\.\d+)?")  # delta-seconds; Genesys may send a fraction


def parse_retry_after(value: str | None, *, now: float, cap: float) -> float | None:
    """Seconds a ``Retry-After`` asks to wait, at most ``cap``; None when absent or unreadable.

    Accepts delta-seconds (``120``, ``1.5``) and an HTTP date (a date in the past is 0).
    Negative numbers and anything else are unreadable: the caller's own backoff applies.
    A huge or infinite wait becomes ``cap``.
    """
    text = (value or "").strip()
    if not text:
        return None
    seconds: float | None
    if _SECONDS.fullmatch(text):
        seconds = float(text)  # digits only: finite, or inf for a thousand of them
    elif text.lower() in ("inf", "infinity"):
        seconds = math.inf
    else:
        seconds = _seconds_until(text, now)
    return None if seconds is None else min(max(seconds, 0.0), cap)


def _seconds_until(text: str, now: float) -> float | None:
    """Seconds from ``now`` to an HTTP date (always UTC), or None when it is not one."""
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000": UTC without a claim about local time
        when = when.replace(tzinfo=UTC)
    return when.timestamp() - now


def public_url(url: str, base: str | None = None) -> str:
    """``url`` (resolved against ``base`` when relative) without userinfo, query and fragment.

    What a message may show of a URL: a redirect's ``Location`` or a bad setting.
    An unparseable URL gives ``"(unparseable URL)"``.
    """
    try:
        parts = urlsplit(urljoin(base, url) if base else url)
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "(unparseable URL)"
