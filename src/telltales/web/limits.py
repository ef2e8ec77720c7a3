"""Request limits enforced below FastAPI, as a plain ASGI middleware: a Content-Length over
the upload limit (or not a number) is answered before the body is read, a body that grows past
the limit while it streams is cut off, and a body that stops arriving is timed out."""

from __future__ import annotations

import asyncio
import json
from typing import Any

Scope = dict[str, Any]


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"the upload is over the limit of {limit} bytes")
        self.limit = limit


class BodyTimeout(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body stopped arriving for {seconds:g} s")


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None | str:
    """The Content-Length as an int, None when absent, or an error message when malformed."""
    values = [v for k, v in headers if k.lower() == b"content-length"]
    if not values:
        return None
    if len(set(values)) > 1:
        return "Content-Length is given twice with different values"
    raw = values[0].strip()
    if not raw.isdigit():
        return "Content-Length is not a number"
    return int(raw)


async def _send_json(send: Any, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app: Any, max_bytes: int, body_timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = declared_length(scope.get("headers") or [])
        if isinstance(length, str):
            await _send_json(send, 400, length)
            return
        if length is not None and length > self.max_bytes:
            await _send_json(send, 413, f"the upload is {length} bytes, over the limit of {self.max_bytes}")
            return
        seen = 0
        done = False
        limit, timeout = self.max_bytes, self.body_timeout_s

        async def limited_receive() -> dict[str, Any]:
            nonlocal seen, done
            if done:  # the body is complete: what follows is a wait for disconnect, untimed
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), timeout)
            except TimeoutError:
                raise BodyTimeout(timeout) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
                done = not message.get("more_body", False)
            return message

        await self.app(scope, limited_receive, send)
