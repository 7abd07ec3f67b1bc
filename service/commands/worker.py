"""``archiver worker``: the process that runs jobs, deliveries and the sweep."""

from __future__ import annotations

import click

from .base import ArchiverCommand, CommandEnv, pass_env, setup_logs


@click.command("worker", cls=ArchiverCommand, short_help="Run jobs, deliveries and the sweep.")
@pass_env
def worker_command(env: CommandEnv) -> None:
    """Run archive jobs, outbound deliveries and the scheduled sweep until SIGTERM.

    On SIGTERM the worker finishes the job in hand, then exits 0. Any number of workers
    may run at once on one machine, beside any number of web processes.
    """
    from ..ops.multiprocess import use_folder

    settings = env.settings  # the app, built without importing prometheus-client
    # Before the worker's modules import prometheus-client: its metrics go to files that
    # the web process's /metrics adds up.
    use_folder(settings.metrics_dir)
    from ..worker import Worker

    setup_logs(settings, "worker")
    worker = Worker(env.app)
    worker.install_signal_handlers()
    worker.run()
