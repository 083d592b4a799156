"""Read paperfeed's settings from PAPERFEED_* environment variables, once, at start-up."""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from paperfeed.storage.urls import is_postgres, sqlite_path
from paperfeed.web.hosts import allowed_hosts_problem, host_name

ENV_PREFIX = "PAPERFEED_"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    """A setting has a value paperfeed cannot use."""


VECTOR_INDEXES = ("local", "pgvector")


def _setting(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """Every knob paperfeed has; each field is read from PAPERFEED_<FIELD NAME IN CAPITALS>."""

    database_url: str = _setting(
        "sqlite:///data/paperfeed.db",
        "Where the catalog lives: sqlite:///relative.db, sqlite:////absolute.db, or "
        "postgresql://user:password@host:5432/dbname.",
    )
    database_pool_size: int = _setting(
        10,
        "PostgreSQL: connections each process keeps open at most (web threads, workers and "
        "sender share them).",
    )
    database_busy_timeout_s: float = _setting(
        30.0,
        "How long a write waits for the database before giving up with 'database busy' (a web "
        "request answers 503): SQLite, for another process's write lock; PostgreSQL, for a "
        "free pooled connection.",
    )
    data_dir: str = _setting(
        "",
        "Folder of the files derived from the database (search indexes, mail outbox, a made "
        "secret key); empty: beside a SQLite database, else ./data. Each web node keeps its own.",
    )
    arxiv_oai_url: str = _setting(
        "https://oaipmh.arxiv.org/oai", "arXiv's OAI-PMH endpoint, used by `harvest arxiv`."
    )
    arxiv_api_url: str = _setting(
        "https://export.arxiv.org/api/query", "arXiv's Atom API endpoint."
    )
    request_delay_s: float = _setting(
        3.0, "Seconds to wait between two requests to arXiv (arXiv asks for at least 3)."
    )
    request_timeout_s: float = _setting(60.0, "Timeout of one HTTP request, in seconds.")
    max_retries: int = _setting(
        5, "How often a failed request (5xx, 429, dropped connection) is retried."
    )
    max_retry_after_s: float = _setting(
        600.0, "Longest Retry-After paperfeed honours before giving up on a source."
    )
    max_download_bytes: int = _setting(
        256 * 2**20,
        "Largest answer read from one URL, in bytes as they arrive (256 MiB); a larger one "
        "fails its source at once.",
    )
    max_decompressed_bytes: int = _setting(
        2**30,
        "Largest a downloaded answer may grow once decompressed (gzip Content-Encoding or a "
        ".gz body, 1 GiB); past it (a gzip bomb) its source fails and the rest is not read.",
    )
    contact_email: str = _setting(
        "", "Sent in the User-Agent of requests to arXiv, so they can reach you."
    )
    ingest_batch_size: int = _setting(
        1000, "Papers written per transaction; an interrupted ingest loses at most this many."
    )
    base_url: str = _setting(
        "http://127.0.0.1:8000",
        "The public address of this server, for absolute links in feeds and mail.",
    )
    allowed_hosts: str = _setting(
        "",
        "Host names the web server answers to besides the base URL's host and loopback "
        "(localhost, 127.0.0.1, ::1), comma-separated: www.example.org, .example.org (it and "
        "its subdomains), or * (any: only behind a proxy that checks Host). Others get a 400.",
    )
    site_name: str = _setting("paperfeed", "The name shown in page titles and feeds.")
    refresh_interval_s: float = _setting(
        10.0, "How often the web server looks for new papers and vectors to load."
    )
    secret_key: str = _setting(
        "",
        "Signs the links in mail and the session cookies (32+ characters). Empty: a random key "
        "is made once and kept beside the database.",
    )
    smtp_url: str = _setting(
        "",
        "Where mail goes: smtp://user:pass@host:587?starttls=1, smtps://user:pass@host:465. "
        "Empty: messages are written as .eml files to the outbox folder.",
    )
    smtp_timeout_s: float = _setting(
        30.0,
        "Seconds an SMTP server may take to answer one command before the connection is "
        "given up (the message waits for a retry).",
    )
    outbox_dir: str = _setting("", "The outbox folder; empty: outbox/ in the data folder.")
    mail_from: str = _setting(
        "paperfeed <paperfeed@localhost>", "The From of every message: Name <address>."
    )
    dkim_domain: str = _setting("", "Sign mail with DKIM for this domain (with the next two).")
    dkim_selector: str = _setting("", "The DKIM selector whose public key is in DNS.")
    dkim_key_file: str = _setting("", "The PEM file of the DKIM private key (1024+ bits RSA).")
    confirm_ttl_hours: float = _setting(
        48.0, "How long confirmation and sign-in links work (they work once)."
    )
    session_days: float = _setting(30.0, "How long a sign-in lasts.")
    preferences_link_days: float = _setting(
        60.0,
        "How long the preferences link in a mail works (each digest brings a new one; "
        "unsubscribe links never lapse).",
    )
    address_limit_per_hour: int = _setting(
        5, "Subscribe or sign-in requests one address may cause per hour (mail-bomb guard)."
    )
    ip_limit_per_hour: int = _setting(20, "Subscribe or sign-in requests one IP may make per hour.")
    operators: str = _setting(
        "",
        "Addresses of the operators (comma-separated): once signed in they can hide a comment, "
        "a paper or a reader, and see what was hidden at /moderation.",
    )
    comment_max_chars: int = _setting(
        5000, "The longest comment a reader may post in a paper's discussion (characters)."
    )
    trusted_proxies: str = _setting(
        "",
        "Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed "
        "(comma-separated addresses or networks, e.g. 10.0.0.10 or 10.0.0.0/24); empty: none, "
        "and rate limits count the connecting address.",
    )
    dev: bool = _setting(
        False, "Development mode: show the mail outbox at /outbox (loopback hosts only)."
    )
    index_dir: str = _setting(
        "",
        "Folder of the search indexes (rebuilt from the database when missing); "
        "empty: <database name>.search/ in the data folder, e.g. data/paperfeed.search/.",
    )
    vector_index: str = _setting(
        "local",
        "Where semantic search finds neighbours: local (each process holds the vectors, with "
        "an HNSW graph in the index folder from 20,000 papers on) or pgvector (PostgreSQL "
        "only: one HNSW index in the database, shared by every process).",
    )
    model_dir: str = _setting(
        "data/models/all-minilm-l6-v2",
        "Folder of the exported embedding model (`paperfeed model export` writes it).",
    )
    embedding_max_tokens: int = _setting(
        256, "Tokens of title + abstract the embedding model reads (the rest is cut)."
    )
    embedding_batch_size: int = _setting(
        8, "Texts embedded per model call (8 was as fast as 32 here, with half the memory)."
    )
    embedding_threads: int = _setting(
        0,
        "CPU threads the embedding model may use (0: as many as there are cores; `serve "
        "--workers N` gives each process its share, cores / N).",
    )
    trending_half_life_hours: float = _setting(
        24.0,
        "Trending: a paper's votes count half after this many hours (and a quarter after "
        "twice as many).",
    )
    trending_window_days: int = _setting(7, "Trending looks at papers of the last N days.")
    mail_lease_s: float = _setting(
        300.0,
        "A sender holds a message this long; if it dies mid-send, another sender takes the "
        "message over after that (longer than any one SMTP conversation).",
    )
    digest_hour: int = _setting(
        7, "The hour (0-23) digests go out, in each subscriber's time zone (UTC if none)."
    )
    digest_weekly_day: str = _setting(
        "monday",
        "The day weekly digests go out (monday ... sunday); they cover the 7 days up to it.",
    )
    digest_trending: int = _setting(
        5,
        "In a digest with topics, at most this many trending papers (and at most half the "
        "mail) come before the topic matches.",
    )
    mail_keep_days: float = _setting(
        7.0,
        "Keep the bytes of sent mail this many days (`mail prune`, and the worker daily); "
        "a digest day for 100,000 subscribers is about 2.6 GB.",
    )
    digest_processes: int = _setting(
        0,
        "Processes that compose digests side by side when thousands are due (0: one per "
        "core; 1: no forking).",
    )
    submit_window_days: int = _setting(
        14,
        "A reader may submit a paper to the day's list up to this many days after its arXiv "
        "date (its first version), as on Hugging Face.",
    )
    submit_per_day: int = _setting(
        5, "Papers one reader may submit a day (UTC); more the next day."
    )
    worker_sources: str = _setting(
        "",
        "What `paperfeed worker` ingests each cycle, space-separated: `arxiv` (OAI-PMH harvest "
        "of PAPERFEED_WORKER_ARXIV_SET), URLs or files (as `paperfeed ingest` takes them).",
    )
    worker_arxiv_set: str = _setting("cs", "The arXiv OAI set the worker harvests.")
    worker_ingest_every_s: float = _setting(
        3600.0, "How often the worker ingests (seconds); trending and digests run every minute."
    )
    thumbnails: bool = _setting(
        False,
        "Make thumbnails: `paperfeed thumbnails` and the worker fetch each arXiv paper's PDF "
        "(politely, PAPERFEED_REQUEST_DELAY_S apart) and keep its first page as a small image "
        "for cards and the API. Off by default: it needs the network and one PDF per paper.",
    )
    thumbnail_pdf_url: str = _setting(
        "https://arxiv.org/pdf", "Where thumbnails' PDFs come from: this URL, /, the arXiv id."
    )
    thumbnail_max_pdf_bytes: int = _setting(
        50 * 2**20, "A larger PDF is not read (50 MiB); its thumbnail fails and is retried later."
    )
    thumbnail_render_timeout_s: float = _setting(
        20.0, "Longest one first page may take to render (a slower PDF fails, retried later)."
    )
    thumbnails_per_cycle: int = _setting(
        20, "Thumbnails the worker makes each cycle at most (PAPERFEED_THUMBNAILS on)."
    )

    @property
    def user_agent(self) -> str:
        contact = f"; mailto:{self.contact_email}" if self.contact_email else ""
        return f"paperfeed/0.1 (+https://github.com/paperfeed/paperfeed{contact})"


def files_dir(settings: Settings) -> Path:
    """Where files derived from the database live, one rule for every backend:
    PAPERFEED_DATA_DIR, else the SQLite file's folder, else ./data."""
    if settings.data_dir:
        return Path(settings.data_dir)
    if not is_postgres(settings.database_url):
        path = sqlite_path(settings.database_url)
        if path is not None:
            return path.parent
    return Path("data")


def setting_help() -> dict[str, tuple[str, Any, str]]:
    """Map each environment variable to (field name, default, help), for docs and `--help`."""
    return {
        ENV_PREFIX + f.name.upper(): (f.name, f.default, f.metadata["help"])
        for f in dataclasses.fields(Settings)
    }


def settings_environment(settings: Settings) -> dict[str, str]:
    """The PAPERFEED_* variables that load_settings reads back into `settings`."""
    return {
        ENV_PREFIX + f.name.upper(): str(getattr(settings, f.name))
        for f in dataclasses.fields(Settings)
    }


def _convert(name: str, raw: str, kind: type) -> Any:
    try:
        if kind is bool:
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        return kind(raw.strip()) if kind in (int, float) else raw
    except ValueError:
        raise ConfigError(f"{name}: expected {kind.__name__}, got {raw!r}") from None


def _validate(settings: Settings) -> None:
    if not settings.database_url.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError(
            f"PAPERFEED_DATABASE_URL: unsupported URL {settings.database_url!r}; "
            "use sqlite:///path.db or postgresql://user:password@host:5432/dbname"
        )
    if not settings.base_url.startswith(("http://", "https://")) or not host_name(
        urlsplit(settings.base_url).netloc.rpartition("@")[2]
    ):
        raise ConfigError(f"{ENV_PREFIX}BASE_URL must be http:// or https:// and a host name")
    problem = allowed_hosts_problem(settings.allowed_hosts)
    if problem:
        raise ConfigError(f"{ENV_PREFIX}ALLOWED_HOSTS: {problem}")
    for name in (
        "request_delay_s",
        "request_timeout_s",
        "max_retry_after_s",
        "refresh_interval_s",
        "confirm_ttl_hours",
        "session_days",
        "preferences_link_days",
        "mail_lease_s",
        "worker_ingest_every_s",
        "mail_keep_days",
    ):
        if getattr(settings, name) < 0:
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} must not be negative")
    if settings.trending_half_life_hours <= 0 or settings.trending_window_days < 1:
        raise ConfigError(
            f"{ENV_PREFIX}TRENDING_HALF_LIFE_HOURS and TRENDING_WINDOW_DAYS must be positive"
        )
    if not 0 <= settings.digest_hour <= 23:
        raise ConfigError(f"{ENV_PREFIX}DIGEST_HOUR must be an hour from 0 to 23")
    if settings.digest_weekly_day.strip().lower() not in WEEKDAYS:
        raise ConfigError(f"{ENV_PREFIX}DIGEST_WEEKLY_DAY must be one of {', '.join(WEEKDAYS)}")
    if settings.submit_window_days < 0 or settings.submit_per_day < 1:
        raise ConfigError(
            f"{ENV_PREFIX}SUBMIT_WINDOW_DAYS must not be negative and "
            f"{ENV_PREFIX}SUBMIT_PER_DAY must be at least 1"
        )
    if settings.digest_trending < 0:
        raise ConfigError(f"{ENV_PREFIX}DIGEST_TRENDING must not be negative")
    if settings.max_retries < 0:
        raise ConfigError(f"{ENV_PREFIX}MAX_RETRIES must not be negative")
    # A short key, or one of few distinct characters ("change-me...", "xxxx..."), is a
    # placeholder someone forgot, not a secret.
    if settings.secret_key and (
        len(settings.secret_key) < 32 or len(set(settings.secret_key)) < 12
    ):
        raise ConfigError(
            f"{ENV_PREFIX}SECRET_KEY must be a random string of 32+ characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))'), or empty"
        )
    if settings.smtp_url and not settings.smtp_url.startswith(("smtp://", "smtps://")):
        raise ConfigError(f"{ENV_PREFIX}SMTP_URL must start with smtp:// or smtps://")
    if settings.smtp_url and _password_in_clear(settings.smtp_url):
        raise ConfigError(
            f"{ENV_PREFIX}SMTP_URL: a password over smtp:// without STARTTLS would cross the "
            "network in clear; use smtps://...:465 or add ?starttls=1 (only a relay on "
            "loopback may take it in clear)"
        )
    if not settings.thumbnail_pdf_url.startswith(("http://", "https://")):
        raise ConfigError(f"{ENV_PREFIX}THUMBNAIL_PDF_URL must be an http:// or https:// URL")
    for name in ("smtp_timeout_s", "database_busy_timeout_s", "thumbnail_render_timeout_s"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be positive")
    for name in (
        "ingest_batch_size",
        "database_pool_size",
        "embedding_max_tokens",
        "embedding_batch_size",
        "address_limit_per_hour",
        "ip_limit_per_hour",
        "max_download_bytes",
        "max_decompressed_bytes",
        "thumbnail_max_pdf_bytes",
        "thumbnails_per_cycle",
        "comment_max_chars",
    ):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{ENV_PREFIX}{name.upper()} must be at least 1")
    for operator in (o.strip() for o in settings.operators.split(",")):
        if operator and ("@" not in operator or any(c.isspace() for c in operator)):
            raise ConfigError(
                f"{ENV_PREFIX}OPERATORS: {operator!r} is not an address (comma-separated "
                "addresses, e.g. ada@example.org,bob@example.org)"
            )
    for proxy in (p.strip() for p in settings.trusted_proxies.split(",")):
        if proxy and proxy != "*" and not _is_network(proxy):
            raise ConfigError(
                f"{ENV_PREFIX}TRUSTED_PROXIES: {proxy!r} is not an address or a network "
                "(10.0.0.10, 10.0.0.0/24, ::1)"
            )
    if settings.embedding_threads < 0:
        raise ConfigError(f"{ENV_PREFIX}EMBEDDING_THREADS must not be negative")
    if settings.vector_index not in VECTOR_INDEXES:
        raise ConfigError(f"{ENV_PREFIX}VECTOR_INDEX must be one of {', '.join(VECTOR_INDEXES)}")
    if settings.vector_index == "pgvector" and not is_postgres(settings.database_url):
        raise ConfigError(f"{ENV_PREFIX}VECTOR_INDEX=pgvector needs a postgresql:// database")


def _password_in_clear(smtp_url: str) -> bool:
    from paperfeed.mail.mailer import parse_smtp_url
    from paperfeed.netaddr import is_loopback

    smtp = parse_smtp_url(smtp_url)
    tls = smtp.implicit_tls or smtp.starttls
    return bool(smtp.password) and not tls and not is_loopback(smtp.host)


def _is_network(text: str) -> bool:
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        return False
    return True


def load_settings(environ: Mapping[str, str], **overrides: Any) -> Settings:
    """Build Settings from PAPERFEED_* variables; `overrides` (CLI flags) win over the environment.

    Overrides whose value is None are ignored, so unset CLI flags fall through.
    """
    kinds = {f.name: f.type for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    for name, kind in kinds.items():
        raw = environ.get(ENV_PREFIX + name.upper())
        if raw is not None:
            pytype = {"str": str, "int": int, "float": float, "bool": bool}[str(kind)]
            values[name] = _convert(ENV_PREFIX + name.upper(), raw, pytype)
    for name, value in overrides.items():
        if name not in kinds:
            raise ConfigError(f"unknown setting {name!r}")
        if value is not None:
            values[name] = value
    settings = Settings(**values)
    _validate(settings)
    return settings
