"""The HTTP/1.1 transport under the OpenAI and ElevenLabs SDKs.

The SDKs still build every request, send it through httpx and turn statuses into their errors;
only the wire beneath httpx is replaced. Under gevent, httpx's default transport (httpcore +
h11) cost 70-100 µs of CPU per streamed token, this one ~50 µs (a bare socket ~25 µs); relaying
100 conversations, the stack alone used 35-42 % of a core over httpcore and 30 % over this
(`python -m bench stack-floor`, BENCHMARKS.md). A response head is parsed once, the body's
chunked framing is decoded from one buffer, and whatever has arrived is handed up before the
next wait.

Only what the providers need: HTTP/1.1, TLS, keep-alive, Content-Length, chunked or
read-to-close bodies. With a proxy set in the environment, httpx's own transport is used.
The openai SDK is built on ``httpx2`` and the elevenlabs SDK on ``httpx`` (same API, separate
classes), so the transport is made for the module its client comes from.
"""
from __future__ import annotations

import os
import socket
import ssl
from types import ModuleType
from typing import Iterator

RECV_BYTES = 65536
MAX_HEAD_BYTES = 64 * 1024
MAX_IDLE_PER_ORIGIN = 256  # a worker streams to a provider for each of its busy conversations
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


_transport_classes: dict = {}


def provider_transport(http: ModuleType, ssl_context: ssl.SSLContext | None = None):
    """A transport for a provider SDK's client made with ``http`` (httpx or httpx2), or None
    for the module's own transport (a proxy is configured)."""
    if any(os.environ.get(name) for name in PROXY_VARIABLES):
        return None
    cls = _transport_classes.get(http)
    if cls is None:
        cls = _transport_classes[http] = type("StreamingTransport", (StreamingTransport, http.BaseTransport),
                                              {"http": http})
    return cls(ssl_context)


class _Closed(Exception):
    """The server closed the connection (before any byte of a response, a reused one is retried)."""


class _Connection:
    def __init__(self, sock: socket.socket, origin: tuple):
        self.sock = sock
        self.origin = origin
        self.buffer = b""
        self.reused = False

    def recv(self) -> bytes:
        data = self.sock.recv(RECV_BYTES)
        if not data:
            raise _Closed()
        return data

    def take_buffer(self) -> bytes:
        data, self.buffer = self.buffer, b""
        return data

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class StreamingTransport:
    """Mixed into ``http.BaseTransport`` by provider_transport(); ``http`` names the module."""

    http: ModuleType

    def __init__(self, ssl_context: ssl.SSLContext | None = None):
        self._ssl = ssl_context
        self._idle: dict[tuple, list[_Connection]] = {}

    def handle_request(self, request):
        timeouts = request.extensions.get("timeout") or {}
        conn = self._idle_connection(request)
        if conn is not None:
            try:
                return self._exchange(conn, request, timeouts)
            except _Closed:
                conn.close()  # a keep-alive connection the server had already closed: once more, fresh
        return self._exchange(self._connect(request, timeouts), request, timeouts)

    def close(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    def release(self, conn: _Connection) -> None:
        idle = self._idle.setdefault(conn.origin, [])
        if len(idle) < MAX_IDLE_PER_ORIGIN:
            conn.reused = True
            idle.append(conn)
        else:
            conn.close()

    @staticmethod
    def _origin(request) -> tuple:
        url = request.url
        return url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80)

    def _idle_connection(self, request) -> _Connection | None:
        idle = self._idle.get(self._origin(request))
        return idle.pop() if idle else None

    def _connect(self, request, timeouts: dict) -> _Connection:
        http = self.http
        scheme, host, port = origin = self._origin(request)
        if scheme not in ("http", "https"):
            raise http.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}", request=request)
        try:
            sock = socket.create_connection((host, port), timeout=timeouts.get("connect"))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                if self._ssl is None:
                    self._ssl = http.create_ssl_context()
                sock = self._ssl.wrap_socket(sock, server_hostname=host)
        except socket.timeout as err:
            raise http.ConnectTimeout(f"connect timeout: {err}", request=request) from None
        except OSError as err:
            raise http.ConnectError(f"{type(err).__name__}: {err}", request=request) from None
        return _Connection(sock, origin)

    def _exchange(self, conn: _Connection, request, timeouts: dict):
        """Send the request and read the response head; _Closed only if nothing came back."""
        http = self.http
        try:
            conn.sock.settimeout(timeouts.get("write"))
            conn.sock.sendall(_request_bytes(request))
            conn.sock.settimeout(timeouts.get("read"))
            status, reason, headers = _read_head(http, conn)
        except _Closed:
            if conn.reused:
                raise
            conn.close()
            raise http.RemoteProtocolError("server closed the connection without a response",
                                            request=request) from None
        except (ConnectionResetError, BrokenPipeError) as err:
            conn.close()
            if conn.reused:
                raise _Closed() from None
            raise http.ReadError(f"{type(err).__name__}: {err}", request=request) from None
        except BaseException as err:
            conn.close()
            raise _mapped(http, err, request) from None
        body = _body_class(http)(self, conn, request, headers, status)
        return http.Response(status, headers=headers, stream=body,
                              extensions={"http_version": b"HTTP/1.1", "reason_phrase": reason})


def _request_bytes(request) -> bytes:
    lines = [b"%s %s HTTP/1.1" % (request.method.encode("ascii"), request.url.raw_path)]
    if "host" not in request.headers:
        lines.append(b"Host: " + request.url.netloc)
    lines.extend(name + b": " + value for name, value in request.headers.raw)
    return b"\r\n".join(lines) + b"\r\n\r\n" + request.read()


