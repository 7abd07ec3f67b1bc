"""The one HTTP client for Genesys Cloud: token, retries, errors, validation and paging.

Every request goes through one ``requests.Session`` with an explicit timeout. Transient
failures (429, 408, 502, 503, 504, network) are retried as ``backoff.GENESYS`` says; any
other answer that is not a JSON object becomes an ``UpstreamError`` in ``from_response``.
API requests are paced within the rate limit by the process's ``Pacer`` for the client,
and use the process's one token for it (``pacing.py``, ``auth.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import requests

from ..backoff import GENESYS, Backoff
from ..errors import UpstreamError
from ..http import make_session, observed, public_url
from .auth import TOKEN_CACHES, TokenProvider
from .pacing import PACERS, Pacer, client_key, rate_limit_wait
from .schemas import conforms, validate

if TYPE_CHECKING:
    from ..config import Settings

PAGE_SIZE = 100
# Answers that may pass by waiting, as the SDKs have it; others are final at once.
RETRY_STATUSES = frozenset({408, 429, 502, 503, 504})


def from_response(response: requests.Response, what: str) -> dict[str, Any]:
    """The JSON object of a successful answer, or an ``UpstreamError`` saying what went wrong."""
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    status = response.status_code
    if 200 <= status < 300:
        if isinstance(body, dict):
            return body
        kind = "a body that is not JSON" if body is None else f"JSON {type(body).__name__}"
        raise UpstreamError(
            f"Genesys Cloud answered {what} with {kind}, expected a JSON object "
            f"(status {status}, content type {response.headers.get('Content-Type', 'none')})",
            status=status,
        )
    raise _failure(response, body, what)


def _failure(response: requests.Response, body: Any, what: str) -> UpstreamError:
    label, code, message, context = _parts(response, body)
    text = f"Genesys Cloud answered {label} for {what}: {message}{context}"
    status = response.status_code
    # As the SDKs do: 501 (not implemented) will not pass by waiting; other 5xx may.
    retryable = status == 429 or (status >= 500 and status != 501)
    return UpstreamError(text, status=status, code=code, retryable=retryable, body=body)


def _parts(response: requests.Response, body: Any) -> tuple[str, str | None, str, str]:
    """Status with Genesys code, the code, the message and a contextId note of an error answer."""
    code = message = context = None
    if conforms("error", body):
        code, message = _text(body.get("code")), _text(body.get("message"))
        context = _text(body.get("contextId"))
    status = response.status_code
    label = f"{status} {code}" if code else str(status)
    message = message or (response.text or "").strip()[:200] or response.reason or "(empty body)"
    return label, code, message, f" (contextId {context})" if context else ""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


class GenesysClient:
    """Reads the Genesys Cloud API with a cached client-credentials token."""

    def __init__(
        self,
        *,
        api_url: str,
        login_url: str,
        client_id: str,
        client_secret: str,
        retry: Backoff = GENESYS,
        timeout: tuple[float, float] = (5.0, 30.0),
        sleep: Callable[[float], None] = time.sleep,
        pacing: bool = True,
    ) -> None:
        """``pacing=False`` sends API requests without regard to the rate limit (tests that
        prove pacing matters, and tests that fake ``sleep``)."""
        self.api_url = api_url.rstrip("/")
        self.retry = retry
        self.timeout = timeout
        self._sleep = sleep
        self._session = make_session(headers={"Accept": "application/json"})
        # One token and one pacer per client id and process, whichever thread made us.
        self._token_key = client_key(login_url, client_id, client_secret)
        self._pacer_key = client_key(self.api_url, client_id, client_secret)
        self._tokens = TokenProvider(
            login_url=login_url,
            client_id=client_id,
            client_secret=client_secret,
            send=self._send,
            cache=TOKEN_CACHES.take(self._token_key),
        )
        self.pacer: Pacer | None = PACERS.take(self._pacer_key) if pacing else None
        self._shared = True
        self.calls = 0

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> GenesysClient:
        """A client for the configured org; ``ConfigError`` when the credentials are missing."""
        settings.require(
            "GENESYS_CLIENT_ID", "GENESYS_CLIENT_SECRET", purpose="to call Genesys Cloud"
        )
        assert settings.genesys_client_id and settings.genesys_client_secret
        return cls(
            api_url=settings.genesys_api_url,
            login_url=settings.genesys_login_url,
            client_id=settings.genesys_client_id,
            client_secret=settings.genesys_client_secret,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"GenesysClient(api_url={self.api_url!r}, client_id={self._tokens.client_id!r})"

    def __enter__(self) -> GenesysClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def token_requests(self) -> int:
        """Token requests made (each attempt counts)."""
        return self._tokens.requests

    def close(self) -> None:
        """Close the pooled connections and let go of the shared token and pacer."""
        self._session.close()
        if self._shared:
            self._shared = False
            TOKEN_CACHES.give_back(self._token_key)
            if self.pacer is not None:
                PACERS.give_back(self._pacer_key)

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, schema: str | None = None
    ) -> dict[str, Any]:
        """GET ``path`` (``/api/v2/...`` or a ``nextUri``) and return its JSON object.

        With ``schema`` the body is checked against that schema of ``schemas.py``.
        A 401 gets one more try with a new token: tokens can be revoked before expiry.
        """
        url = self._url(path)
        what = f"GET {urlsplit(url).path}"
        response = self._send("GET", url, what=what, api=True, params=params)
        if response.status_code == 401:
            sent = response.request.headers.get("Authorization", "").partition(" ")[2]
            self._tokens.invalidate(sent or None)
            response = self._send("GET", url, what=what, api=True, params=params)
            if response.status_code == 401:
                what += " with a newly issued token"
        body = from_response(response, what)
        if schema is not None:
            validate(schema, body)
        return body

    def pages(
        self, path: str, params: Mapping[str, Any] | None = None, *, schema: str
    ) -> Iterator[dict[str, Any]]:
        """Every page of a listing, following ``nextUri`` (cursor or page-number style)."""
        page = self.get(path, {**(params or {}), "pageSize": PAGE_SIZE}, schema=schema)
        seen = {path}
        while True:
            yield page
            next_uri = page.get("nextUri")
            if not next_uri or _last_numbered_page(page):
                return
            if next_uri in seen:
                raise UpstreamError(f"Genesys Cloud sent nextUri {next_uri} twice for GET {path}")
            seen.add(next_uri)
            has_size = "pageSize" in parse_qs(urlsplit(next_uri).query)
            extra = None if has_size else {"pageSize": PAGE_SIZE}
            page = self.get(next_uri, extra, schema=schema)

    def _url(self, path: str) -> str:
        if path.startswith(self.api_url + "/"):
            return path
        if "://" in path.split("?", 1)[0]:
            # Never send the bearer token to a host that is not the configured API.
            raise UpstreamError(f"refusing to follow {path!r}: it is not under {self.api_url}")
        return self.api_url + ("" if path.startswith("/") else "/") + path

    def _send(
        self, method: str, url: str, *, what: str | None = None, api: bool = False, **kwargs: Any
    ) -> requests.Response:
        """Send one request, retrying transient failures; the final response is returned."""
        what = what or f"{method} {urlsplit(url).path}"
        policy = self.retry
        for attempt in range(1, policy.max_tries + 1):
            ticket = None
            if api:
                kwargs["headers"] = {"Authorization": f"Bearer {self._tokens.token()}"}
                ticket = self.pacer.acquire() if self.pacer else None
                self.calls += 1
            answer: requests.Response | None = None
            try:
                try:
                    # Never follow a redirect: it would carry the bearer token (or the client
                    # secret) to wherever the Location points.
                    response = answer = self._session.request(
                        method, url, timeout=self.timeout, allow_redirects=False, **kwargs
                    )
                finally:
                    if ticket is not None and self.pacer is not None:
                        self.pacer.release(ticket, answer.headers if answer is not None else None)
            except (requests.ConnectionError, requests.Timeout) as exc:
                observed("genesys", None)
                failure, status, code = _describe_exception(exc), None, None
                delay = policy.delay(attempt)
            except requests.RequestException as exc:
                observed("genesys", None)
                raise UpstreamError(f"{what} failed: {_describe_exception(exc)}") from None
            else:
                observed("genesys", response.status_code)  # each try, so that retried 429s show too
                if 300 <= response.status_code < 400:
                    raise _redirect(response, what, api=api)
                if response.status_code not in RETRY_STATUSES:
                    return response
                status = response.status_code
                label, code, message, context = _parts(response, _json_or_none(response))
                failure = f"{label}: {message}{context}"
                delay = policy.delay(attempt)
                if status == 429:
                    # Not the short backoff: the window is spent until it resets.
                    wait, basis = rate_limit_wait(response.headers, now=time.time())
                    if self.pacer is not None and api:
                        self.pacer.hold(min(wait, policy.max_retry_after))
                    if wait > policy.max_retry_after:
                        raise UpstreamError(
                            f"Genesys Cloud asks to wait {wait:g} s ({basis}) before retrying "
                            f"{what}, more than the {policy.max_retry_after:g} s allowed "
                            f"({failure})",
                            status=429,
                            code=code,
                            retryable=True,
                        )
                    delay = None if delay is None else wait
            if delay is None:  # no try left
                raise UpstreamError(
                    f"Genesys Cloud kept failing {what}: gave up after {attempt} tries, "
                    f"the last one got {failure}",
                    status=status,
                    code=code,
                    retryable=True,
                )
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _last_numbered_page(page: Mapping[str, Any]) -> bool:
    number, count = page.get("pageNumber"), page.get("pageCount")
    return isinstance(number, int) and isinstance(count, int) and number >= count


def _redirect(response: requests.Response, what: str, *, api: bool) -> UpstreamError:
    """A 3xx is not followed: the configured URL is not the one Genesys Cloud serves."""
    status = response.status_code
    location = response.headers.get("Location")
    where = f"to {public_url(location, response.url)}" if location else "without a Location"
    variable = "GENESYS_API_URL" if api else "GENESYS_LOGIN_URL"
    return UpstreamError(
        f"Genesys Cloud answered {what} with a {status} redirect {where}, not followed: "
        f"check {variable}",
        status=status,
    )


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _describe_exception(exc: requests.RequestException) -> str:
    kind = type(exc).__name__
    if isinstance(exc, requests.Timeout):
        return f"{kind} (no answer within the timeout)"
    return f"{kind}: {str(exc)[:200]}"
