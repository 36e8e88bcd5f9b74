"""The urllib3 transport under the provider SDKs, against a server that misbehaves on purpose.

Each test scripts what the server sends (and when it closes): framing split across reads, negative
and huge chunk sizes, bad Content-Length, a keep-alive connection the server dropped, stalls before
and during the body, a server that never reads, TLS with a private CA given by SSL_CERT_FILE and a
proxy from the environment, all through a real httpx client, as the SDKs use it. None may hang:
each ends in a clear httpx error within its timeout.
"""
from __future__ import annotations

import socket
import ssl
import subprocess
import threading
import time

import httpx
import httpx2
import pytest

from paco.provider_http import provider_transport
from tests.standins.base import free_port


class ScriptedServer:
    """Accepts connections; for each request it runs the next script step: a list of byte
    strings (sent with small pauses, so they arrive as separate reads) or a callable."""

    def __init__(self, steps, tls: ssl.SSLContext | None = None):
        self.steps = list(steps)
        self.tls = tls
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _serve(self):
        while self.steps:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    def _connection(self, conn):
        if self.tls:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError):
                conn.close()  # a client that refused the certificate
                return
        buffer = b""
        with conn:
            while self.steps:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                               if line.lower().startswith(b"content-length:")), 0)
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + buffer[:length])
                buffer = buffer[length:]
                step = self.steps.pop(0)
                if callable(step):
                    if step(conn) == "close":
                        return
                    continue
                for part in step:
                    if part == b"<close>":
                        return
                    conn.sendall(part)
                    time.sleep(0.02)

    def close(self):
        self.steps.clear()
        self.listener.close()


def _client(timeout: float = 2, **kwargs) -> httpx.Client:
    return httpx.Client(transport=provider_transport(httpx, **kwargs), timeout=httpx.Timeout(timeout, connect=1))


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


def _stream(server, client, path="/v1/chat/completions") -> tuple[int, bytes]:
    with client.stream("POST", server.url + path, json={}) as resp:
        return resp.status_code, b"".join(resp.iter_raw())


def test_a_chunked_stream_split_anywhere_arrives_whole_and_in_order():
    events = [b"data: {\"n\": %d}\n\n" % n for n in range(3)]
    wire = CHUNKED_HEAD + b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    # Cut the wire at awkward places: inside the head, a size line, a payload, a CRLF.
    cuts = [10, len(CHUNKED_HEAD) + 1, len(CHUNKED_HEAD) + 7, len(CHUNKED_HEAD) + 19, len(wire) - 3]
    parts = [wire[a:b] for a, b in zip([0] + cuts, cuts + [len(wire)])]
    server = ScriptedServer([parts])
    try:
        with _client() as client:
            assert _stream(server, client) == (200, b"".join(events))
    finally:
        server.close()


def test_each_event_is_handed_up_as_soon_as_it_arrives():
    server = ScriptedServer([lambda conn: (conn.sendall(CHUNKED_HEAD + b"8\r\ndata: 1\n\r\n"), time.sleep(0.5),
                                          conn.sendall(b"0\r\n\r\n"))])
    try:
        with _client() as client, client.stream("POST", server.url + "/x", json={}) as resp:
            started = time.monotonic()
            first = next(resp.iter_raw())
            assert first == b"data: 1\n" and time.monotonic() - started < 0.3
    finally:
        server.close()


@pytest.mark.parametrize("size_line", [b"-5", b"-0x10", b"zz"])
def test_a_negative_or_garbage_chunk_size_is_a_protocol_error_at_once(size_line):
    server = ScriptedServer([[CHUNKED_HEAD + b"5\r\nhello\r\n" + size_line + b"\r\nxxxxx\r\n0\r\n\r\n"]])
    try:
        started = time.monotonic()
        with _client(timeout=5) as client, pytest.raises(httpx.RemoteProtocolError):
            _stream(server, client)
        assert time.monotonic() - started < 1.5  # refused, not waited out
    finally:
        server.close()


