"""OAuth client-credentials tokens for Genesys Cloud, cached until shortly before expiry.

Client credentials have no refresh token: a new token is requested when the cached
one is about to run out or when the API answers 401. Every client of one client id in a
process shares one cached token (``TOKEN_CACHES``): the rate limit counts per token.
The client secret is sent only as HTTP Basic auth and never appears in a message, a
``repr`` or an exception.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from requests import Response

from ..errors import UpstreamError
from ..redaction import redact
from .pacing import Shared
from .schemas import conforms, validate

# (method, url, keyword arguments for requests) -> the final response, transient
# failures already retried by the caller's policy.
Send = Callable[..., Response]

# Renew this long before the token's lifetime runs out: a request sent with a token
# that expires in flight would fail with 401.
MARGIN_SECONDS = 60.0


class TokenCache:
    """One client's token and when to renew it: shared by every ``TokenProvider`` of that
    client in the process (``GenesysClient`` takes it from ``TOKEN_CACHES``), so that all
    threads use one token, as Genesys' per-token rate limit expects."""

    def __init__(self) -> None:
        self.token: str | None = None
        self.renew_at = 0.0
        self.lock = threading.Lock()
        self.requests = 0


TOKEN_CACHES: Shared[tuple[str, str, str], TokenCache] = Shared(TokenCache)


class TokenProvider:
    """Hands out a bearer token for the API, fetching a new one only when needed."""

    def __init__(
        self,
        *,
        login_url: str,
        client_id: str,
        client_secret: str,
        send: Send,
        clock: Callable[[], float] = time.monotonic,
        margin: float = MARGIN_SECONDS,
        cache: TokenCache | None = None,
    ) -> None:
        self.token_url = login_url.rstrip("/") + "/oauth/token"
        self.client_id = client_id
        self._secret = client_secret
        self._send = send
        self._clock = clock
        self._margin = margin
        self._cache = cache or TokenCache()

    def __repr__(self) -> str:
        return f"TokenProvider(token_url={self.token_url!r}, client_id={self.client_id!r})"

    @property
    def requests(self) -> int:
        """Token requests made (each attempt counts), by every provider sharing the cache."""
        return self._cache.requests

    def token(self) -> str:
        """The cached access token, or a new one when there is none or it is about to expire."""
        cache = self._cache
        with cache.lock:
            if cache.token is None or self._clock() >= cache.renew_at:
                cache.token, lifetime = self._fetch()
                # Very short lifetimes (test servers) keep half of it rather than none.
                cache.renew_at = self._clock() + lifetime - min(self._margin, lifetime / 2)
            return cache.token

    def invalidate(self, refused: str | None = None) -> None:
        """Forget the cached token (the API refused it); the next ``token()`` fetches anew.

        With ``refused``, only when that is still the cached token: when several threads
        see one token refused, one new token serves them all.
        """
        with self._cache.lock:
            if refused is None or self._cache.token == refused:
                self._cache.token = None

    def _fetch(self) -> tuple[str, float]:
        self._cache.requests += 1
        try:
            response = self._send(
                "POST",
                self.token_url,
                data={"grant_type": "client_credentials"},
                auth=(self.client_id, self._secret),
                headers={"Accept": "application/json"},
            )
        except UpstreamError as exc:
            if not self._secret or self._secret not in str(exc):
                raise
            raise UpstreamError(
                redact(str(exc), [self._secret]),
                status=exc.status,
                code=exc.code,
                retryable=exc.retryable,
            ) from None
        body = self._json(response)
        if response.status_code != 200:
            raise self._refusal(response, body)
        if body is None:
            raise UpstreamError(
                f"Genesys Cloud answered POST {self.token_url} with a body that is not JSON",
                status=response.status_code,
            )
        validate("token", body)
        return body["access_token"], float(body["expires_in"])

    def _json(self, response: Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    def _refusal(self, response: Response, body: Any) -> UpstreamError:
        status = response.status_code
        code = None
        detail = (response.text or "").strip()[:200] or "(empty body)"
        if conforms("oauth error", body):
            code = body.get("error") or None
            texts = [body.get("error_description"), body.get("description")]
            detail = next((t for t in texts if isinstance(t, str) and t), code or detail)
        label = f"{status} {code}" if code else str(status)
        message = (
            f"Genesys Cloud refused the token request for client {self.client_id!r} "
            f"(POST {self.token_url}): {label}: {detail}"
        )
        retryable = status == 429 or status >= 500
        # A server may echo what it was sent; the secret must not reach a log through it.
        message = redact(message, [self._secret])
        return UpstreamError(message, status=status, code=code, retryable=retryable)
