"""The one redaction of the project: known secrets and credential-looking values as ``***``.

Text leaving the process goes through ``redact``: the log formatter, the error texts the
ledger stores, the command line's error printer, the Genesys client's own errors. This
module imports nothing of the project, so that every layer may use it (``genesys/``
reports to ``ops/`` only through hooks and must not import it).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import quote, quote_plus

MASK = "***"

# Credentials the settings do not know (a fresh OAuth access token, a header a server
# echoed...), in the forms they take in URLs, form bodies, JSON, reprs and header dumps.
_SCHEMES = r"(?:bearer|basic|token|digest|negotiate|apikey)"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Authorization: Bearer x / 'Authorization': 'Basic x' / X-Archiver-Token: x / Cookie: x
    (
        re.compile(
            r"(?i)(\b(?:proxy-)?authorization|\bx-[a-z0-9-]*(?:token|key)|\bprivate-token"
            r"|\bcookie|\bset-cookie)([\"']?\s*[:=]\s*[\"']?)(" + _SCHEMES + r"\s+)?[^\s\"',;}]+"
        ),
        r"\1\2\3" + MASK,
    ),
    # access_token=x, "client_secret": "x", password: x ...
    (
        re.compile(
            r"(?i)([\"']?\b(?:access_token|refresh_token|id_token|client_secret|password"
            r"|passwd|private_token|api_key|apikey)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,;}]+"
        ),
        r"\1" + MASK,
    ),
    # token=x in a query string or form body (GitLab trigger tokens), "token": "x" in JSON
    (re.compile(r"(?i)((?<![A-Za-z0-9_-])token=)[^&\s\"'#]+"), r"\1" + MASK),
    (re.compile(r"(?i)([\"']token[\"']\s*:\s*[\"'])[^\"']+"), r"\1" + MASK),
    # https://user:password@host
    (re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^/\s@]+@"), r"\1" + MASK + "@"),
    # Well-known secret shapes: Standard Webhooks secrets, GitHub and GitLab tokens.
    (re.compile(r"\bwhsec_[A-Za-z0-9+/=]+"), "whsec_" + MASK),
    (re.compile(r"\b(github_pat_|gh[pousr]_|glpat-|glptt-)[A-Za-z0-9_-]{8,}"), r"\1" + MASK),
)


# Bearer x / Basic x on their own (``_credential`` tells tokens from prose).
_SCHEME_AND_WORD = re.compile(r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9._~+/=-]{8,})")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every one of ``secrets`` and every credential-looking value as ``***``."""
    pattern = secrets_pattern(tuple(sorted({s for s in secrets if s})))
    if pattern is not None:
        text = pattern.sub(MASK, text)
    for credential, replacement in _PATTERNS:
        text = credential.sub(replacement, text)
    return _SCHEME_AND_WORD.sub(_credential, text)


def _credential(match: re.Match[str]) -> str:
    """``Bearer ***`` when the word after the scheme is a token: it has a digit or a sign,
    is long, or (Basic) decodes to ``user:password``; ``Basic authentication`` stays."""
    scheme, space, word = match.groups()
    token = not word.isalpha() or len(word) >= 16
    if not token and scheme.lower() == "basic":
        try:
            token = b":" in base64.b64decode(word + "=" * (-len(word) % 4), validate=True)
        except ValueError:
            token = False
    return f"{scheme}{space}{MASK}" if token else match.group(0)


@lru_cache(maxsize=32)
def secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str] | None:
    """One alternation of the secrets as written and as URL-encoded, longest first."""
    forms = {form for s in secrets for form in (s, quote(s, safe=""), quote_plus(s, safe=""))}
    if not forms:
        return None
    return re.compile("|".join(re.escape(form) for form in sorted(forms, key=len, reverse=True)))