def test_a_huge_chunk_size_ends_in_the_read_timeout_not_a_hang():
    server = ScriptedServer([lambda conn: (conn.sendall(CHUNKED_HEAD + b"FFFFFFFFFFFF\r\nabc"), time.sleep(3))])
    try:
        started = time.monotonic()
        with _client(timeout=0.5) as client, pytest.raises(httpx.ReadTimeout):
            _stream(server, client)
        assert time.monotonic() - started < 2
    finally:
        server.close()


@pytest.mark.parametrize("length", [b"-5", b"abc", b"99999999999999999999999"])
def test_a_bad_content_length_reads_to_close_and_never_loops(length):
    server = ScriptedServer([[b"HTTP/1.1 200 OK\r\nContent-Length: " + length + b"\r\n\r\nhello", b"<close>"]])
    try:
        started = time.monotonic()
        with _client(timeout=1) as client:
            try:
                status, body = _stream(server, client)
                assert (status, body) == (200, b"hello")
            except httpx.RemoteProtocolError:
                pass  # refused as malformed: as good, as long as it ends
        assert time.monotonic() - started < 2
    finally:
        server.close()


def test_conflicting_content_lengths_are_refused():
    server = ScriptedServer([[b"HTTP/1.1 200 OK\r\nContent-Length: 5, 7\r\n\r\nhello", b"<close>"]])
    try:
        with _client() as client, pytest.raises(httpx.RemoteProtocolError):
            _stream(server, client)
    finally:
        server.close()


def test_keep_alive_reuses_the_connection_and_sends_the_request_as_built():
    server = ScriptedServer([[OK], [OK]])
    try:
        with _client() as client:
            first = client.post(server.url + "/v1/a?x=1", json={"q": 1}, headers={"Authorization": "Bearer k"})
            second = client.post(server.url + "/v1/b", content=b"raw")
        assert first.text == second.text == "ok" and server.connections == 1
        head = server.requests[0].split(b"\r\n\r\n")[0].split(b"\r\n")
        assert head[0] == b"POST /v1/a?x=1 HTTP/1.1"
        assert b"authorization: Bearer k" in [line.lower()[:15] + line[15:] for line in head]
        assert server.requests[0].endswith(b'{"q":1}') and server.requests[1].endswith(b"raw")
    finally:
        server.close()


def test_a_connection_the_server_closed_while_idle_is_replaced():
    server = ScriptedServer([[OK, b"<close>"], [OK]])
    try:
        with _client() as client:
            assert client.get(server.url + "/a").text == "ok"
            time.sleep(0.1)  # the server has closed the pooled connection by now
            assert client.post(server.url + "/b", json={}).text == "ok"  # a POST too: nothing was sent on it
        assert server.connections == 2
    finally:
        server.close()


def test_a_body_cut_short_is_an_error_not_a_short_answer():
    server = ScriptedServer([[CHUNKED_HEAD + b"5\r\nhel", b"<close>"]])
    try:
        with _client() as client, pytest.raises(httpx.RemoteProtocolError):
            _stream(server, client, "/a")
    finally:
        server.close()


