"""The HTTP transport under the OpenAI and ElevenLabs SDKs: urllib3, behind httpx's transport API.

The SDKs still build every request, send it through their httpx client and turn statuses into
their errors; beneath httpx the bytes travel over urllib3 instead of httpcore + h11, which under
gevent cost about twice the CPU per streamed token (BENCHMARKS.md, ``python -m bench
stack-floor``). urllib3 is cooperative once gevent has patched sockets, checks a pooled
connection before reusing it, validates chunk sizes and Content-Length, and honours TLS settings
and proxies: ``SSL_CERT_FILE``/``SSL_CERT_DIR`` (through httpx's own ``create_ssl_context``) and
``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``/``NO_PROXY`` from the environment.

The openai SDK is built on ``httpx2`` and the elevenlabs SDK on ``httpx`` (same API, separate
classes), so the transport is made for the module its client comes from; each SDK client keeps
one transport, built once per process.
"""
from __future__ import annotations

import ssl
import urllib.request
from types import ModuleType
from typing import Iterator

import urllib3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ProtocolError,
    ProxyError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util.retry import Retry

READ_BYTES = 65536
# A worker streams to a provider for each of its busy conversations at once.
POOL_MAXSIZE = 256
# A connection the server closed while it sat in the pool is detected before reuse; one more try
# covers a close that lands just as the request is sent. Nothing else is retried: the fallback
# chain decides what happens after a failure, and read errors are never retried (not idempotent).
RETRIES = Retry(total=1, connect=1, read=False, redirect=False, status=False, other=False)

_transport_classes: dict = {}


def provider_transport(http: ModuleType, verify: bool | str | ssl.SSLContext = True, cert=None):
    """A transport for a provider SDK's client made with ``http`` (``httpx`` or ``httpx2``)."""
    cls = _transport_classes.get(http)
    if cls is None:
        cls = _transport_classes[http] = type("Urllib3Transport", (Urllib3Transport, http.BaseTransport),
                                              {"http": http})
    return cls(verify, cert)


class Urllib3Transport:
    """Mixed into ``http.BaseTransport`` by ``provider_transport``; ``http`` names the module."""

    http: ModuleType

    def __init__(self, verify: bool | str | ssl.SSLContext = True, cert=None):
        self._ssl = self.http.create_ssl_context(verify=verify, cert=cert, trust_env=True)
        self._direct = urllib3.PoolManager(maxsize=POOL_MAXSIZE, ssl_context=self._ssl, retries=RETRIES)
        self._proxied: dict[str, urllib3.ProxyManager] = {}
        # The environment's proxies are read once, when the SDK client is built (as httpx's own
        # transports do), and each host's route once: reading them per request walked the whole
        # environment twice, ~0.1 ms of CPU per request (two requests start every turn).
        self._proxies = urllib.request.getproxies()
        self._routes: dict[tuple[str, str], str | None] = {}

    def handle_request(self, request):
        timeouts = request.extensions.get("timeout", {})
        url = str(request.url)
        try:
            response = self._pool_for(request.url).urlopen(
                request.method, url, body=request.read() or None, headers=_headers(request),
                timeout=urllib3.Timeout(connect=timeouts.get("connect"), read=timeouts.get("read")),
                preload_content=False, decode_content=False, redirect=False, assert_same_host=False)
        except Exception as err:
            raise _mapped(self.http, err, request, sending=True) from err
        return self.http.Response(
            status_code=response.status, headers=list(response.headers.items()),
            stream=_body_class(self.http)(response, request),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": (response.reason or "").encode("latin-1")})

    def close(self) -> None:
        self._direct.clear()
        for manager in self._proxied.values():
            manager.clear()

    def _pool_for(self, url):
        route = (url.scheme, url.host)
        if route not in self._routes:
            self._routes[route] = _proxy_for(self._proxies, *route)
        proxy = self._routes[route]
        if proxy is None:
            return self._direct
        if proxy not in self._proxied:
            self._proxied[proxy] = urllib3.ProxyManager(proxy, maxsize=POOL_MAXSIZE, ssl_context=self._ssl,
                                                        retries=RETRIES)
        return self._proxied[proxy]


def _proxy_for(proxies: dict[str, str], scheme: str, host: str) -> str | None:
    """The proxy the environment names for this URL (the standard library's rules), or None."""
    if urllib.request.proxy_bypass(host):
        return None
    return proxies.get(scheme) or proxies.get("all")


def _headers(request) -> urllib3.HTTPHeaderDict:
    headers = urllib3.HTTPHeaderDict()
    for name, value in request.headers.raw:
        headers.add(name.decode("latin-1"), value.decode("latin-1"))
    return headers


def _mapped(http: ModuleType, err: BaseException, request, sending: bool = False) -> BaseException:
    """urllib3's error as the httpx error the SDKs map to their own (timeouts, connection)."""
    if isinstance(err, MaxRetryError) and err.reason is not None:
        err = err.reason
    if isinstance(err, NewConnectionError):  # before ConnectTimeoutError: urllib3 subclasses it
        return http.ConnectError(str(err), request=request)
    if isinstance(err, ConnectTimeoutError):
        return http.ConnectTimeout(str(err), request=request)
    if isinstance(err, ReadTimeoutError):
        return http.ReadTimeout(str(err), request=request)
    if isinstance(err, ProxyError):
        return http.ProxyError(str(err), request=request)
    if isinstance(err, SSLError):
        return http.ConnectError(str(err), request=request)
    cause = err.args[1] if isinstance(err, ProtocolError) and len(err.args) > 1 else err
    if sending and isinstance(cause, TimeoutError):
        # urllib3 sends the request under the connect timeout and reports a stalled send as an
        # aborted connection; to the SDK it is a write timeout.
        return http.WriteTimeout(str(err), request=request)
    if isinstance(err, (ProtocolError, ValueError, HTTPError)):  # bad framing or headers, truncated, hung up
        return http.RemoteProtocolError(str(err), request=request)
    if isinstance(err, OSError):
        return http.ReadError(str(err), request=request)
    return err


def _body_class(http: ModuleType):
    cls = _transport_classes.get((http, "body"))
    if cls is None:
        cls = _transport_classes[(http, "body")] = type("Urllib3Body", (_Body, http.SyncByteStream), {"http": http})
    return cls


class _Body:
    """The response body as it arrives: a chunked body chunk by chunk (urllib3 checks each size),
    any other body whatever bytes are there at each read (``read1``), so an event that arrived is
    never held back waiting for more."""

    http: ModuleType

    def __init__(self, response: urllib3.HTTPResponse, request):
        self.response = response
        self.request = request

    def __iter__(self) -> Iterator[bytes]:
        try:
            if self.response.chunked:
                yield from self.response.read_chunked(READ_BYTES, decode_content=False)
                return
            while True:
                data = self.response.read1(READ_BYTES)
                if not data:
                    return
                yield data
        except Exception as err:
            raise _mapped(self.http, err, self.request) from err

    def close(self) -> None:
        # A body read to its end goes back to the pool; one abandoned midway is closed.
        if self.response.isclosed() or self.response.length_remaining == 0:
            self.response.release_conn()
        else:
            self.response.close()
            self.response.release_conn()
