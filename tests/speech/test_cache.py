import os
import threading
import uuid

import pytest
import redis

from paco.speech.cache import AudioCache, is_valid_key

KEY_ARGS = ("elevenlabs", "9BWtsMINqrJLrRacOk9x", "eleven_flash_v2_5", "mp3_22050_32")


def test_key_is_stable_and_normalises_text():
    key = AudioCache.key(*KEY_ARGS, "Take your medicine every day.")
    # Pinned: a change here silently invalidates every cached file and audio URL.
    assert key == "be34992057503390f945cf9c65cb70e17a8517bd2716c369ff92610932ddd13a"
    assert AudioCache.key(*KEY_ARGS, "  TAKE your\tmedicine\n every day. ") == key
    assert is_valid_key(key)


@pytest.mark.parametrize("change", range(5))
def test_every_field_changes_the_key(change):
    args = list(KEY_ARGS) + ["Hello."]
    base = AudioCache.key(*args)
    args[change] += "x"
    assert AudioCache.key(*args) != base


def test_fields_cannot_run_into_each_other():
    assert AudioCache.key("a b", "c", "m", "f", "t") != AudioCache.key("a", "b c", "m", "f", "t")


@pytest.mark.parametrize("key, valid", [
    ("a" * 64, True),
    ("0123456789abcdef" * 4, True),
    ("A" * 64, False),
    ("a" * 63, False),
    ("a" * 65, False),
    ("g" * 64, False),
    ("../" + "a" * 61, False),
    ("a" * 64 + "\n", False),
    (None, False),
    (b"a" * 64, False),
])
def test_is_valid_key(key, valid):
    assert is_valid_key(key) is valid


def test_filesystem_round_trip_and_layout(tmp_path):
    cache = AudioCache(tmp_path)
    key = AudioCache.key(*KEY_ARGS, "Hello.")
    assert cache.get(key) is None
    cache.put(key, b"ID3fake-mp3")
    assert cache.get(key) == b"ID3fake-mp3"
    assert cache.path_for(key) == tmp_path / key[:2] / f"{key}.mp3"
    assert sorted(p.name for p in (tmp_path / key[:2]).iterdir()) == [f"{key}.mp3"]
    cache.put(key, b"")  # never cache nothing
    assert cache.get(key) == b"ID3fake-mp3"
    with pytest.raises(ValueError):
        cache.get("../../etc/passwd")
    with pytest.raises(ValueError):
        cache.put("A" * 64, b"x")


def test_failed_write_leaves_neither_file_nor_temp(tmp_path, monkeypatch):
    cache = AudioCache(tmp_path)
    key = "ab" + "c" * 62

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    cache.put(key, b"audio")  # logged, not raised: a cache failure only costs a resynthesis
    monkeypatch.undo()
    assert cache.get(key) is None
    assert list((tmp_path / "ab").iterdir()) == []


def test_readers_never_see_a_partial_file(tmp_path):
    cache = AudioCache(tmp_path)
    key = "cd" + "e" * 62
    payloads = [bytes([n]) * 2_000_000 for n in (1, 2)]
    seen, stop = set(), threading.Event()

    def writer():
        for i in range(30):
            cache.put(key, payloads[i % 2])
        stop.set()

    def reader():
        while not stop.is_set():
            audio = cache.get(key)
            if audio is not None:
                seen.add(audio in payloads)

    threads = [threading.Thread(target=f) for f in (writer, reader, reader)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert seen == {True}
    assert [p.name for p in (tmp_path / "cd").iterdir()] == [f"{key}.mp3"]


@pytest.fixture
def redis_client():
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    prefix = f"paco-test:{uuid.uuid4().hex}:audio:"
    yield client, prefix
    for k in client.scan_iter(match=prefix + "*"):
        client.delete(k)
    client.close()


def test_redis_keeps_the_index_and_the_shared_directory_the_audio(tmp_path, redis_client, caplog):
    client, prefix = redis_client
    shared = tmp_path / "shared"
    one = AudioCache(shared, client, ttl_seconds=600, redis_prefix=prefix)
    two = AudioCache(shared, client, ttl_seconds=600, redis_prefix=prefix)  # another instance, same mount
    key = AudioCache.key(*KEY_ARGS, "Shared between instances.")
    one.put(key, b"shared-audio")
    assert client.get(prefix + key) == b"12"  # the size: the audio itself is not in Redis
    assert 0 < client.ttl(prefix + key) <= 600
    assert two.get(key) == b"shared-audio"
    assert two.get("f" * 64) is None
    alone = AudioCache(tmp_path / "not-shared", client, ttl_seconds=600, redis_prefix=prefix)
    with caplog.at_level("WARNING", logger="paco.speech.cache"):
        assert alone.get(key) is None  # synthesised again, and the misconfiguration is said
    assert "PACO_AUDIO_CACHE_DIR must be a directory every instance shares" in caplog.text


def test_unreachable_redis_falls_back_to_files_and_is_left_alone(tmp_path, monkeypatch):
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from tests.standins.base import free_port

    dead = redis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5,
                       retry=Retry(NoBackoff(), 0))
    calls = []
    real_exists = dead.exists
    monkeypatch.setattr(dead, "exists", lambda *a: calls.append(a) or real_exists(*a))
    cache = AudioCache(tmp_path, dead)
    key = "0" * 64
    assert cache.get(key) is None
    cache.put(key, b"audio")
    assert cache.get(key) == b"audio"
    assert cache.get("1" * 64) is None
    assert len(calls) == 1  # one failure, then Redis is skipped for a while
