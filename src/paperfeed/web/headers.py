"""Security headers on every response: a Content-Security-Policy with no inline scripts, no
framing, no sniffing, no referrer (tokens are in paths), and HSTS when served over https."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts and styles come from /static only (KaTeX styles the math it renders through the DOM,
# which a policy does not block); nothing may frame a page, post a form elsewhere, or load a
# plugin. Images may be data: URLs (KaTeX, thumbnails).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# The dev outbox shows mail as mail clients do: its HTML part has inline styles.
OUTBOX_POLICY = CONTENT_SECURITY_POLICY.replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
HSTS = "max-age=15552000"  # 180 days; not includeSubDomains: other hosts are not ours to decide


class SecurityHeaders:
    """ASGI middleware adding the headers; a response that set its own policy keeps it."""

    def __init__(self, app: ASGIApp, https: bool) -> None:
        self.app = app
        self.common = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"x-frame-options", b"DENY"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]
        if https:
            self.common.append((b"strict-transport-security", HSTS.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = OUTBOX_POLICY if scope.get("path", "").startswith("/outbox") else None

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in names:
                    csp = policy or CONTENT_SECURITY_POLICY
                    headers.append((b"content-security-policy", csp.encode()))
                headers += [(n, v) for n, v in self.common if n not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)
