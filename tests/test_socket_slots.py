"""Socket caps counted in Redis (paco.services.socket_slots): one cap across every worker and
instance, slots given back on close, a dead worker's slots lapse, and no Redis means no lock-out."""
from __future__ import annotations

import os
import time
import uuid

import pytest
import redis

from paco.services.socket_slots import SocketSlots


@pytest.fixture
def client():
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("TEST_REDIS_URL is not set")
    connection = redis.Redis.from_url(url, socket_timeout=2)
    prefix = f"paco-test-{uuid.uuid4().hex[:8]}"
    yield connection, prefix
    for key in connection.scan_iter(f"{prefix}:*"):
        connection.delete(key)


def test_one_cap_holds_across_instances_and_a_closed_socket_frees_its_slot(client):
    connection, prefix = client
    a, b = SocketSlots(connection, prefix), SocketSlots(connection, prefix)  # two instances
    assert a.take("rid", "RID001", "a:1", 2) and b.take("rid", "RID001", "b:1", 2)
    assert not a.take("rid", "RID001", "a:2", 2)
    assert a.take("rid", "RID001", "a:1", 2)  # a slot already held is kept, not counted twice
    assert a.take("rid", "RID002", "a:2", 2)  # another participant has slots of their own
    b.give_back("rid", "RID001", "b:1")
    assert a.take("rid", "RID001", "a:3", 2) and a.held("rid", "RID001") == 2


def test_a_dead_workers_slots_lapse_and_renewed_ones_do_not(client):
    connection, prefix = client
    dead, alive = SocketSlots(connection, prefix, ttl_seconds=0.6), SocketSlots(connection, prefix, ttl_seconds=0.6)
    assert dead.take("ip", "10.0.0.1", "dead:1", 2) and alive.take("ip", "10.0.0.1", "alive:1", 2)
    for _ in range(3):
        time.sleep(0.3)
        alive.renew([("ip", "10.0.0.1", "alive:1")])
    assert alive.held("ip", "10.0.0.1") == 1
    assert alive.take("ip", "10.0.0.1", "alive:2", 2)


def test_without_redis_nobody_is_locked_out():
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, socket_timeout=0.2)
    slots = SocketSlots(unreachable, "paco-test")
    assert slots.take("rid", "RID001", "a:1", 1) and slots.take("rid", "RID001", "a:2", 1)
    slots.give_back("rid", "RID001", "a:1")
    slots.renew([("rid", "RID001", "a:2")])
