"""Subscribe (double opt-in), confirm, unsubscribe, preferences and passwordless sign-in.

No HTTP and no SMTP here: functions take the store, the settings, the caller's IP and `now`,
queue the mail they need (mail/mailer.py delivers it) and raise BadAddress, BadToken,
BadPreferences or RateLimited for the web layer to show.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paperfeed.config import Settings
from paperfeed.mail.messages import ListLinks, build_message, new_message_id, outgoing, render
from paperfeed.models import FREQUENCIES, Preferences, Subscriber
from paperfeed.people.addresses import normalise_address
from paperfeed.people.tokens import BadToken, sign_token, token_id, verify_token
from paperfeed.storage import Store
from paperfeed.text import clean_text

HOUR_S = 3600.0
LIST_LINK_TTL_S: float | None = None  # unsubscribe and preferences links in mail keep working
MAX_TOPICS = 10
MAX_TOPIC_CHARS = 200
MAX_CATEGORIES = 20
MAX_PAPERS = 50


class RateLimited(Exception):
    """Too many requests from one IP address: try again later."""


class BadPreferences(ValueError):
    """Preferences that cannot be saved; the message says what to fix."""


def describe(preferences: Preferences) -> str:
    """What a subscriber agrees to receive, in words (for the confirmation mail and consent)."""
    if preferences.frequency == "paused":
        return "no email for now (paused)"
    cadence = "a daily" if preferences.frequency == "daily" else "a weekly"
    words = f"{cadence} email of trending papers"
    if preferences.frequency == "daily" and preferences.weekdays_only:
        words += " on weekdays"
    if preferences.topics:
        words += ", with new papers on " + "; ".join(f'"{t}"' for t in preferences.topics)
    if preferences.categories:
        words += " in " + ", ".join(preferences.categories)
    return words


def parse_preferences(
    frequency: str | None = None,
    weekdays_only: object = False,
    topics: object = (),
    categories: object = (),
    max_papers: object = None,
    timezone: object = None,
) -> Preferences:
    """Preferences from a form or JSON, checked; topics/categories as lists or text lines."""
    chosen = (frequency or "daily").strip().lower()
    if chosen not in FREQUENCIES:
        raise BadPreferences(f"frequency must be one of {', '.join(FREQUENCIES)}")
    topic_list = _lines(topics, MAX_TOPICS, "topics")
    if any(len(t) > MAX_TOPIC_CHARS for t in topic_list):
        raise BadPreferences(f"a topic may have at most {MAX_TOPIC_CHARS} characters")
    category_list = [
        c
        for line in _lines(categories, MAX_CATEGORIES * 2, "categories")
        for c in line.replace(",", " ").split()
    ]
    if len(category_list) > MAX_CATEGORIES or any(len(c) > 40 for c in category_list):
        raise BadPreferences(f"at most {MAX_CATEGORIES} categories, like cs.LG")
    try:
        papers = 10 if max_papers in (None, "") else int(str(max_papers))
    except ValueError:
        raise BadPreferences("the number of papers must be a whole number") from None
    if not 1 <= papers <= MAX_PAPERS:
        raise BadPreferences(f"the number of papers must be between 1 and {MAX_PAPERS}")
    zone = str(timezone or "UTC").strip() or "UTC"
    if not valid_timezone(zone):
        raise BadPreferences("the time zone must be a name like Europe/Paris or UTC")
    return Preferences(
        frequency=chosen,
        weekdays_only=weekdays_only in (True, "1", "on", "true", "yes"),
        topics=tuple(dict.fromkeys(topic_list)),
        categories=tuple(dict.fromkeys(category_list)),
        max_papers=papers,
        timezone=zone,
    )


def valid_timezone(name: str) -> bool:
    """Whether `name` is an IANA time zone this machine knows (Europe/Paris, UTC)."""
    if len(name) > 64 or not all(c.isalnum() or c in "/_+-" for c in name):
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _lines(value: object, limit: int, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items = value.splitlines()
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        items = list(value)
    else:
        raise BadPreferences(f"{name} must be text or a list of strings")
    # Like catalog text: no control characters (NUL), no bidi overrides; whitespace collapsed.
    cleaned = [clean_text(item) for item in items]
    cleaned = [item for item in cleaned if item]
    if len(cleaned) > limit:
        raise BadPreferences(f"at most {limit} {name}")
    return cleaned


def _check_rate(
    store: Store, settings: Settings, action: str, ip: str | None, email: str, now: datetime
) -> bool:
    """RateLimited when the IP asked too often; False (send nothing) when the address did."""
    if ip and not store.take_rate(f"{action}:ip:{ip}", now, HOUR_S, settings.ip_limit_per_hour):
        raise RateLimited("too many requests from your network; try again in an hour")
    return store.take_rate(
        f"{action}:address:{email}", now, HOUR_S, settings.address_limit_per_hour
    )


def _base(settings: Settings) -> str:
    return settings.base_url.rstrip("/")


def list_links(settings: Settings, subscriber: Subscriber, now: datetime) -> ListLinks:
    """The unsubscribe and preferences links every list mail to `subscriber` carries."""
    subject = str(subscriber.id)
    unsubscribe = sign_token(settings.secret_key, "unsubscribe", subject, now, LIST_LINK_TTL_S)
    prefs = sign_token(settings.secret_key, "prefs", subject, now, LIST_LINK_TTL_S)
    return ListLinks(
        unsubscribe=f"{_base(settings)}/unsubscribe/{unsubscribe}",
        preferences=f"{_base(settings)}/preferences/{prefs}",
    )


def _queue(
    store: Store,
    settings: Settings,
    template: str,
    subscriber: Subscriber,
    now: datetime,
    links: ListLinks | None = None,
    **context: Any,
) -> None:
    subject, text, html = render(
        template,
        site_name=settings.site_name,
        base_url=_base(settings),
        ttl_hours=round(settings.confirm_ttl_hours),
        **context,
    )
    message = build_message(
        settings,
        to=subscriber.email,
        subject=subject,
        text=text,
        html=html,
        message_id=new_message_id(settings),
        now=now,
        links=links,
    )
    store.enqueue_mail(outgoing(message, template, subscriber.id), now)


def request_subscription(
    store: Store,
    settings: Settings,
    address: object,
    preferences: Preferences,
    ip: str | None,
    now: datetime,
) -> str:
    """Ask to subscribe `address`; returns what was done, which callers must not reveal:
    "confirmation" (a confirmation mail is queued), "notice" (already subscribed: a notice is
    queued instead), "limited" (this address asked too often), "suppressed" (it bounced)."""
    email = normalise_address(address)
    if not _check_rate(store, settings, "subscribe", ip, email, now):
        return "limited"
    with store.transaction():
        return _request_subscription(store, settings, email, preferences, ip, now)


def _request_subscription(
    store: Store,
    settings: Settings,
    email: str,
    preferences: Preferences,
    ip: str | None,
    now: datetime,
) -> str:
    found = store.subscriber_by_email(email)
    if found is not None and found.status == "suppressed":
        return "suppressed"
    if found is not None and found.status == "active" and found.preferences.frequency != "paused":
        links = list_links(settings, found, now)
        _queue(
            store,
            settings,
            "already",
            found,
            now,
            links=links,
            wants=describe(found.preferences),
            preferences_url=links.preferences,
            unsubscribe_url=links.unsubscribe,
        )
        return "notice"
    # Nothing the request asks for takes effect before the address confirms it: it waits in
    # `requested` (a paused account must not start getting mail on a stranger's say-so).
    subscriber = found or store.create_subscriber(email, Preferences(), now)
    subscriber = store.save_subscriber(replace(subscriber, requested=preferences), now)
    store.log_consent(subscriber.id, now, ip, "requested", describe(preferences))
    token = sign_token(
        settings.secret_key, "confirm", str(subscriber.id), now, settings.confirm_ttl_hours * HOUR_S
    )
    _queue(
        store,
        settings,
        "confirm",
        subscriber,
        now,
        wants=describe(preferences),
        confirm_url=f"{_base(settings)}/confirm/{token}",
    )
    return "confirmation"


def _spend(store: Store, settings: Settings, token: str, purpose: str, now: datetime) -> str:
    claims = verify_token(settings.secret_key, token, purpose, now)
    if not store.spend_token(token_id(claims), now):
        raise BadToken("this link has been used already")
    return claims.subject


def check_token(settings: Settings, token: str, purpose: str, now: datetime) -> None:
    """BadToken unless `token` is ours, for `purpose`, not expired (it is not spent)."""
    verify_token(settings.secret_key, token, purpose, now)


def confirm_subscription(
    store: Store, settings: Settings, token: str, ip: str | None, now: datetime
) -> Subscriber:
    """Use a confirmation link: the subscription starts and consent is recorded."""
    with store.transaction():
        return _confirm(store, settings, token, ip, now)


def _confirm(
    store: Store, settings: Settings, token: str, ip: str | None, now: datetime
) -> Subscriber:
    subscriber = store.get_subscriber(int(_spend(store, settings, token, "confirm", now)))
    if subscriber.status == "suppressed":
        raise BadToken("mail to this address bounced too often; it cannot be subscribed")
    subscriber = store.save_subscriber(
        replace(
            subscriber,
            status="active",
            confirmed_at=subscriber.confirmed_at or now,
            preferences=subscriber.requested or subscriber.preferences,
            requested=None,
        ),
        now,
    )
    store.log_consent(subscriber.id, now, ip, "confirmed", describe(subscriber.preferences))
    return subscriber


def request_sign_in(
    store: Store, settings: Settings, address: object, ip: str | None, now: datetime
) -> str:
    """Mail a sign-in link to `address` (an account is made when it is used); like
    request_subscription, the outcome is for logs and tests, not for the requester."""
    email = normalise_address(address)
    if not _check_rate(store, settings, "signin", ip, email, now):
        return "limited"
    found = store.subscriber_by_email(email)
    if found is not None and found.status == "suppressed":
        return "suppressed"
    token = sign_token(
        settings.secret_key, "signin", email, now, settings.confirm_ttl_hours * HOUR_S
    )
    subject, text, html = render(
        "signin",
        site_name=settings.site_name,
        base_url=_base(settings),
        ttl_hours=round(settings.confirm_ttl_hours),
        signin_url=f"{_base(settings)}/signin/{token}",
    )
    message = build_message(
        settings,
        to=email,
        subject=subject,
        text=text,
        html=html,
        message_id=new_message_id(settings),
        now=now,
    )
    store.enqueue_mail(outgoing(message, "signin", found.id if found else None), now)
    return "signin" if found else "signin-new"


def complete_sign_in(
    store: Store, settings: Settings, token: str, ip: str | None, now: datetime
) -> Subscriber:
    """Use a sign-in link; a new address becomes an account with no digest until chosen."""
    with store.transaction():
        return _sign_in(store, _spend(store, settings, token, "signin", now), ip, now)


def _sign_in(store: Store, email: str, ip: str | None, now: datetime) -> Subscriber:
    subscriber = store.subscriber_by_email(email)
    if subscriber is None:
        subscriber = store.create_subscriber(email, Preferences(frequency="paused"), now)
        subscriber = store.save_subscriber(
            replace(subscriber, status="active", confirmed_at=now), now
        )
        store.log_consent(
            subscriber.id,
            now,
            ip,
            "account",
            "account made by signing in; no email until chosen in preferences",
        )
        return subscriber
    if subscriber.status == "suppressed":
        raise BadToken("mail to this address bounced too often; it cannot sign in")
    if subscriber.confirmed_at is None:
        # The link proves the address; a pending subscription still needs its own confirmation.
        subscriber = store.save_subscriber(replace(subscriber, confirmed_at=now), now)
    return subscriber


def subscriber_for_link(
    store: Store, settings: Settings, token: str, purpose: str, now: datetime
) -> Subscriber:
    """The subscriber an unsubscribe or preferences link is for (these links can be reused)."""
    claims = verify_token(settings.secret_key, token, purpose, now)
    return store.get_subscriber(int(claims.subject))


def unsubscribe(
    store: Store, settings: Settings, token: str, ip: str | None, now: datetime
) -> Subscriber:
    """Use an unsubscribe link: no more list mail, at once; doing it twice changes nothing."""
    subscriber = subscriber_for_link(store, settings, token, "unsubscribe", now)
    return stop_mail(store, subscriber, ip, now)


def stop_mail(store: Store, subscriber: Subscriber, ip: str | None, now: datetime) -> Subscriber:
    """Unsubscribe `subscriber` (signed in, or through a link)."""
    if subscriber.status in ("unsubscribed", "suppressed"):
        return subscriber
    with store.transaction():
        subscriber = store.save_subscriber(replace(subscriber, status="unsubscribed"), now)
        store.log_consent(subscriber.id, now, ip, "unsubscribed", "no more email")
    return subscriber


def save_preferences(
    store: Store, subscriber: Subscriber, preferences: Preferences, ip: str | None, now: datetime
) -> Subscriber:
    """Save preferences; choosing a daily or weekly email (re)starts it for a confirmed
    address, since the caller is signed in or holds the address's own link."""
    status = subscriber.status
    if preferences.frequency != "paused" and subscriber.confirmed_at and status != "suppressed":
        status = "active"
    with store.transaction():
        saved = store.save_subscriber(
            replace(subscriber, preferences=preferences, status=status), now
        )
        store.log_consent(saved.id, now, ip, "preferences", describe(preferences))
    return saved
