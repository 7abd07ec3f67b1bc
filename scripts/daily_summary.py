#!/usr/bin/env python3
"""One UTC day's archives, jobs, events and deliveries, and what needs attention:
``archiver report daily``.

Usage: .venv/bin/python scripts/daily_summary.py [--date YYYY-MM-DD|today|yesterday] [--json]
(``--help`` says more; settings from the environment / .env; the ledger is read, never
created). Kept for cron jobs and habits: the command under this script's name.
"""

from service.commands.reports import daily_command

if __name__ == "__main__":
    daily_command.main(prog_name="daily_summary.py")
