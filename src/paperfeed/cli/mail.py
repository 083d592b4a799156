"""Mail commands: deliver the queue, and show how it stands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from paperfeed.cli.context import get_settings, get_store
from paperfeed.mail.mailer import deliver_due, outbox_dir, prune_sent_mail, transport_for


@click.group()
def mail() -> None:
    """The outgoing mail queue (delivered over SMTP, or to the outbox folder)."""


@mail.command("send")
@click.option("--limit", type=click.IntRange(1), default=None, help="Send at most this many.")
@click.pass_context
def mail_send(ctx: click.Context, limit: int | None) -> None:
    """Deliver every queued message that is due (retries wait their turn)."""
    settings = get_settings(ctx)
    report = deliver_due(
        get_store(ctx), transport_for(settings), datetime.now(UTC), limit, settings.mail_lease_s
    )
    click.echo(report.summary())


@mail.command("prune")
@click.pass_context
def mail_prune(ctx: click.Context) -> None:
    """Drop the bytes of mail sent more than PAPERFEED_MAIL_KEEP_DAYS ago (rows stay)."""
    settings = get_settings(ctx)
    now = datetime.now(UTC)
    dropped = prune_sent_mail(get_store(ctx), settings, now)
    if dropped is None:
        raise click.ClickException("another process is pruning the mail; try again when it ends")
    before = now - timedelta(days=settings.mail_keep_days)
    click.echo(f"dropped the bytes of {dropped} messages sent before {before:%Y-%m-%d %H:%M} UTC")


@mail.command("status")
@click.pass_context
def mail_status(ctx: click.Context) -> None:
    """Messages by status, the ones failing and why, and suppressed addresses."""
    settings = get_settings(ctx)
    status = get_store(ctx).mail_status()
    target = (
        settings.smtp_url.split("@")[-1] if settings.smtp_url else f"outbox {outbox_dir(settings)}"
    )
    click.echo(f"delivering to: {target}")
    for name in ("queued", "sending", "sent", "bounced", "suppressed"):
        click.echo(f"  {name:<11} {status.counts.get(name, 0):>7}")
    if status.problems:
        click.echo("recent failures:")
        for mail_id, recipient, attempts, error in status.problems:
            click.echo(f"  #{mail_id} to {recipient}, {attempts} attempts: {error}")
    if status.suppressed:
        click.echo(f"suppressed after bounces: {', '.join(status.suppressed)}")


@click.command("discussion-mail")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Act as if it were this UTC time (ISO 8601, e.g. 2026-06-26T09:00); default: now.",
)
@click.option("--send/--no-send", default=True, help="Also deliver the queue afterwards.")
@click.pass_context
def discussion_mail(ctx: click.Context, now_text: str | None, send: bool) -> None:
    """Queue mail about new comments to the participants who follow a discussion (at most one
    a discussion an hour each); safe to run again at any time."""
    from paperfeed.discussion.mail import send_discussion_mail

    settings = get_settings(ctx)
    store = get_store(ctx)
    try:
        now = datetime.fromisoformat(now_text).replace(tzinfo=UTC) if now_text else None
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO 8601 time: {now_text!r}") from exc
    now = now or datetime.now(UTC)
    report = send_discussion_mail(store, settings, now)
    click.echo(report.summary())
    if send and report.queued:
        click.echo(
            deliver_due(store, transport_for(settings), now, None, settings.mail_lease_s).summary()
        )
