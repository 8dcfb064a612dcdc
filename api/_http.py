"""HTTP plumbing under every route: HEAD where GET is, and where links point.

Two small ASGI middlewares, so that no route has to remember either:

* :class:`HeadAsGet` answers ``HEAD`` wherever ``GET`` is answered (RFC 9110 §9.3.2):
  the request runs as a ``GET`` and only the status and headers (``Content-Length``,
  ``Content-Type``, ``ETag`` ...) are sent.
* :class:`PublicBaseURL` fixes the scheme, host, port and path prefix that links and
  redirects are built from. With ``TRAZO_PUBLIC_URL`` set (the address clients use,
  e.g. behind a reverse proxy), every ``url_for`` and ``base_url`` uses it; without it,
  the address the server itself was reached on. The client's ``Host`` header is never
  used, so a forged one cannot make the service hand out links to another site.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class HeadAsGet:
    """Run ``HEAD`` requests as ``GET`` and send no body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, headers_only)


class PublicBaseURL:
    """Build links from ``public_url``, or from the server's own address; never from ``Host``.

    Parameters
    ----------
    app
        The application.
    public_url
        ``scheme://host[:port][/prefix]`` clients reach the service at, or ``None``.
    """

    def __init__(self, app: ASGIApp, public_url: str | None = None) -> None:
        self.app = app
        self.public: tuple[str, str, int, str] | None = None
        if public_url:
            parts = urlsplit(public_url)
            if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
                raise ValueError(f"public URL {public_url!r} must be http(s)://host[/prefix]")
            port = parts.port or _DEFAULT_PORTS[parts.scheme]
            self.public = (parts.scheme, parts.hostname, port, parts.path.rstrip("/"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        if self.public is not None:
            scheme, host, port, prefix = self.public
            scope["scheme"] = scheme if scope["type"] == "http" else scheme.replace("http", "ws")
            scope["server"] = (host, port)
            # ASGI paths include the root path: a proxy that strips the prefix sends
            # /collections, which becomes /api/collections under root path /api (as
            # uvicorn's --root-path does); one that keeps it is left alone.
            scope["root_path"] = prefix
            path = str(scope.get("path", ""))
            if prefix and path != prefix and not path.startswith(prefix + "/"):
                scope["path"] = prefix + path
                scope.pop("raw_path", None)
        else:
            host, port = _own_address(scope)
            scheme = "https" if scope.get("scheme") in ("https", "wss") else "http"
        netloc = host if port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
        headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"host"]
        headers.append((b"host", netloc.encode("latin-1", "replace")))
        scope["headers"] = headers
        await self.app(scope, receive, send)


def _own_address(scope: Scope) -> tuple[str, int]:
    server = scope.get("server")
    if server is None:
        return "localhost", 80
    host, port = server[0], server[1]
    if port is None:  # a Unix socket
        return "localhost", 80
    if ":" in str(host):  # IPv6 literal
        host = f"[{host}]"
    return str(host), int(port)