def _read_head(http: ModuleType, conn: _Connection) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    while True:
        buffer = conn.take_buffer()
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > MAX_HEAD_BYTES:
                raise http.RemoteProtocolError("response head too large")
            buffer += conn.recv()
        head, conn.buffer = buffer.split(b"\r\n\r\n", 1)
        status_line, *lines = head.split(b"\r\n")
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise http.RemoteProtocolError(f"bad status line {status_line[:100]!r}")
        status = int(parts[1])
        if 100 <= status < 200 and status != 101:
            continue  # 100 Continue and other interim responses precede the real one
        headers = []
        for line in lines:
            name, sep, value = line.partition(b":")
            if not sep:
                raise http.RemoteProtocolError(f"bad header line {line[:100]!r}")
            headers.append((name.strip(), value.strip()))
        return status, (parts[2] if len(parts) > 2 else b""), headers


def _mapped(http: ModuleType, err: BaseException, request) -> BaseException:
    if isinstance(err, http.HTTPError) or not isinstance(err, Exception):
        return err  # already the module's, or a greenlet's timeout/kill passing through
    if isinstance(err, socket.timeout):
        return http.ReadTimeout(f"read timeout: {err}", request=request)
    if isinstance(err, _Closed):
        return http.RemoteProtocolError("server closed the connection mid-response", request=request)
    if isinstance(err, OSError):
        return http.ReadError(f"{type(err).__name__}: {err}", request=request)
    return http.RemoteProtocolError(f"{type(err).__name__}: {err}", request=request)


_body_classes: dict = {}


def _body_class(http: ModuleType):
    cls = _body_classes.get(http)
    if cls is None:
        cls = _body_classes[http] = type("Body", (_Body, http.SyncByteStream), {"http": http})
    return cls


class _Body:
    """A response body, handed up as it arrives; the connection is pooled once it is all read."""

    http: ModuleType

    def __init__(self, transport: StreamingTransport, conn: _Connection, request,
                 headers: list[tuple[bytes, bytes]], status: int):
        self.transport = transport
        self.conn: _Connection | None = conn
        self.request = request
        fields = {name.lower(): value for name, value in headers}
        self.keep_alive = b"close" not in fields.get(b"connection", b"").lower()
        self.chunked = b"chunked" in fields.get(b"transfer-encoding", b"").lower()
        self.length: int | None = None
        if request.method == "HEAD" or status in (204, 304):
            self.length = 0
        elif not self.chunked and b"content-length" in fields:
            try:
                self.length = int(fields[b"content-length"])
            except ValueError:
                raise self.http.RemoteProtocolError("bad Content-Length", request=request) from None
        elif not self.chunked:
            self.keep_alive = False  # the body ends when the server closes
        self.complete = False

    def __iter__(self) -> Iterator[bytes]:
        if self.conn is None:
            raise self.http.StreamClosed()
        try:
            if self.chunked:
                yield from self._chunked(self.http, self.conn)
            elif self.length is not None:
                yield from self._fixed(self.conn, self.length)
            else:
                yield from self._until_close(self.conn)
        except BaseException as err:
            self._discard()
            raise _mapped(self.http, err, self.request) from None
        self.complete = True

    def close(self) -> None:
        if self.conn is None:
            return
        if self.complete and self.keep_alive and not self.conn.buffer:
            self.transport.release(self.conn)
            self.conn = None
        else:
            self._discard()

    def _discard(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    @staticmethod
    def _fixed(conn: _Connection, length: int) -> Iterator[bytes]:
        data = conn.take_buffer()
        while length:
            if not data:
                data = conn.recv()
            piece, data = data[:length], data[length:]
            length -= len(piece)
            yield piece
        conn.buffer = data

    @staticmethod
    def _until_close(conn: _Connection) -> Iterator[bytes]:
        data = conn.take_buffer()
        while True:
            if data:
                yield data
            try:
                data = conn.recv()
            except _Closed:
                return

    @staticmethod
    def _chunked(http: ModuleType, conn: _Connection) -> Iterator[bytes]:
        """Chunked framing decoded from one buffer; every complete piece that has arrived is
        yielded together before waiting for more (several SSE events in one read, one piece)."""
        buffer, out, remaining = conn.take_buffer(), [], None  # remaining None: a size line is next
        while True:
            if remaining is None:
                end = buffer.find(b"\r\n")
                if end < 0:
                    if len(buffer) > 1024:
                        raise http.RemoteProtocolError("bad chunk size line")
                    if out:
                        yield b"".join(out)
                        out = []
                    buffer += conn.recv()
                    continue
                try:
                    remaining = int(buffer[:end].split(b";", 1)[0], 16)
                except ValueError:
                    raise http.RemoteProtocolError("bad chunk size line") from None
                buffer = buffer[end + 2:]
                if remaining == 0:
                    break
            elif remaining:
                if not buffer:
                    if out:
                        yield b"".join(out)
                        out = []
                    buffer = conn.recv()
                piece, buffer = buffer[:remaining], buffer[remaining:]
                remaining -= len(piece)
                out.append(piece)
            elif len(buffer) < 2:
                if out:
                    yield b"".join(out)
                    out = []
                buffer += conn.recv()
            elif buffer[:2] != b"\r\n":
                raise http.RemoteProtocolError("chunk not followed by CRLF")
            else:
                buffer, remaining = buffer[2:], None
        if out:
            yield b"".join(out)
        while True:  # trailer fields, then the blank line that ends the body
            end = buffer.find(b"\r\n")
            if end < 0:
                buffer += conn.recv()
                continue
            line, buffer = buffer[:end], buffer[end + 2:]
            if not line:
                break
        conn.buffer = buffer
