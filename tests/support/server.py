"""Run PaCo as the README does (gunicorn, gevent worker, wsgi:app) on a free port."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.standins.base import free_port, stop_process, wait_for_port

ROOT = Path(__file__).resolve().parents[2]


class LiveServer:
    def __init__(self, env: dict[str, str], workers: int = 1, log_path: str | None = None, app: str = "wsgi:app"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.env = env
        self.workers = workers
        self.log_path = log_path
        self.app = app
        self.proc: subprocess.Popen | None = None
        self._log = None

    def start(self) -> "LiveServer":
        return self.launch().wait()

    def launch(self) -> "LiveServer":
        """Start gunicorn without waiting for it (several servers can then boot side by side)."""
        env = {**os.environ, **self.env, "WEB_CONCURRENCY": str(self.workers)}
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self._log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [gunicorn, "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{self.port}", self.app],
            cwd=ROOT, env=env, stdout=self._log, stderr=self._log,
        )
        return self

    def wait(self) -> "LiveServer":
        """Until gunicorn listens and a worker answers /health."""
        wait_for_port(self.port, timeout=30, proc=self.proc)
        self._wait_until_serving()
        return self

    def _wait_until_serving(self, timeout: float = 60) -> None:
        """The master listens before its worker has booted and warmed up: wait for an answer."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=5) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"PaCo did not answer /health within {timeout}s")

    def stop(self) -> None:
        stop_process(self.proc, grace=10)
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()

    def request(self, method: str, path: str, body=None, headers=None):
        """A plain HTTP call; returns (status, parsed JSON or text, headers)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=15) as resp:
                status, raw, hdrs = resp.status, resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            status, raw, hdrs = err.code, err.read(), err.headers
        try:
            return status, json.loads(raw), hdrs
        except ValueError:
            return status, raw.decode(errors="replace"), hdrs

    def worker_pids(self) -> list[int]:
        """gunicorn's workers under this server's master."""
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True).stdout
        return [int(pid) for pid in out.split()]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
