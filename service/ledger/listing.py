"""One builder for the ledger's listings: equality filters, a time floor, an order, a limit.

Every ``list_*`` verb filters the same way (a filter left out, or empty, filters nothing),
so the SQL that does it is written once here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def listing(
    select: str,
    *,
    equal: Sequence[tuple[str, object | None]] = (),
    since: str | None = None,
    since_columns: Sequence[str] = (),
    order: str,
    limit: int | None = None,
) -> tuple[str, list[Any]]:
    """(SQL, parameters) of ``select`` filtered and ordered.

    ``equal``: (column, value) pairs, each column to have its value; ``since`` keeps the
    rows where any of ``since_columns`` is at or after it (ISO-8601 texts compare as
    times); ``limit`` (when set) caps the number of rows.
    """
    where: list[str] = []
    params: list[Any] = []
    for column, value in equal:
        if value:
            where.append(f"{column} = ?")
            params.append(str(value))
    if since and since_columns:
        where.append("(" + " OR ".join(f"{column} >= ?" for column in since_columns) + ")")
        params.extend([since] * len(since_columns))
    sql = select
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {order}"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return sql, params
