"""A reader's public name over HTTP: picked on the preferences page, unique, checked, escaped,
rate limited; it is what others see, never the address."""

import pytest
from fastapi.testclient import TestClient

from conftest import build_web_app, csrf_token, sign_in


@pytest.fixture
def app(store, mail_settings, tmp_path, fake_embedder):
    return build_web_app(store, mail_settings, tmp_path, fake_embedder)


def _name(client: TestClient, name: str, **headers: str):
    data = {"csrf": csrf_token(client), "public_name": name, "next": "/preferences"}
    return client.post("/account/name", data=data, headers=headers, follow_redirects=False)


def test_a_reader_picks_a_name_others_cannot_take(app, smtp_server, store):
    _, inbox = smtp_server
    with (
        TestClient(app, base_url="https://testserver") as ada,
        TestClient(app, base_url="https://testserver") as bob,
    ):
        sign_in(ada, inbox, "ada@example.org")
        sign_in(bob, inbox, "bob@example.org")
        page = ada.get("/preferences").text
        assert 'action="/account/name"' in page and "Use this name" in page
        answer = _name(ada, "  ada.l  ")
        assert answer.status_code == 303 and answer.headers["location"] == "/preferences"
        assert 'value="ada.l"' in ada.get("/preferences").text
        taken = _name(bob, "ADA.L")
        assert taken.status_code == 400 and "taken" in taken.text
        as_json = _name(bob, "bob_2", accept="application/json")
        assert as_json.json() == {"public_name": "bob_2"}
        assert store.subscriber_by_email("bob@example.org").public_name == "bob_2"


@pytest.mark.parametrize(
    "name",
    ["a", "x" * 33, "<script>", "ada lovelace", "-ada", "Ådа", "admin", "Paperfeed", ""],
)
def test_names_that_cannot_be_used_get_a_reason_and_change_nothing(app, smtp_server, name):
    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as ada:
        sign_in(ada, inbox, "ada@example.org")
        refused = _name(ada, name)
        assert refused.status_code == 400
        assert "<script>" not in refused.text
        assert "public name" in refused.text or "reserved" in refused.text
        assert 'value=""' in ada.get("/preferences").text.split('id="public_name"')[1][:200]


def test_naming_needs_a_reader_a_token_and_a_pause(app, smtp_server, store):
    _, inbox = smtp_server
    with TestClient(app, base_url="https://testserver") as ada:
        anonymous = ada.post(
            "/account/name",
            data={"csrf": csrf_token(ada), "public_name": "ada"},
            follow_redirects=False,
        )
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/signin"
        sign_in(ada, inbox, "ada@example.org")
        forged = ada.post("/account/name", data={"csrf": "0" * 32, "public_name": "ada"})
        assert forged.status_code == 400
        codes = [_name(ada, f"ada{i}").status_code for i in range(21)]
        assert codes[:20] == [303] * 20 and codes[20] == 429
        assert store.subscriber_by_email("ada@example.org").public_name == "ada19"
