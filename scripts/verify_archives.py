#!/usr/bin/env python3
"""Re-hash every archive document in cold storage and compare it with the ledger.

Usage: .venv/bin/python scripts/verify_archives.py  (settings from the environment / .env)
Exit 0 when every document matches its recorded SHA-256, 1 naming each one that does not.
"""

from __future__ import annotations

import sys

from service.archive.store import read_document
from service.config import load_settings
from service.errors import ArchiverError, StorageError
from service.ledger import Ledger


def main() -> int:
    try:
        settings = load_settings()
        with Ledger.from_settings(settings) as ledger:
            archives = ledger.list_archives()
            bad = []
            for archive in archives:
                try:
                    read_document(settings.archive_dir, archive.location, archive.sha256)
                except StorageError as exc:
                    bad.append(f"{archive.id} ({archive.strategy_name}): {exc}")
    except ArchiverError as exc:
        print(f"verify_archives: {exc}", file=sys.stderr)
        return 2
    for line in bad:
        print(f"MISMATCH {line}")
    print(f"{len(archives)} archive document(s) checked, {len(bad)} bad")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
