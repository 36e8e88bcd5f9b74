"""Access changes reach every instance through Redis (paco.broadcast): a process publishes the
ones it makes, and re-sends locally what other processes published (never its own)."""
from __future__ import annotations

import json
import os
import time
import uuid

import pytest

from paco import broadcast
from paco.services import events


@pytest.fixture
def redis_url():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    return url


def test_an_access_change_is_published_with_this_process_as_its_origin(make_app, redis_url):
    import redis

    prefix = f"paco-test-{uuid.uuid4().hex[:8]}"
    app = make_app(REDIS_URL=redis_url, PACO_REDIS_PREFIX=prefix)
    subscriber = redis.Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    subscriber.subscribe(broadcast.channel(app.config))
    events.access_changed.send("RID004")
    events.access_changed.send("RID005", remote=True)  # heard from elsewhere: not published again
    deadline, heard = time.monotonic() + 5, []
    while time.monotonic() < deadline and len(heard) < 1:
        message = subscriber.get_message(timeout=0.5)
        if message:
            heard.append(json.loads(message["data"]))
    assert subscriber.get_message(timeout=0.5) is None
    assert heard == [{"event": "access_changed", "research_id": "RID004", "origin": broadcast.origin()}]
    subscriber.close()


def test_what_another_process_published_is_sent_here_marked_remote():
    heard = []

    def receiver(research_id, **extra):
        heard.append((research_id, extra))

    events.access_changed.connect(receiver)
    try:
        broadcast._received(json.dumps({"event": "access_changed", "research_id": "RID006", "origin": "elsewhere"}))
        broadcast._received(json.dumps({"event": "access_changed", "research_id": "RID007",
                                        "origin": broadcast.origin()}))
        broadcast._received(b"not json")
    finally:
        events.access_changed.disconnect(receiver)
    assert heard == [("RID006", {"remote": True})]
