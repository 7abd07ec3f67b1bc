#!/usr/bin/env python3
"""Re-hash every archive document in cold storage and compare it with the ledger:
``archiver verify-archives``.

Usage: .venv/bin/python scripts/verify_archives.py  (``--help`` says more; settings from the
environment / .env; the ledger is read, never created). Kept for cron jobs and habits: the
command under this script's name.
"""

from service.commands.reports import verify_archives_command

if __name__ == "__main__":
    verify_archives_command.main(prog_name="verify_archives.py")
