"""One guarded way to GET a controller endpoint: bounded in time, size and trust.

Every fault of the outside world (refused connection, timeout, a slow drip
of bytes, a redirect, a non-2xx answer, a body too large or not JSON) ends
as one ``FetchError`` whose message is short, free of control characters and
free of the token, so the source can put it straight into a ``source_error``.

Redirects are never followed: a controller that answers 3xx may be pointing
the bearer token at another host, so the redirect is reported, naming only
the target host.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import sys
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import orjson

#: Largest body read from any endpoint; past it the answer is refused.
MAX_BODY_BYTES = 4 * 1024 * 1024
#: Most connections open to one controller at once, all kept alive between polls. A poll
#: asks for up to ~55 paths at once (``MAX_DETAILED`` migrations' details); httpx's default
#: (100 connections, 20 kept alive) opened and closed some 35 connections every poll,
#: and its pool's per-request bookkeeping grows with the connections open. The rest of a
#: poll's requests wait their turn, within the same deadline.
MAX_CONNECTIONS = 8
#: Longest piece of a server's own message shown to the operator.
SNIPPET_CHARS = 120
#: Longest ``ETag`` remembered for a conditional GET (``Validators``).
MAX_ETAG_CHARS = 256
#: An entity tag (RFC 9110 8.8.3), weak or strong.
_ENTITY_TAG = re.compile(r'(?:W/)?"[\x21\x23-\x7e]*"')

#: Every digit to ``0``, every other byte to ``.``: then 19 digits in a row (maybe an integer
#: orjson would read as a float, see ``parse_json``) are ``_LONG_DIGITS`` in it, found in C.
_DIGITS = bytes(48 if 48 <= b <= 57 else 46 for b in range(256))
_LONG_DIGITS = b"0" * 19
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]+")


def _mark_sniffio_absent() -> None:
    """httpcore runs ``import sniffio`` each time it makes a lock, event or cancel shield: several
    times per request. sniffio is optional (anyio 4 no longer needs it) and not installed here,
    so each of those was a failed import that searched every ``sys.path`` entry again (~0.1 ms,
    most of a request's CPU with five controllers polled). Marked absent once, the same
    ImportError comes at once; where sniffio is installed nothing changes."""
    if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
        sys.modules["sniffio"] = None  # type: ignore[assignment]  # "import sniffio" -> ModuleNotFoundError


_mark_sniffio_absent()


class Validators:
    """The ``ETag`` and body of the last 200 answer of each path, for conditional GETs.

    Optional in the controller API (README, "Contracts and versions"): a controller that tags its
    answers with ``ETag`` is asked with ``If-None-Match`` the next time, and its ``304 Not
    Modified`` stands for the body remembered, sent and parsed again by nobody. One that does
    not tag them is asked as before; so is a path whose last answer had no usable tag, or
    whose body was forgotten (the oldest go first past ``max_bytes`` in all, or ``max_paths``).
    """

    def __init__(self, max_paths: int = 256, max_bytes: int = 16 * 1024 * 1024) -> None:
        self.max_paths = max_paths
        self.max_bytes = max_bytes
        self._known: dict[str, tuple[str, bytes]] = {}
        self._bytes = 0

    def get(self, path: str) -> tuple[str, bytes] | None:
        """(the ETag to send as ``If-None-Match``, the body a 304 stands for), if known."""
        return self._known.get(path)

    def remember(self, path: str, etag: str | None, body: bytes) -> None:
        """After a 200 answer: keep its tag and body, or forget the path if the tag is not usable."""
        old = self._known.pop(path, None)
        if old is not None:
            self._bytes -= len(old[1])
        if etag is None or len(etag) > MAX_ETAG_CHARS or _ENTITY_TAG.fullmatch(etag) is None:
            return
        if len(body) > self.max_bytes:
            return
        self._known[path] = (etag, body)
        self._bytes += len(body)
        while len(self._known) > self.max_paths or self._bytes > self.max_bytes:
            oldest = next(iter(self._known))
            self._bytes -= len(self._known.pop(oldest)[1])


class FetchError(Exception):
    """A request that gave nothing usable; ``str()`` is safe to show and record."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


def sanitise(text: str, secrets: tuple[str, ...] = (), limit: int = SNIPPET_CHARS) -> str:
    """Text from outside made fit for one line of an error: no control characters, no secrets, short."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    text = _CONTROL.sub(" ", text).strip()
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def make_client(
    base_url: str,
    token: str | None = None,
    timeout_s: float = 5.0,
    verify_tls: bool = True,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An AsyncClient that never follows redirects and sends the bearer token only to ``base_url``."""
    headers = {"Accept": "application/json, text/plain;q=0.9", "User-Agent": "migration-tui"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/"),
        headers=headers,
        timeout=httpx.Timeout(timeout_s),
        verify=verify_tls,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS),
        transport=transport,
        trust_env=False,
    )


