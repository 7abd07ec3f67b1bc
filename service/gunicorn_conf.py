"""gunicorn settings for the web process, packaged so that an install without a checkout
has them: ``archiver web`` loads this module, and the top-level ``gunicorn.conf.py`` (the
Procfile's ``gunicorn -c gunicorn.conf.py "service.app:create_app()"``) imports it.

Settings come from the same validated ``Settings`` as everything else, read here once
in the master so that a bad variable stops the process at start (one line, exit 2).
The app is not preloaded: each worker builds it and opens its own ledger connection
after the fork. Metrics: the master points prometheus-client at ``METRICS_DIR`` before
any worker exists (and before anything imports prometheus-client), so that each worker
writes its own file there and ``/metrics`` adds them up, with the worker process's.
"""

import multiprocessing
import os
import sys
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from .app import read_settings, require_web
from .errors import ConfigError
from .ops.logs import gunicorn_logconfig, install_exception_hooks
from .ops.multiprocess import process_exited, use_folder
from .redaction import redact

try:
    _settings = require_web(read_settings())  # as each worker's create_app() reads them
    # Files of processes that no longer run are from an earlier start: their counts go.
    use_folder(_settings.metrics_dir, clear_stale=True)
except ConfigError as exc:
    # As every other line the service writes: credential-looking values masked.
    print(f"archiver web: {redact(str(exc))}", file=sys.stderr)
    sys.exit(2)

bind = f"0.0.0.0:{_settings.port}"
# One process per core, many threads each. Every accepted webhook ends in a durable
# commit to one SQLite file: threads of a process share one commit (group commit, see
# service/inbound/committer.py), while extra processes would only queue for the write
# lock. Measured with scripts/bench_ingest.py (README): 2 x 8 beats 5 x 4 here.
# WEB_CONCURRENCY is the variable platforms (Heroku, Render, Dokku...) set for this.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count()))
worker_class = "gthread"
# Threads mostly wait for their commit, so many are cheap, and each one in flight can
# join the next one: with the worker committing too, 2 x 32 carried about 11 events
# per commit where 2 x 8 carried 6 (scripts/bench_ingest.py, README).
threads = int(os.environ.get("WEB_THREADS", "32"))
preload_app = False  # no database connection may exist before the fork
timeout = 30  # a request never does slow work; a worker silent this long is stuck
graceful_timeout = 20
keepalive = 5  # behind a reverse proxy or EventBridge, reuse connections
max_requests = 10000  # recycle workers now and then, spread so they do not all restart at once
max_requests_jitter = 1000
# Logs: on stderr, secrets redacted, JSON lines (readable ones on a terminal, or as
# LOG_FORMAT says; service/ops/logs.py). gunicorn's own error log goes through the same
# handler as the app's; so does an access log when one is asked for (``--access-logfile
# -``): each request's line then is a log line's ``msg``.
accesslog = None
errorlog = "-"
logconfig_dict = gunicorn_logconfig(_settings)
install_exception_hooks()  # before the fork: the workers' threads log theirs too


class JsonLogger(Logger):
    """gunicorn's logger, writing access lines only when ``accesslog`` is set: with a
    ``logconfig_dict`` gunicorn would write one INFO line per request, which at thousands
    of webhooks a second costs more than it tells."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)


logger_class = JsonLogger
# gunicorn 24+ opens a control socket at one fixed path per user; several web processes
# on one machine would take it from each other. Nothing here uses it.
control_socket_disable = True


def child_exit(server: object, worker: Any) -> None:
    """A web worker has exited: tell prometheus-client (its counts stay in the totals)."""
    process_exited(worker.pid)
