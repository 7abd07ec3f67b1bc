"""Report queries over the ledger, as plain dicts: what ``archiver ledger`` and ``scripts/`` print.

All built on ledger verbs (no SQL here):

- ``listings``: one query per kind of record, all with the same filters, newest first
  (``archiver ledger``);
- ``history``: ``strategy_history``, one strategy's whole history (``scripts/strategy_history.py``);
- ``summary``: ``daily_summary``, one UTC day and what needs attention
  (``scripts/daily_summary.py``);
- ``verify``: the checks both reports make (archive documents, the audit chain);
- ``render``: their human form, aligned columns and Markdown.
"""

from __future__ import annotations

from typing import Any

Row = dict[str, Any]  # one record, JSON-ready
