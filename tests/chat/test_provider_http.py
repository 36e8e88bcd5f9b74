"""The HTTP/1.1 transport under the provider SDKs, against a server that writes exact bytes.

Each test scripts what the server sends (and when it closes), so framing split across reads,
keep-alive, a connection the server dropped while idle, timeouts and TLS are all exercised
through a real httpx client, as the SDKs use it.
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


def _client(**kwargs) -> httpx.Client:
    return httpx.Client(transport=provider_transport(httpx, **kwargs), timeout=httpx.Timeout(2, connect=1))


CHUNKED_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"


def test_a_chunked_stream_split_anywhere_arrives_whole_and_in_order():
    events = [b"data: {\"n\": %d}\n\n" % n for n in range(3)]
    wire = CHUNKED_HEAD + b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    # Cut the wire at awkward places: inside the head, a size line, a payload, a CRLF.
    cuts = [10, len(CHUNKED_HEAD) + 1, len(CHUNKED_HEAD) + 7, len(CHUNKED_HEAD) + 19, len(wire) - 3]
    parts = [wire[a:b] for a, b in zip([0] + cuts, cuts + [len(wire)])]
    server = ScriptedServer([parts])
    try:
        with _client() as client, client.stream("POST", server.url + "/v1/chat/completions", json={}) as resp:
            body = b"".join(resp.iter_raw())
        assert resp.status_code == 200 and body == b"".join(events)
    finally:
        server.close()


def test_pieces_that_arrive_together_are_handed_up_together():
    events = [b"data: %d\n\n" % n for n in range(4)]
    wire = CHUNKED_HEAD + b"".join(b"%x\r\n%s\r\n" % (len(e), e) for e in events) + b"0\r\n\r\n"
    server = ScriptedServer([[wire]])
    try:
        with _client() as client, client.stream("POST", server.url + "/x", json={}) as resp:
            pieces = list(resp.iter_raw())
        assert pieces == [b"".join(events)]
    finally:
        server.close()


def test_keep_alive_reuses_the_connection_and_sends_the_request_as_built():
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = ScriptedServer([[reply], [reply]])
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


def test_a_connection_the_server_closed_while_idle_is_replaced_once():
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    server = ScriptedServer([[reply, b"<close>"], [reply]])
    try:
        with _client() as client:
            assert client.get(server.url + "/a").text == "ok"
            time.sleep(0.1)  # the server has closed the pooled connection by now
            assert client.get(server.url + "/b").text == "ok"
        assert server.connections == 2
    finally:
        server.close()


def test_a_body_cut_short_is_an_error_not_a_short_answer():
    server = ScriptedServer([[CHUNKED_HEAD + b"5\r\nhel", b"<close>"]])
    try:
        with _client() as client, client.stream("GET", server.url + "/a") as resp:
            with pytest.raises(httpx.RemoteProtocolError):
                b"".join(resp.iter_raw())
    finally:
        server.close()


def test_no_answer_within_the_read_timeout_is_a_read_timeout_and_not_retried():
    server = ScriptedServer([lambda conn: time.sleep(1.5), [b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"]])
    try:
        client = httpx.Client(transport=provider_transport(httpx), timeout=httpx.Timeout(0.3, connect=1))
        started = time.monotonic()
        with client, pytest.raises(httpx.ReadTimeout):
            client.get(server.url + "/slow")
        assert time.monotonic() - started < 1.2 and len(server.requests) == 1
    finally:
        server.close()


def test_nobody_listening_is_a_connect_error():
    with _client() as client, pytest.raises(httpx.ConnectError):
        client.get(f"http://127.0.0.1:{free_port()}/")


def test_garbage_instead_of_http_is_a_protocol_error():
    server = ScriptedServer([[b"SSH-2.0-OpenSSH\r\n\r\n"]])
    try:
        with _client() as client, pytest.raises(httpx.RemoteProtocolError):
            client.get(server.url + "/")
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


def test_https_with_the_servers_certificate(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    server = ScriptedServer([[b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecret"], [b"never sent"]],
                            tls=server_tls)
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        with _client(ssl_context=trusting) as client:
            assert client.get(server.url + "/").text == "secret"
        with _client() as client, pytest.raises(httpx.ConnectError):  # an unknown certificate is refused
            client.get(server.url + "/")
    finally:
        server.close()


def test_the_openai_sdks_httpx2_gets_its_own_transport_and_a_proxy_keeps_httpx_own(monkeypatch):
    assert isinstance(provider_transport(httpx2), httpx2.BaseTransport)
    assert isinstance(provider_transport(httpx), httpx.BaseTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert provider_transport(httpx2) is None