def test_no_answer_within_the_read_timeout_is_a_read_timeout_and_not_retried():
    server = ScriptedServer([lambda conn: time.sleep(1.5), [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]])
    try:
        started = time.monotonic()
        with _client(timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
            client.post(server.url + "/slow", json={})
        assert time.monotonic() - started < 1.2 and len(server.requests) == 1
    finally:
        server.close()


def test_a_stall_in_the_middle_of_the_body_is_a_read_timeout():
    server = ScriptedServer([lambda conn: (conn.sendall(CHUNKED_HEAD + b"5\r\nhello\r\n"), time.sleep(2))])
    try:
        with _client(timeout=0.4) as client, client.stream("POST", server.url + "/x", json={}) as resp:
            chunks = resp.iter_raw()
            assert next(chunks) == b"hello"
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                next(chunks)
            assert time.monotonic() - started < 1.5
    finally:
        server.close()


def test_a_server_that_never_reads_the_request_is_a_write_timeout():
    listener = socket.create_server(("127.0.0.1", 0))
    listener.listen(1)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/upload"
    try:
        started = time.monotonic()
        with _client(timeout=0.5) as client, pytest.raises(httpx.WriteTimeout):
            client.post(url, content=b"x" * (64 * 1024 * 1024))  # far more than the socket buffers hold
        assert time.monotonic() - started < 5
    finally:
        listener.close()


def test_nobody_listening_is_a_connect_error():
    with _client() as client, pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{free_port()}/")


def test_garbage_instead_of_http_is_a_protocol_error():
    server = ScriptedServer([[b"SSH-2.0-OpenSSH\r\n\r\n", b"<close>"]])
    try:
        with _client() as client, pytest.raises(httpx.RemoteProtocolError):
            client.post(server.url + "/", json={})
    finally:
        server.close()


def test_interim_100_continue_is_skipped_and_error_statuses_reach_the_sdk():
    server = ScriptedServer([[b"HTTP/1.1 100 Continue\r\n\r\n",
                              b"HTTP/1.1 429 Too Many Requests\r\nContent-Length: 13\r\n\r\n{\"e\": \"slow\"}"]])
    try:
        with _client() as client:
            resp = client.post(server.url + "/", json={})
        assert resp.status_code == 429 and resp.json() == {"e": "slow"}
    finally:
        server.close()


def _private_ca(tmp_path):
    """A private CA and a server certificate it signed, as a hospital's TLS-inspecting proxy has."""
    ca_key, ca_cert = tmp_path / "ca.key", tmp_path / "ca.pem"
    key, csr, cert = tmp_path / "server.key", tmp_path / "server.csr", tmp_path / "server.pem"
    ext = tmp_path / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    run = lambda *args: subprocess.run(["openssl", *args], check=True, capture_output=True)  # noqa: E731
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Study Hospital CA",
        "-keyout", str(ca_key), "-out", str(ca_cert))
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(csr))
    run("x509", "-req", "-in", str(csr), "-CA", str(ca_cert), "-CAkey", str(ca_key), "-CAcreateserial",
        "-days", "1", "-extfile", str(ext), "-out", str(cert))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    return ca_cert, server_tls


def test_https_trusts_a_private_ca_named_by_ssl_cert_file(tmp_path, monkeypatch):
    ca_cert, server_tls = _private_ca(tmp_path)
    server = ScriptedServer([[b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret"], [b"never sent"]],
                            tls=server_tls)
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca_cert))
        with _client() as client:
            assert client.get(server.url + "/").text == "secret"
        monkeypatch.delenv("SSL_CERT_FILE")
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
        with _client() as client, pytest.raises(httpx.ConnectError):  # an unknown CA is refused
            client.get(server.url + "/")
    finally:
        server.close()


def test_a_proxy_from_the_environment_is_used_and_no_proxy_is_honoured(monkeypatch):
    proxy = ScriptedServer([[OK]])
    target = ScriptedServer([[OK]])
    try:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with _client() as client:
            assert client.get("http://provider.example/v1/models").text == "ok"
        assert proxy.requests[0].startswith(b"GET http://provider.example/v1/models HTTP/1.1")
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with _client() as client:
            assert client.get(target.url + "/direct").text == "ok"
        assert target.requests[0].startswith(b"GET /direct HTTP/1.1") and len(proxy.requests) == 1
    finally:
        proxy.close()
        target.close()


def test_both_sdks_http_modules_get_their_own_transport_class():
    assert isinstance(provider_transport(httpx2), httpx2.BaseTransport)
    assert isinstance(provider_transport(httpx), httpx.BaseTransport)
    assert not isinstance(provider_transport(httpx), httpx2.BaseTransport)
