#!/usr/bin/env python3
"""Copy the ledger to a backup file with SQLite's online backup, while everything runs:
``archiver backup DEST``.

Usage: .venv/bin/python scripts/backup_ledger.py DEST  (``--help`` says more; settings from
the environment / .env). Kept for cron jobs and habits: the command under this script's name.
"""

from service.commands.backup import backup_command

if __name__ == "__main__":
    backup_command.main(prog_name="backup_ledger.py")
