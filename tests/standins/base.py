"""Shared machinery for the stand-in servers (OpenAI, ElevenLabs) used by tests and benchmarks.

A stand-in runs in its own process on gevent.pywsgi so that hundreds of slow streams cost
nothing to the process under test. Its behaviour (latency, faults) is set at start-up from
command-line JSON and can be changed while it runs through a control endpoint:

    POST /__control__/config   {"fault": "http_500", ...}   merge into the behaviour
    POST /__control__/reset                                  back to the start-up behaviour
    GET  /__control__/requests                               what the stand-in was asked, in order

Each stand-in module defines ``make_app(state: State) -> WSGI app`` and calls ``main(make_app)``.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

CONTROL_PREFIX = "/__control__/"


class State:
    """Behaviour and request log of one stand-in process (shared by its greenlets)."""

    def __init__(self, behaviour: dict):
        self._initial = copy.deepcopy(behaviour)
        self.behaviour = copy.deepcopy(behaviour)
        self.requests: list[dict] = []

    def reset(self):
        self.behaviour = copy.deepcopy(self._initial)
        self.requests.clear()

    def record(self, environ, body: bytes):
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        self.requests.append({
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", ""),
            "query": environ.get("QUERY_STRING", ""),
            "headers": {k[5:].replace("_", "-").lower(): v
                        for k, v in environ.items() if k.startswith("HTTP_")},
            "json": parsed,
        })


def read_body(environ) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return environ["wsgi.input"].read(length) if length else b""


def json_response(start_response, status: str, payload) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def with_control(state: State, app):
    """Wrap a stand-in app with the control endpoints and request recording."""

    def wrapped(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX):
            action = path[len(CONTROL_PREFIX):]
            if action == "config":
                state.behaviour.update(json.loads(read_body(environ) or b"{}"))
                return json_response(start_response, "200 OK", state.behaviour)
            if action == "reset":
                state.reset()
                return json_response(start_response, "200 OK", state.behaviour)
            if action == "requests":
                return json_response(start_response, "200 OK", state.requests)
            return json_response(start_response, "404 Not Found", {"error": "unknown control"})
        body = read_body(environ)
        state.record(environ, body)
        environ["standin.body"] = body
        return app(environ, start_response)

    return wrapped


def main(make_app):
    """Entry point of a stand-in process: ``python -m tests.standins.X --port P --behaviour JSON``."""
    from gevent import monkey

    monkey.patch_all()
    from gevent.pywsgi import WSGIHandler, WSGIServer

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--behaviour", default="{}")
    args = parser.parse_args()

    class NoDelayServer(WSGIServer):
        # Without TCP_NODELAY each small streamed write waits ~40 ms (Nagle + delayed ACK).
        def handle(self, sock, address):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().handle(sock, address)

    class QuietHandler(WSGIHandler):
        def log_request(self):
            pass

    state = State(json.loads(args.behaviour))
    server = NoDelayServer(("127.0.0.1", args.port), with_control(state, make_app(state)),
                           handler_class=QuietHandler, log=None, spawn=10000, backlog=2048)
    server.serve_forever()


def stop_process(proc: subprocess.Popen | None, grace: float = 5) -> None:
    """Ask a child server to stop, and make sure it has after ``grace`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


class StandInProcess:
    """A stand-in server in a child process, controlled over HTTP from the test or benchmark."""

    def __init__(self, module: str, behaviour: dict | None = None):
        self.module = module
        self.behaviour = behaviour or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "StandInProcess":
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.module, "--port", str(self.port),
             "--behaviour", json.dumps(self.behaviour)],
            cwd=root,
        )
        wait_for_port(self.port, proc=self.proc)
        return self

    def stop(self):
        stop_process(self.proc)

    def _control(self, action: str, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        req = urllib.request.Request(self.url + CONTROL_PREFIX + action, data=data,
                                     method="POST" if data is not None else "GET",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            return json.loads(resp.read())

    def configure(self, **behaviour) -> dict:
        return self._control("config", behaviour)

    def reset(self) -> dict:
        return self._control("reset", {})

    def requests(self) -> list[dict]:
        return self._control("requests")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
