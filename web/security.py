"""What keeps other web pages from driving a local studio (the checks Jupyter and dev servers make).

  * Host allow-list: a request whose Host is not this server's name gets 400 and no data, so a
    page whose DNS name was rebound to 127.0.0.1 cannot read the API (DNS rebinding).
  * Same origin for writes: a POST/PUT/PATCH/DELETE that a browser sends from another origin
    (its Origin header, or Sec-Fetch-Site when there is no Origin) gets 403. The studio page sends
    its own origin; curl and scripts send no Origin and pass.
  * Token: when the server listens beyond loopback, every request but the static files needs the
    token: `?token=...` once (the page then keeps it in a SameSite=Strict cookie), an
    `Authorization: token ...` / `Bearer ...` header, or that cookie.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from urllib.parse import parse_qs, urlsplit

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
TOKEN_COOKIE = "nca_studio_token"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
DOCS_ASSETS = "/docs-assets"  # the Swagger UI files /docs loads
OPEN_PREFIXES = ("/static/", DOCS_ASSETS + "/")  # ES modules, CSS, Swagger UI: nothing in them is private


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_hex(24)


def split_host(value: str) -> str:
    """`name:port`, `[v6]:port` or a bare name -> the lower-case host name without brackets."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:value.find("]")] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> frozenset[str]:
    names = set(LOOPBACK_NAMES) | {split_host(h) for h in extra if h.strip()}
    if bind and bind not in ("0.0.0.0", "::"):
        names.add(split_host(bind))
    return frozenset(names)


class SecurityMiddleware:
    """Pure ASGI middleware (it must also guard the event streams, which BaseHTTPMiddleware buffers)."""

    def __init__(self, app, hosts: frozenset[str], token: str | None = None, any_host: bool = False):
        self.app = app
        self.hosts = hosts
        self.token = token
        self.any_host = any_host  # bound to 0.0.0.0 / :: with a token: every name this machine has is fine

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = split_host(headers.get("host", ""))
        if not host or (host not in self.hosts and not self.any_host):
            return await _refuse(send, 400, "this server does not answer to that Host name "
                                            "(start it with --allow-host NAME to allow one)")
        if scope.get("method", "GET") in WRITE_METHODS and not _same_origin(headers):
            return await _refuse(send, 403, "cross-origin requests that change data are refused")
        path = scope.get("path", "")
        if self.token and not path.startswith(OPEN_PREFIXES):
            given, from_query = _given_token(scope, headers)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                return await _refuse(send, 401, "this server needs its token: open the URL it printed at start")
            if from_query:
                return await self.app(scope, receive, _with_cookie(send, self.token))
        return await self.app(scope, receive, send)


def _same_origin(headers: dict[str, str]) -> bool:
    origin = headers.get("origin")
    if origin is None:
        # Older browsers leave Origin off some requests but send Fetch Metadata; scripts send neither.
        return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    if origin == "null":
        return False
    parts = urlsplit(origin)
    return bool(parts.netloc) and parts.netloc.lower() == headers.get("host", "").strip().lower()


def _given_token(scope, headers: dict[str, str]) -> tuple[str | None, bool]:
    auth = headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip(), False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], True
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # noqa: BLE001 - a malformed Cookie header is just no token
        return None, False
    morsel = cookie.get(TOKEN_COOKIE)
    return (morsel.value, False) if morsel else (None, False)


def _with_cookie(send, token: str):
    async def wrapped(message):
        if message["type"] == "http.response.start":
            cookie = f"{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
            message = dict(message, headers=list(message.get("headers", [])) + [(b"set-cookie", cookie.encode())])
        await send(message)
    return wrapped


async def _refuse(send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