def _redirect_host(response: httpx.Response) -> str:
    location = response.headers.get("location", "")
    target = urljoin(str(response.request.url), location)
    try:
        host = urlsplit(target).hostname
    except ValueError:
        host = None
    return sanitise(host or "an unparsable location", limit=80)


def _message_of(body: bytes) -> str:
    """The server's own words from an error body: its ``error``/``message`` field, or the text."""
    text = body[:4096].decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if isinstance(parsed, dict):
        for key in ("error", "message", "detail"):
            if isinstance(parsed.get(key), str):
                return parsed[key]
    return text


async def _read(
    client: httpx.AsyncClient,
    path: str,
    max_bytes: int,
    secrets: tuple[str, ...],
    validators: Validators | None = None,
) -> bytes:
    known = validators.get(path) if validators is not None else None
    headers = {"If-None-Match": known[0]} if known is not None else None
    async with client.stream("GET", path, headers=headers) as response:
        status = response.status_code
        if status == 304 and known is not None:
            # Not modified: the body of the answer that carried that ETag. Its own (empty) body is
            # read, or httpcore would close the connection as one left mid-answer.
            await response.aread()
            return known[1]
        if 300 <= status < 400:
            raise FetchError(f"GET {path}: redirect {status} to {_redirect_host(response)} not followed", status)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"GET {path}: body of {int(declared)} bytes is over the {max_bytes} byte cap", status)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"GET {path}: body over the {max_bytes} byte cap, not read", status)
            chunks.append(chunk)
        body = b"".join(chunks)
        if not 200 <= status < 300:
            said = sanitise(_message_of(body), secrets)
            raise FetchError(f"GET {path}: HTTP {status}" + (f": {said}" if said else ""), status)
        if validators is not None:
            validators.remember(path, response.headers.get("etag"), body)
        return body


async def fetch_bytes(
    client: httpx.AsyncClient,
    path: str,
    deadline_s: float,
    max_bytes: int = MAX_BODY_BYTES,
    secrets: tuple[str, ...] = (),
    validators: Validators | None = None,
) -> bytes:
    """The body of a 2xx answer to GET ``path``, read whole within ``deadline_s`` seconds overall
    (with ``validators``, a conditional GET when the last answer had an ``ETag``)."""
    try:
        return await asyncio.wait_for(_read(client, path, max_bytes, secrets, validators), deadline_s)
    except FetchError:
        raise
    except asyncio.TimeoutError:
        raise FetchError(f"GET {path}: no complete answer within {deadline_s:g} s") from None
    except httpx.ConnectError as exc:
        raise FetchError(f"GET {path}: cannot connect: {sanitise(str(exc), secrets) or 'refused'}") from None
    except httpx.TimeoutException as exc:
        raise FetchError(f"GET {path}: timed out ({type(exc).__name__})") from None
    except httpx.HTTPError as exc:
        detail = sanitise(str(exc), secrets)
        raise FetchError(f"GET {path}: {type(exc).__name__}" + (f": {detail}" if detail else "")) from None
    except (OSError, ValueError) as exc:  # e.g. a TLS setup error or an unparsable URL
        raise FetchError(f"GET {path}: {type(exc).__name__}: {sanitise(str(exc), secrets)}") from None


def parse_json(path: str, body: bytes) -> Any:
    """The JSON value of a body. NaN and Infinity literals are accepted here and judged later by ``finite``.

    orjson reads it first (a 1 MB list of 10,000 participants: 15 ms against json's 23); it accepts a
    subset of what ``json`` accepts, with the same values, so whatever it refuses (NaN,
    1e400, lone surrogates, nesting past its limit, bad UTF-8) goes to ``json``, which
    accepts it or refuses it exactly as before. The one value orjson reads differently, an
    integer past 64 bits (a float to orjson), needs 19 digits in a row: such bodies go
    straight to ``json``.
    """
    if _LONG_DIGITS not in body.translate(_DIGITS):
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise FetchError(f"GET {path}: body is not UTF-8") from None
    except RecursionError:
        raise FetchError(f"GET {path}: JSON nested too deeply") from None
    except ValueError:
        raise FetchError(f"GET {path}: body is not JSON") from None


async def fetch_json(
    client: httpx.AsyncClient,
    path: str,
    deadline_s: float,
    max_bytes: int = MAX_BODY_BYTES,
    secrets: tuple[str, ...] = (),
    validators: Validators | None = None,
) -> Any:
    return parse_json(path, await fetch_bytes(client, path, deadline_s, max_bytes, secrets, validators))


async def fetch_text(
    client: httpx.AsyncClient,
    path: str,
    deadline_s: float,
    max_bytes: int = MAX_BODY_BYTES,
    secrets: tuple[str, ...] = (),
    validators: Validators | None = None,
) -> str:
    body = await fetch_bytes(client, path, deadline_s, max_bytes, secrets, validators)
    return body.decode("utf-8", errors="replace")
