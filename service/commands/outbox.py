"""``archiver outbox redeliver``: dead deliveries, due again."""

from __future__ import annotations

import click

from ..errors import LedgerError
from ..ledger import outbox
from .base import ArchiverGroup, CommandEnv, open_existing_ledger, pass_env
from .params import Uuid


@click.group("outbox", cls=ArchiverGroup, short_help="Outbound events and deliveries.")
def outbox_group() -> None:
    """Outbound events (completion, failure, deletion) and their deliveries."""


@outbox_group.command("redeliver", short_help="Send dead deliveries again.")
@click.option("--id", "delivery_id", type=Uuid("delivery id"), metavar="ID", help="This one.")
@click.option("--dead", is_flag=True, help="Every dead delivery.")
@pass_env
def redeliver_command(env: CommandEnv, delivery_id: str | None, dead: bool) -> None:
    """Make one dead delivery (--id ID) or every one (--dead) due again, with a fresh
    schedule. Exactly one of the two options."""
    from ..ledger import DeliveryState

    if bool(delivery_id) == dead:
        raise click.UsageError("give one of --id ID or --dead")
    with open_existing_ledger(env.settings) as ledger:
        if delivery_id:
            delivery = outbox.get_delivery(ledger, delivery_id)
            if delivery is None:
                raise LedgerError(f"no delivery {delivery_id}")
            if delivery.state is not DeliveryState.DEAD:
                raise LedgerError(
                    f"delivery {delivery_id} is {delivery.state}, not dead: nothing to send again"
                )
            ids = outbox.redeliver(ledger, delivery_id=delivery_id)
            if not ids:  # delivered or redelivered by someone else meanwhile
                raise LedgerError(
                    f"delivery {delivery_id} is no longer dead: nothing to send again"
                )
        else:
            ids = outbox.redeliver(ledger, dead=True)
    click.echo(f"{len(ids)} dead delivery(ies) pending again, due now")
