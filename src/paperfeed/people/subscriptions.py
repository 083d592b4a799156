"""Subscribe (double opt-in), confirm, unsubscribe, preferences and passwordless sign-in.

No HTTP and no SMTP here: functions take the store, the settings, the caller's IP and `now`,
queue the mail they need (mail/mailer.py delivers it) and raise BadAddress, BadToken,
BadPreferences or RateLimited for the web layer to show.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from paperfeed.config import Settings
from paperfeed.mail.messages import ListLinks, build_message, new_message_id, outgoing, render
from paperfeed.models import FREQUENCIES, Preferences, Subscriber, address_key
from paperfeed.netaddr import rate_bucket
from paperfeed.people.addresses import normalise_address
from paperfeed.people.tokens import BadToken, Claims, sign_token, token_id, verify_token
from paperfeed.storage import Store, SubscriberNotFound
from paperfeed.text import clean_text

HOUR_S = 3600.0
DAY_S = 86_400.0
UNSUBSCRIBE_TTL_S: float | None = None  # an unsubscribe link in any mail ever sent keeps working
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
    words = _cadence(preferences)
    if preferences.frequency == "paused":
        return words
    if preferences.topics:
        words += ", with new papers on " + "; ".join(f'"{t}"' for t in preferences.topics)
    if preferences.categories:
        words += " in " + ", ".join(preferences.categories)
    return words


def describe_unconfirmed(preferences: Preferences) -> str:
    """What a confirmation mail says is asked for: counts, never the requester's own words
    (anyone can type anything into the form, and the mail goes out under our name)."""
    words = _cadence(preferences)
    if preferences.frequency == "paused":
        return words
    chosen = []
    if preferences.topics:
        chosen.append(_count(len(preferences.topics), "topic"))
    if preferences.categories:
        chosen.append(_count(len(preferences.categories), "arXiv category", "arXiv categories"))
    if chosen:
        words += " with new papers on " + " and ".join(chosen) + " (shown once you confirm)"
    return words


def _cadence(preferences: Preferences) -> str:
    """How often mail comes, in words: the start of both descriptions."""
    if preferences.frequency == "paused":
        return "no email for now (paused)"
    cadence = "a daily" if preferences.frequency == "daily" else "a weekly"
    words = f"{cadence} email of trending papers"
    if preferences.frequency == "daily" and preferences.weekdays_only:
        words += " on weekdays"
    return words


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"1 {one}" if n == 1 else f"{n} {many or one + 's'}"


def parse_preferences(
    frequency: object = None,
    weekdays_only: object = False,
    topics: object = (),
    categories: object = (),
    max_papers: object = None,
    timezone: object = None,
) -> Preferences:
    """Preferences from a form or JSON, checked; topics/categories as lists or text lines.

    Every field is type-checked (JSON can send a number, a list or an object anywhere), so a
    wrong type is a BadPreferences like any other bad value."""
    if frequency is not None and not isinstance(frequency, str):
        raise BadPreferences(f"frequency must be one of {', '.join(FREQUENCIES)}")
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
    papers = _whole_number(max_papers, 10)
    if not 1 <= papers <= MAX_PAPERS:
        raise BadPreferences(f"the number of papers must be between 1 and {MAX_PAPERS}")
    if timezone is not None and not isinstance(timezone, str):
        raise BadPreferences("the time zone must be a name like Europe/Paris or UTC")
    zone = (timezone or "UTC").strip() or "UTC"
    if not valid_timezone(zone):
        raise BadPreferences("the time zone must be a name like Europe/Paris or UTC")
    return Preferences(
        frequency=chosen,
        weekdays_only=_yes_or_no(weekdays_only),
        topics=tuple(dict.fromkeys(topic_list)),
        categories=tuple(dict.fromkeys(category_list)),
        max_papers=papers,
        timezone=zone,
    )


_YES = ("1", "on", "true", "yes")
_NO = ("", "0", "off", "false", "no")


def _yes_or_no(value: object) -> bool:
    """A checkbox (absent, "on", "1") or a JSON boolean; anything else is a mistake."""
    if value is None or isinstance(value, bool):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _YES + _NO:
        return value.strip().lower() in _YES
    raise BadPreferences("weekdays_only must be true or false")


def _whole_number(value: object, default: int) -> int:
    """A JSON integer or a form's digits; `default` when absent. Booleans and fractions are not
    numbers of papers."""
    if value is None or value == "":
        return default
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= 20:
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise BadPreferences("the number of papers must be a whole number")


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
    client = rate_bucket(ip)  # an IPv6 /64 counts as one client; unknown ones share a bucket
    if not store.take_rate(f"{action}:ip:{client}", now, HOUR_S, settings.ip_limit_per_hour):
        raise RateLimited("too many requests from your network; try again in an hour")
    return store.take_rate(
        f"{action}:address:{address_key(email)}", now, HOUR_S, settings.address_limit_per_hour
    )


def _base(settings: Settings) -> str:
    return settings.base_url.rstrip("/")


def list_links(settings: Settings, subscriber: Subscriber, now: datetime) -> ListLinks:
    """The unsubscribe and preferences links every list mail to `subscriber` carries."""
    subject = str(subscriber.id)
    unsubscribe = sign_token(settings.secret_key, "unsubscribe", subject, now, UNSUBSCRIBE_TTL_S)
    # A preferences link opens the account's settings: it lapses, and "sign out everywhere"
    # (a new session version) retires every one mailed before.
    prefs = sign_token(
        settings.secret_key,
        "prefs",
        subject,
        now,
        settings.preferences_link_days * DAY_S,
        version=subscriber.session_version,
    )
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
        settings.secret_key,
        "confirm",
        str(subscriber.id),
        now,
        settings.confirm_ttl_hours * HOUR_S,
        bound=_digest(preferences),
    )
    _queue(
        store,
        settings,
        "confirm",
        subscriber,
        now,
        wants=describe_unconfirmed(preferences),
        confirm_url=f"{_base(settings)}/confirm/{token}",
    )
    return "confirmation"


def _digest(preferences: Preferences) -> str:
    """Names one request's preferences, so its confirmation link confirms those and no
    others (a later request for the same address must not ride on an earlier link)."""
    data = json.dumps(preferences.as_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def _spend(store: Store, settings: Settings, token: str, purpose: str, now: datetime) -> Claims:
    claims = verify_token(settings.secret_key, token, purpose, now)
    if not store.spend_token(token_id(claims), now):
        raise BadToken("this link has been used already")
    return claims


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
    claims = _spend(store, settings, token, "confirm", now)
    subscriber = store.get_subscriber(int(claims.subject))
    if subscriber.requested is None or claims.bound != _digest(subscriber.requested):
        raise BadToken(
            "this link is for an earlier request: use the link in the latest email, "
            "or subscribe again"
        )
    if subscriber.status == "suppressed":
        raise BadToken("mail to this address bounced too often; it cannot be subscribed")
    subscriber = store.save_subscriber(
        replace(
            subscriber,
            status="active",
            confirmed_at=subscriber.confirmed_at or now,
            preferences=subscriber.requested,
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
    # The link names a row, not the address (links end up in logs and browser histories): a
    # new address gets a row that is no account, and no subscription, until the link is used.
    subscriber = found or store.create_subscriber(email, Preferences(frequency="paused"), now)
    token = sign_token(
        settings.secret_key, "signin", str(subscriber.id), now, settings.confirm_ttl_hours * HOUR_S
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
    store.enqueue_mail(outgoing(message, "signin", subscriber.id), now)
    return "signin" if found is not None and found.is_account else "signin-new"


def complete_sign_in(
    store: Store, settings: Settings, token: str, ip: str | None, now: datetime
) -> Subscriber:
    """Use a sign-in link; a new address becomes an account with no digest until chosen."""
    with store.transaction():
        claims = _spend(store, settings, token, "signin", now)
        return _sign_in(store, int(claims.subject), ip, now)


def _sign_in(store: Store, subscriber_id: int, ip: str | None, now: datetime) -> Subscriber:
    subscriber = store.get_subscriber(subscriber_id)
    if (
        subscriber.status == "pending"
        and subscriber.confirmed_at is None
        and (subscriber.requested is None)
    ):
        # Made by the sign-in request: the address is proven now; no email until chosen.
        subscriber = store.save_subscriber(
            replace(
                subscriber,
                status="active",
                confirmed_at=now,
                preferences=Preferences(frequency="paused"),
            ),
            now,
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
    """The subscriber an unsubscribe or preferences link is for (these links can be reused;
    a preferences link stops working once its account signed out everywhere)."""
    claims = verify_token(settings.secret_key, token, purpose, now)
    try:
        subscriber = store.get_subscriber(int(claims.subject))
    except (SubscriberNotFound, ValueError):
        raise BadToken("this link is for an address we no longer have") from None
    if purpose == "prefs" and claims.version != subscriber.session_version:
        raise BadToken("this link has been retired: sign in to change your preferences")
    return subscriber


def unsubscribe(
    store: Store, settings: Settings, token: str, ip: str | None, now: datetime
) -> Subscriber:
    """Use an unsubscribe link: no more list mail, at once; doing it twice changes nothing."""
    subscriber = subscriber_for_link(store, settings, token, "unsubscribe", now)
    return stop_mail(store, subscriber, ip, now)


def sign_out_everywhere(store: Store, subscriber: Subscriber, now: datetime) -> Subscriber:
    """End every session of `subscriber` and retire the preferences links mailed so far."""
    return store.save_subscriber(
        replace(subscriber, session_version=subscriber.session_version + 1), now
    )


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
