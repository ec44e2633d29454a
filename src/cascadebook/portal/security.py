"""What every response and request goes through: security headers and a bound on the request body.

A pure ASGI middleware rather than Starlette's BaseHTTPMiddleware: it refuses a body larger than the
limit from its Content-Length before the app reads a byte, and counts the bytes of a body sent without
one (chunked), so no upload, however it is sent, is read past the limit into memory.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# No inline script or style, nothing from elsewhere, no framing, forms post only here.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # the secret in the URL never leaves in a Referer
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cache-control", b"no-store"),
]


class TooLarge(Exception):
    """The request body went past the limit while it was being read."""


class Guard:
    """Adds the security headers to every response and refuses bodies over ``max_body`` bytes (413)."""

    def __init__(self, app: ASGIApp, max_body: int, hsts: bool = False) -> None:
        self.app, self.max_body = app, max_body
        self.headers = [*HEADERS, *([(b"strict-transport-security", b"max-age=31536000")] if hsts else [])]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *[(k, v) for k, v in message.get("headers", []) if k.lower() not in dict(self.headers)],
                    *self.headers,
                ]
            await send(message)

        length = dict(scope.get("headers", [])).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            await _too_large(send_with_headers, self.max_body)
            return
        seen = 0

        async def bounded_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise TooLarge
            return message

        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send_with_headers(message)

        try:
            await self.app(scope, bounded_receive, tracking_send)
        except TooLarge:
            if not started:
                await _too_large(send_with_headers, self.max_body)


async def _too_large(send: Send, limit: int) -> None:
    body = f"Upload refused: larger than {limit // (1024 * 1024) or 1} MB.".encode()
    if limit < 1024 * 1024:
        body = f"Upload refused: larger than {limit} bytes.".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
