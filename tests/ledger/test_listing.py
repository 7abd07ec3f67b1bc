"""The one listing builder: equality filters, a time floor over one or more columns, an
order and a limit, run against a real SQLite table."""

from __future__ import annotations

import sqlite3

import pytest

from service.ledger.listing import listing


@pytest.fixture
def conn():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE t (id TEXT, kind TEXT, state TEXT, made TEXT, touched TEXT)")
    conn.executemany(
        "INSERT INTO t VALUES (?, ?, ?, ?, ?)",
        [
            ("a", "flow", "done", "2026-01-01T00:00:00Z", None),
            ("b", "flow", "dead", "2026-01-02T00:00:00Z", "2026-01-05T00:00:00Z"),
            ("c", "routing", "done", "2026-01-03T00:00:00Z", None),
        ],
    )
    yield conn
    conn.close()


def ids(conn: sqlite3.Connection, **options) -> list[str]:
    sql, params = listing("SELECT id FROM t", order="made DESC", **options)
    return [row[0] for row in conn.execute(sql, params)]


def test_no_filter_lists_every_row_in_order(conn: sqlite3.Connection) -> None:
    assert ids(conn) == ["c", "b", "a"]
    assert listing("SELECT id FROM t", order="made") == ("SELECT id FROM t ORDER BY made", [])


def test_empty_filters_filter_nothing_and_set_ones_all_apply(conn: sqlite3.Connection) -> None:
    assert ids(conn, equal=[("kind", None), ("state", "")]) == ["c", "b", "a"]
    assert ids(conn, equal=[("kind", "flow")]) == ["b", "a"]
    assert ids(conn, equal=[("kind", "flow"), ("state", "done")]) == ["a"]


def test_since_keeps_rows_where_any_of_its_columns_is_at_or_after_it(
    conn: sqlite3.Connection,
) -> None:
    assert ids(conn, since="2026-01-02T00:00:00Z", since_columns=["made"]) == ["c", "b"]
    both = ["made", "touched"]
    assert ids(conn, since="2026-01-04T00:00:00Z", since_columns=both) == ["b"]
    assert ids(conn, since=None, since_columns=both) == ["c", "b", "a"]


def test_the_limit_caps_the_rows_and_values_are_parameters(conn: sqlite3.Connection) -> None:
    assert ids(conn, limit=2) == ["c", "b"]
    assert ids(conn, limit=None) == ["c", "b", "a"]
    sql, params = listing("SELECT id FROM t", equal=[("kind", "x' OR 1=1 --")], order="id")
    assert params == ["x' OR 1=1 --"]
    assert conn.execute(sql, params).fetchall() == []
