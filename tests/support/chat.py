"""A real WebSocket client for the chat socket, plus sign-in over HTTP against a live server."""
from __future__ import annotations

import json
import time

import websocket

from tests.support.server import LiveServer

WS_PATH = "/api/v1/chat/ws/chat"


def sign_in(server: LiveServer, research_id: str = "RID001") -> str:
    status, body, _ = server.request("POST", "/api/v1/auth/acknowledge-disclaimer", {"research_id": research_id})
    assert status == 200, body
    status, body, _ = server.request("POST", "/api/v1/auth/login", {"research_id": research_id})
    assert status == 200, body
    return body["access_token"]


class ChatClient:
    def __init__(self, server: LiveServer, token: str | None = None, research_id: str = "RID001", **options):
        self.token = token
        self.research_id = research_id
        # UTF-8 is checked by json.loads anyway; websocket-client would check it again, in pure Python.
        self.ws = websocket.create_connection(server.ws_url + WS_PATH, timeout=20, skip_utf8_validation=True,
                                              **options)

    def send(self, frame) -> None:
        if isinstance(frame, bytes):
            self.ws.send_binary(frame)  # websocket-client would send bytes as a text frame
        else:
            self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    def ask(self, message: str, conversation_id: str = "conv-1", **extra) -> None:
        frame = {"token": self.token, "research_id": self.research_id, "conversation_id": conversation_id,
                 "message": message, **extra}
        self.send({k: v for k, v in frame.items() if v is not None})

    def recv(self, timeout: float = 20) -> dict:
        self.ws.settimeout(timeout)
        return json.loads(self.ws.recv())

    def turn(self, timeout: float = 30) -> list[dict]:
        """Frames until the turn's audio is closed (or a terminal error), in arrival order."""
        frames = []
        deadline = time.monotonic() + timeout
        while True:
            frame = self.recv(max(0.1, deadline - time.monotonic()))
            frames.append(frame)
            if frame["type"] in ("audio_end", "audio_error"):
                return frames  # always a turn's last frame once its question was saved
            if frame["type"] == "error" and not any(f["type"] == "user_message_saved" for f in frames):
                return frames  # the frame was refused: no turn

    def closed_with(self, timeout: float = 10) -> tuple[int, list[dict]]:
        """Read until the server closes the socket: (its close code, the frames before it)."""
        frames, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            opcode, data = self.ws.recv_data(control_frame=True)
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return (int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005), frames
            if opcode == websocket.ABNF.OPCODE_TEXT:
                frames.append(json.loads(data))
        raise AssertionError(f"the server did not close the socket; frames: {frames}")

    def ping(self) -> dict:
        self.send({"type": "ping"})
        return self.recv(5)

    def close(self) -> None:
        self.ws.close()


def drain(client: ChatClient) -> list[str]:
    """The chunks still on their way when the server died, until the connection ends."""
    chunks = []
    try:
        while True:
            frame = client.recv(timeout=5)
            if frame["type"] == "chunk":
                chunks.append(frame["content"])
    except Exception:  # reset, closed or nothing more: the server is gone
        return chunks


def types(frames: list[dict]) -> list[str]:
    """Frame types with runs of chunks and audio folded, e.g. [saved, chunk, audio, complete, audio_end]."""
    folded: list[str] = []
    for frame in frames:
        kind = frame["type"]
        if kind == "user_message_saved":
            kind = "saved"
        if not folded or folded[-1] != kind or kind not in ("chunk", "audio"):
            folded.append(kind)
    return folded
