"""What a message looks like on the wire: parts, headers, size, DKIM."""

import dataclasses
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default

import pytest

from paperfeed.mail.messages import (
    ListLinks,
    MessageTooLarge,
    build_message,
    new_message_id,
    outgoing,
    render,
)

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LINKS = ListLinks(
    unsubscribe="https://papers.example.org/unsubscribe/TOKEN",
    preferences="https://papers.example.org/preferences/PREFS",
)


def _message(settings, **changes):
    options = dict(
        to="reader@example.org",
        subject="Trending papers — 29 Nov 2026",
        text="Plain.",
        html="<p>Rich.</p>",
        message_id=new_message_id(settings, "digest-7-2026-11-29"),
        now=NOW,
        links=LINKS,
    )
    options.update(changes)
    return build_message(settings, **options)


def test_a_list_mail_has_both_parts_and_the_rfc_8058_headers(mail_settings):
    parsed = message_from_bytes(outgoing(_message(mail_settings), "digest", 7).data, policy=default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed["List-Unsubscribe"] == "<https://papers.example.org/unsubscribe/TOKEN>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Message-ID"] == "<digest-7-2026-11-29@papers.example.org>"
    assert parsed["Date"] == "Sun, 29 Nov 2026 09:00:00 +0000"
    assert parsed["Subject"] == "Trending papers — 29 Nov 2026"
    assert len(parsed.get_all("From")) == 1


def test_random_message_ids_are_unique(mail_settings):
    ids = {new_message_id(mail_settings) for _ in range(100)}
    assert len(ids) == 100 and all(i.endswith("@papers.example.org>") for i in ids)


def test_html_over_100_kb_is_refused(mail_settings):
    with pytest.raises(MessageTooLarge):
        _message(mail_settings, html="<p>" + "x" * 100_001 + "</p>")


def test_templates_escape_what_goes_into_html():
    subject, text, html = render(
        "confirm",
        site_name="<b>site</b>",
        base_url="https://x.org",
        ttl_hours=48,
        wants="<script>x</script>",
        confirm_url="https://x.org/confirm/a&b",
    )
    assert subject == "Confirm your subscription to <b>site</b>"  # text stays text
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://x.org/confirm/a&amp;b"' in html
    assert "https://x.org/confirm/a&b" in text


def test_dkim_signature_covers_the_unsubscribe_headers_and_verifies(mail_settings, tmp_path):
    import dkim
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    (tmp_path / "dkim.pem").write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    settings = dataclasses.replace(
        mail_settings,
        dkim_domain="papers.example.org",
        dkim_selector="mail2026",
        dkim_key_file=str(tmp_path / "dkim.pem"),
    )
    data = outgoing(_message(settings), "digest", 7).data
    assert data.startswith(b"DKIM-Signature:")
    signature = data.split(b"\r\n\r\n", 1)[0].decode().split("DKIM-Signature:", 1)[1]
    signed = signature.split(" h=", 1)[1].split(";", 1)[0].replace("\r\n", "").replace(" ", "")
    assert {"list-unsubscribe", "list-unsubscribe-post", "from", "subject"} <= set(
        signed.lower().split(":")
    )

    def dns(name, timeout=5):
        assert name == b"mail2026._domainkey.papers.example.org."
        return record

    assert dkim.verify(data, dnsfunc=dns)
    tampered = data.replace(b"/unsubscribe/TOKEN", b"/unsubscribe/EVIL")
    assert not dkim.verify(tampered, dnsfunc=dns)
