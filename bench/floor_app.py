"""The stack's floor: what Flask + flask-sock under gunicorn's gevent worker cost to relay the
OpenAI SDK's stream, with none of PaCo's work (no sign-in check, database, safety or speech).

Served by bench.stack_floor with the same gunicorn settings as PaCo. The provider is PaCo's
own (same SDK calls, same SSE decoding); FLOOR_HTTP=httpx2 swaps its transport back to the
SDK's default, to show what the transport changes.
"""
from gevent import monkey

monkey.patch_all()

import os  # noqa: E402

import openai  # noqa: E402
from flask import Flask  # noqa: E402
from flask_sock import Sock  # noqa: E402

from paco.assistant.providers.openai_compat import OpenAICompatibleProvider  # noqa: E402
from paco.chat.frames import encode  # noqa: E402

app = Flask(__name__)
sock = Sock(app)
provider = OpenAICompatibleProvider("openai", "sk-floor", os.environ["OPENAI_BASE_URL"], "gpt-4o", [],
                                    connect_timeout=3, read_timeout=30, max_tokens=300)
if os.environ.get("FLOOR_HTTP") == "httpx2":
    provider.client = openai.OpenAI(api_key="sk-floor", base_url=os.environ["OPENAI_BASE_URL"], max_retries=0,
                                    timeout=openai.Timeout(30, connect=3))
MESSAGES = [{"role": "user", "content": "What is P.A.D.?"}]


@app.get("/health")
def health():
    return {"status": "healthy"}


@sock.route("/api/v1/chat/ws/chat")
def chat(ws):
    while True:
        ws.receive()
        for delta in provider.stream(MESSAGES, "gpt-4o"):
            ws.send(encode({"type": "chunk", "content": delta}))
        ws.send(encode({"type": "audio_end", "count": 0}))
