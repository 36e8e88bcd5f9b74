"""Frames are written whole even when the peer reads slowly (partial socket writes)."""
from __future__ import annotations

import socket
import threading

from paco.chat.outbox import WholeFrameSocket


def _slow_pair():
    server, client = socket.socketpair()
    server.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    server.settimeout(10)  # non-blocking underneath, like a gevent socket: send() may be partial
    return server, client


def _drain(sock, size, out):
    while len(out) < size:
        out.extend(sock.recv(1024))


def test_plain_send_can_cut_a_frame_and_whole_frame_socket_does_not():
    frame = bytes(range(256)) * 800  # 200 kB, an audio frame and then some
    server, client = _slow_pair()
    sent = server.send(frame)
    assert sent < len(frame), "the kernel took the whole frame at once; the test proves nothing"
    server.close()
    client.close()

    server, client = _slow_pair()
    received = bytearray()
    reader = threading.Thread(target=_drain, args=(client, 2 * len(frame), received))
    reader.start()
    whole = WholeFrameSocket(server)
    assert whole.send(frame) == len(frame)
    assert whole.send(frame[::-1]) == len(frame)
    reader.join(10)
    assert bytes(received) == frame + frame[::-1]
    assert whole.fileno() == server.fileno()  # everything else is the socket's own
    server.close()
    client.close()
