#!/usr/bin/env python3
"""One strategy's full history, for a compliance reviewer: ``archiver report history``.

Usage: .venv/bin/python scripts/strategy_history.py STRATEGY_ID [--json] [--out FILE]
(``--help`` says more; settings from the environment / .env; the ledger is read, never
created). Kept for cron jobs and habits: the command under this script's name.
"""

from service.commands.reports import history_command

if __name__ == "__main__":
    history_command.main(prog_name="strategy_history.py")
