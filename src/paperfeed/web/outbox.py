"""The development outbox at /outbox (`serve --dev`): the mail that would have been sent."""

from __future__ import annotations

import re
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path
from typing import cast

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape
from starlette.exceptions import HTTPException

from paperfeed.mail.mailer import outbox_dir
from paperfeed.netaddr import is_loopback
from paperfeed.web.app import state_of
from paperfeed.web.params import BadRequest


def _loopback_only(request: Request) -> None:
    """The outbox holds live sign-in links: only a browser on this machine may read it."""
    client = request.client.host if request.client else ""
    if not is_loopback(client):
        raise HTTPException(404)


router = APIRouter(
    prefix="/outbox", include_in_schema=False, dependencies=[Depends(_loopback_only)]
)
_NAME = re.compile(r"^\d{8}-[a-z]+\.eml$")
_URL = re.compile(r"https?://[^\s<>\"']+")
SHOWN_HEADERS = (
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "DKIM-Signature",
)


def _read(path: Path) -> EmailMessage:
    return cast(EmailMessage, message_from_bytes(path.read_bytes(), policy=default))


def _linked(text: str) -> Markup:
    """Text with its URLs as links (the text part of a message, escaped)."""
    out, position = [], 0
    for match in _URL.finditer(text):
        out.append(str(escape(text[position : match.start()])))
        url = escape(match.group())
        out.append(f'<a href="{url}">{url}</a>')
        position = match.end()
    out.append(str(escape(text[position:])))
    return Markup("".join(out))


@router.get("", response_class=HTMLResponse)
def outbox(request: Request) -> HTMLResponse:
    state = state_of(request)
    folder = outbox_dir(state.settings)
    files = sorted(folder.glob("*.eml"), reverse=True)[:200] if folder.exists() else []
    rows = []
    for path in files:
        message = _read(path)
        rows.append(
            {
                "name": path.name,
                "to": message["To"],
                "subject": message["Subject"],
                "date": message["Date"],
            }
        )
    return state.templates.TemplateResponse(
        request, "outbox.html", {"rows": rows, "folder": str(folder)}
    )


@router.get("/{name}", response_class=HTMLResponse)
def outbox_message(request: Request, name: str) -> HTMLResponse:
    state = state_of(request)
    if not _NAME.match(name):
        raise BadRequest("not a message in the outbox")
    path = outbox_dir(state.settings) / name
    if not path.exists():
        raise BadRequest("no such message in the outbox")
    message = _read(path)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    return state.templates.TemplateResponse(
        request,
        "outbox_message.html",
        {
            "name": name,
            "headers": [(h, message[h]) for h in SHOWN_HEADERS if message[h]],
            "text": _linked(text.get_content()) if text else "",
            "html": html.get_content() if html else "",
            "size": path.stat().st_size,
        },
    )
