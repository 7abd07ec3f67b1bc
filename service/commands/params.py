"""Option types that check a value where it is given, naming the option when it is bad."""

from __future__ import annotations

import re
from typing import Any

import click

from ..errors import UsageError


class Uuid(click.ParamType):
    """A UUID, in the canonical form the ledger keeps (``what`` names it in errors)."""

    name = "uuid"

    def __init__(self, what: str = "strategy id") -> None:
        self.what = what

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..ids import require_uuid

        try:
            return require_uuid(value, self.what)
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


class Since(click.ParamType):
    """An ISO-8601 time (a date alone is its midnight UTC), in the ledger's own form."""

    name = "iso"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..admin.listings import parse_since

        try:
            return parse_since(value)
        except ValueError:
            self.fail(
                f"must be an ISO-8601 time such as 2026-01-31 or 2026-01-31T08:00:00Z, "
                f"got {value!r}",
                param,
                ctx,
            )


class AuditHead(click.ParamType):
    """``SEQ:HASH`` as ``archiver audit verify`` prints it after ``head``."""

    name = "seq:hash"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, str]:
        seq, _, digest = str(value).strip().lower().partition(":")
        if not (seq.isascii() and seq.isdigit() and re.fullmatch(r"[0-9a-f]{64}", digest)):
            self.fail(
                "must be SEQ:HASH as `archiver audit verify` prints it after `head`"
                " (a number, a colon, 64 lower-case hex digits)",
                param,
                ctx,
            )
        return int(seq), digest


class RateLimit(click.ParamType):
    """``N/SECONDS``: N requests (1 or more) per window of SECONDS (at most a day)."""

    name = "n/seconds"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[int, float]:
        allowed, _, seconds = str(value).partition("/")
        try:
            pair = (int(allowed), float(seconds))
        except ValueError:
            pair = (0, 0.0)
        if pair[0] < 1 or not 0 < pair[1] <= 86_400:
            self.fail(
                f"must be N/SECONDS, N requests (1 or more) per window of SECONDS, got {value!r}",
                param,
                ctx,
            )
        return pair
