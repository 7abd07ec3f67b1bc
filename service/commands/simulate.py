"""``archiver simulate``: the bundled Genesys Cloud simulator, for trying things out."""

from __future__ import annotations

import click

from ..errors import UsageError
from .base import ArchiverCommand, CommandEnv, pass_env, setup_logs
from .params import RateLimit


@click.command("simulate", cls=ArchiverCommand, short_help="Run the Genesys Cloud simulator.")
@click.option(
    "--port", type=int, default=8765, show_default=True, metavar="N", help="Port on 127.0.0.1."
)
@click.option(
    "--notify-url",
    metavar="URL",
    help="POST a notification of every version made through /_sim to URL "
    "(e.g. http://127.0.0.1:8000/webhooks/genesys), carrying INBOUND_TOKEN when set.",
)
@click.option(
    "--notify-form",
    type=click.Choice(("direct", "eventbridge")),
    default="direct",
    show_default=True,
    help="Send notifications as Genesys does (direct) or as an EventBridge API "
    "destination does (eventbridge).",
)
@click.option(
    "--rate-limit",
    type=RateLimit(),
    metavar="N/SECONDS",
    help="Enforce N API requests per window of SECONDS (e.g. 300/10); default: not "
    "enforced, the headers showing 300 per 60 s.",
)
@click.option(
    "--no-retry-after",
    is_flag=True,
    help="Answer a request over the rate limit 429 without Retry-After (the "
    "inin-ratelimit-reset header still says when the window resets).",
)
@pass_env
def simulate_command(
    env: CommandEnv,
    port: int,
    notify_url: str | None,
    notify_form: str,
    rate_limit: tuple[int, float] | None,
    no_retry_after: bool,
) -> None:
    """Run the bundled Genesys Cloud simulator on 127.0.0.1 until Ctrl-C.

    OAuth at /oauth/token (any client, unless GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET
    are set: then only those), flows and routing strategies with seeded data. Prints its
    URL when ready.
    """
    from ..simulator import run_simulator

    settings = env.settings
    setup_logs(settings, "cli")
    if notify_url is not None and not notify_url.startswith(("http://", "https://")):
        raise UsageError(f"--notify-url must be an http:// or https:// URL, got {notify_url!r}")
    run_simulator(
        port,
        client_id=settings.genesys_client_id,
        client_secret=settings.genesys_client_secret,
        notify_url=notify_url,
        notify_form=notify_form,
        notify_token=settings.inbound_token,
        rate_limit=rate_limit,
        retry_after=not no_retry_after,
    )
