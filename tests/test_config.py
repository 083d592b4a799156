from datetime import UTC, datetime

import pytest

from paperfeed.config import ConfigError, Settings, load_settings, setting_help


def test_defaults_without_environment():
    settings = load_settings({})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///data/paperfeed.db"


def test_environment_is_read_and_typed():
    settings = load_settings(
        {
            "PAPERFEED_DATABASE_URL": "sqlite:////srv/pf.db",
            "PAPERFEED_REQUEST_DELAY_S": "5",
            "PAPERFEED_MAX_RETRIES": "2",
            "PAPERFEED_CONTACT_EMAIL": "ops@example.org",
            "UNRELATED": "x",
        }
    )
    assert settings.database_url == "sqlite:////srv/pf.db"
    assert settings.request_delay_s == 5.0
    assert settings.max_retries == 2
    assert "mailto:ops@example.org" in settings.user_agent


def test_flags_override_the_environment_and_none_falls_through():
    env = {"PAPERFEED_DATABASE_URL": "sqlite:///env.db"}
    assert load_settings(env, database_url="sqlite:///flag.db").database_url == "sqlite:///flag.db"
    assert load_settings(env, database_url=None).database_url == "sqlite:///env.db"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAPERFEED_DATABASE_URL": "mysql://db"}, "unsupported URL"),
        ({"PAPERFEED_MAX_RETRIES": "many"}, "expected int"),
        ({"PAPERFEED_REQUEST_DELAY_S": "-1"}, "must not be negative"),
        ({"PAPERFEED_INGEST_BATCH_SIZE": "0"}, "at least 1"),
    ],
)
def test_bad_values_are_refused(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_unknown_overrides_are_refused():
    with pytest.raises(ConfigError, match="unknown setting"):
        load_settings({}, colour="blue")


def test_every_setting_has_help():
    helps = setting_help()
    assert "PAPERFEED_DATABASE_URL" in helps
    assert all(help_text for _, _, help_text in helps.values())


def test_settings_survive_a_trip_through_the_environment():
    settings = Settings(database_url="sqlite:////tmp/x.db", request_delay_s=0.5, site_name="lab")
    from paperfeed.config import settings_environment

    assert load_settings(settings_environment(settings)) == settings


@pytest.mark.parametrize("secret", ["change-me", "x" * 40, "changeme" * 5, "0123456789" * 3])
def test_placeholder_secrets_are_refused(secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_settings({"PAPERFEED_SECRET_KEY": secret})


def test_a_real_secret_and_mail_settings_are_accepted():
    settings = load_settings(
        {
            "PAPERFEED_SECRET_KEY": "kR3x_9vQm2LzT8wYp4HsN7cJ1bGdF6aE",
            "PAPERFEED_SMTP_URL": "smtps://u:p@mail.example.org:465",
        }
    )
    assert settings.smtp_url.startswith("smtps://")
    with pytest.raises(ConfigError, match="SMTP_URL"):
        load_settings({"PAPERFEED_SMTP_URL": "http://mail"})


def test_an_smtp_password_never_crosses_the_network_in_clear():
    with pytest.raises(ConfigError, match="in clear"):
        load_settings({"PAPERFEED_SMTP_URL": "smtp://u:p@mail.example.org:587"})
    for url in (
        "smtp://u:p@mail.example.org:587?starttls=1",
        "smtps://u:p@mail.example.org:465",
        "smtp://u:p@127.0.0.1:25",  # a relay on this machine
        "smtp://mail.example.org:25",  # no password to give away
    ):
        assert load_settings({"PAPERFEED_SMTP_URL": url}).smtp_url == url


def test_operators_are_addresses_compared_as_addresses_are():
    from paperfeed.models import Subscriber
    from paperfeed.moderation import is_operator

    with pytest.raises(ConfigError, match="OPERATORS"):
        load_settings({"PAPERFEED_OPERATORS": "ada@example.org, not an address"})
    settings = load_settings({"PAPERFEED_OPERATORS": " Ada@Example.org ,bob@example.org"})

    def reader(email, confirmed=True, status="active"):
        confirmed_at = datetime(2026, 1, 1, tzinfo=UTC) if confirmed else None
        return Subscriber(1, email, status, None, confirmed_at=confirmed_at)

    assert is_operator(settings, reader("ada@example.org"))
    assert is_operator(settings, reader("BOB@example.org", status="unsubscribed"))
    assert not is_operator(settings, reader("ada@example.org", confirmed=False))
    assert not is_operator(settings, reader("carol@example.org"))
    assert not is_operator(settings, None)
    assert not is_operator(load_settings({}), reader("ada@example.org"))
