"""Refuse requests before their body is read: oversized bodies, and missing API keys."""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.problems import problem_response
from app.problems import batch_too_large, file_too_large

MULTIPART_OVERHEAD = 64 * 1024
"""Room for multipart headers and boundaries around the files themselves: a body may
exceed the stated limit by this much (nginx's ``client_max_body_size`` allows the same)."""

BATCH_PATHS = frozenset({"/v1/emotion/batch", "/v1/audio-features/batch"})
"""The routes whose body is limited by the batch total instead of the file limit."""


class BodySizeLimit:
    """ASGI middleware: 413 for bodies over the file limit, or the batch limit on batches.

    A declared Content-Length over the limit is refused before any byte is read; a
    body without one (chunked) is counted as it arrives and refused once over. Both
    limits allow :data:`MULTIPART_OVERHEAD` for the multipart framing.
    """

    def __init__(self, app: ASGIApp, max_upload_bytes: int, max_batch_bytes: int) -> None:
        self.app = app
        self.max_upload_bytes = max_upload_bytes
        self.max_batch_bytes = max_batch_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        batch = scope["path"] in BATCH_PATHS
        max_bytes = (self.max_batch_bytes if batch else self.max_upload_bytes) + MULTIPART_OVERHEAD
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            await self._refuse(batch, scope, receive, send)
            return

        received = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            received += len(message.get("body", b""))
            if received > max_bytes:
                # Answer now and tell the app the client left: the app (or the form
                # parser inside it) stops reading, and whatever it answers is dropped.
                refused = True
                if not started:
                    await self._refuse(batch, scope, receive, send)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counting_receive, guarded_send)

    async def _refuse(self, batch: bool, scope: Scope, receive: Receive, send: Send) -> None:
        if batch:
            slug, detail = "batch-too-large", batch_too_large(self.max_batch_bytes)
        else:
            slug, detail = "file-too-large", file_too_large(self.max_upload_bytes)
        response = problem_response(
            413, detail, slug=slug, instance=scope["path"], headers={"Connection": "close"}
        )
        await response(scope, receive, send)


class RequireApiKey:
    """ASGI middleware: 401 for requests under ``prefix`` without the key in ``X-API-Key``.

    Checked before the body is parsed or stored, so that requests without the key take
    no place in the analysis pool; their body is drained and dropped.
    """

    def __init__(self, app: ASGIApp, key: str, prefix: str = "/v1/") -> None:
        self.app = app
        self.key = key.encode()
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.prefix):
            given = dict(scope["headers"]).get(b"x-api-key", b"")
            if not secrets.compare_digest(given, self.key):
                await discard_body(receive)
                response = problem_response(
                    401,
                    "a valid X-API-Key header is required",
                    instance=scope["path"],
                    headers={"WWW-Authenticate": "APIKey"},
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def discard_body(receive: Receive) -> None:
    """Read the request body and drop it as it arrives.

    Answering before the upload ends makes many clients fail with a reset connection
    instead of reading the answer; the body size is bounded by :class:`BodySizeLimit`.
    """
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return
