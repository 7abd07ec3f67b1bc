"""``archiver worker``: the process that runs jobs, deliveries and the sweep."""

from __future__ import annotations

import os

import click

from .base import ArchiverCommand, CommandEnv, pass_env, setup_logs


@click.command("worker", cls=ArchiverCommand, short_help="Run jobs, deliveries and the sweep.")
@pass_env
def worker_command(env: CommandEnv) -> None:
    """Run archive jobs, outbound deliveries and the scheduled sweep until SIGTERM.

    On SIGTERM the worker finishes the job in hand, then exits 0. Any number of workers
    may run at once on one machine, beside any number of web processes. It runs at the
    CPU niceness WORKER_NICE (default 10), below the web process's.
    """
    from ..ops.multiprocess import use_folder

    settings = env.settings  # the app, built without importing prometheus-client
    # Before any thread starts (Linux sets niceness per thread; new threads inherit it):
    # archiving can wait a moment, a webhook's sender cannot.
    lower_priority(settings.worker_nice)
    # Before the worker's modules import prometheus-client: its metrics go to files that
    # the web process's /metrics adds up.
    use_folder(settings.metrics_dir)
    from ..worker import Worker

    setup_logs(settings, "worker")
    worker = Worker(env.app)
    worker.install_signal_handlers()
    worker.run()


def lower_priority(nice: int) -> None:
    """Raise this process's niceness to ``nice`` (never lower it: that needs privileges)."""
    current = os.getpriority(os.PRIO_PROCESS, 0)
    if nice > current:
        os.setpriority(os.PRIO_PROCESS, 0, nice)
