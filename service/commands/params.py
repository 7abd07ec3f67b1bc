"""Option types that check a value where it is given, naming the option when it is bad."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import click

from ..errors import UsageError
from ..ledger import queries


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


@dataclass(frozen=True)
class ObjectRef:
    """What an id argument named: the object's id, and its source type and name when the
    ledger was asked (a full UUID is taken as it is: it may name an object not seen yet)."""

    id: str
    source_type: str | None = None
    name: str | None = None


class ObjectId(click.ParamType):
    """A flow's or strategy's id, as a UUID, a unique prefix of at least 8 characters, or
    the exact name of an object the ledger knows (contract section 3).

    Only a prefix or a name is looked up, in the ledger the settings name, which this never
    creates: without one, only a UUID is an id. No match, or more than one, is exit 2
    naming them.
    """

    name = "id"

    def __init__(self, what: str = "strategy id") -> None:
        self.what = what

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> ObjectRef:
        from ..ids import canonical_uuid

        if isinstance(value, ObjectRef):
            return value
        text = str(value)
        canonical = canonical_uuid(text)
        if canonical is not None:
            return ObjectRef(canonical)
        try:
            return self._look_up(text, ctx)
        except UsageError as exc:
            if isinstance(param, click.Option):  # name the option; an argument is the id
                self.fail(str(exc), param, ctx)
            raise

    def _look_up(self, text: str, ctx: click.Context | None) -> ObjectRef:
        from ..ledger import Ledger
        from ..ledger.queries import MIN_PREFIX
        from .base import CommandEnv

        env = ctx.ensure_object(CommandEnv) if ctx else CommandEnv()
        path = env.settings.archiver_db
        wanted = (
            f"{self.what} must be a UUID, or a unique prefix of one ({MIN_PREFIX} characters or"
            f" more) or the exact name of an object the ledger knows, got {text!r}"
        )
        if not path.is_file():
            raise UsageError(f"{wanted}; there is no ledger at {path} (ARCHIVER_DB)")
        with Ledger(path) as ledger:
            found = queries.resolve_object(ledger, text)
        if not found:
            raise UsageError(f"{wanted}; none of those in the ledger at {path} matches")
        if len(found) > 1:
            listed = "; ".join(_candidate(*row) for row in found)
            raise UsageError(f"{self.what} {text!r} is ambiguous, it matches: {listed}")
        return ObjectRef(*found[0])


def _candidate(object_id: str, source_type: str, name: str | None) -> str:
    """One candidate of an ambiguous id: ``flow <id> "<name>"``."""
    return f'{source_type} {object_id} "{name}"' if name else f"{source_type} {object_id}"


class Since(click.ParamType):
    """An ISO-8601 time (a date alone is its midnight UTC), in the ledger's own form."""

    name = "iso"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from ..reports.listings import parse_since

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
