"""The ElevenLabs provider, through the real SDK, against the stand-in server."""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from paco.speech.providers import ElevenLabsTTS, TTSError, TTSProvider, _sdk_client
from tests.speech import mp3_duration, mp3_frames
from tests.standins.base import StandInProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
KEY = "test-key-123"


@pytest.fixture(scope="module")
def standin():
    with StandInProcess("tests.standins.elevenlabs_server", {"require_key": KEY}) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(standin):
    standin.reset()


def tts(standin, **kw):
    kw.setdefault("timeout", 1.0)
    kw.setdefault("connect_timeout", 1.0)
    return ElevenLabsTTS(api_key=kw.pop("api_key", KEY), base_url=standin.url, **kw)


def test_request_and_audio(standin):
    provider = tts(standin)
    assert isinstance(provider, TTSProvider)
    text = "Take cilostazol twice a day, before breakfast and dinner."
    audio = provider.synthesize(text)
    assert set(mp3_frames(audio)) == {(22050, 32, 1)}
    (req,) = standin.requests()
    assert req["method"] == "POST"
    assert req["path"] == "/v1/text-to-speech/9BWtsMINqrJLrRacOk9x/stream"
    assert req["query"] == "output_format=mp3_22050_32"
    assert req["headers"]["xi-api-key"] == KEY
    assert req["json"]["text"] == text  # no espeak pronunciation fixes for ElevenLabs
    assert req["json"]["model_id"] == "eleven_flash_v2_5"
    longer = provider.synthesize(text * 4)
    assert 3 < mp3_duration(longer) / mp3_duration(audio) < 5


def test_voice_model_and_format_are_passed(standin):
    provider = tts(standin, voice="voice-x", model="eleven_multilingual_v2",
                   output_format="mp3_44100_128")
    assert set(mp3_frames(provider.synthesize("Hello."))) == {(44100, 128, 1)}
    (req,) = standin.requests()
    assert req["path"] == "/v1/text-to-speech/voice-x/stream"
    assert req["query"] == "output_format=mp3_44100_128"
    assert req["json"]["model_id"] == "eleven_multilingual_v2"


@pytest.mark.parametrize("behaviour, reason", [
    ({"fault": "http_500"}, "http 500"),
    ({"fault": "http_429"}, "http 429"),
    ({"fault": "drop"}, "connection"),
    ({"fault": "stall"}, "timeout"),
    ({"fault": "slow", "slow_ms": 300}, "timeout"),
    ({"first_byte_ms": 3000}, "timeout"),
])
def test_faults_become_tts_errors_within_the_timeout(standin, behaviour, reason):
    standin.configure(**behaviour)
    start = time.monotonic()
    with pytest.raises(TTSError) as exc:
        tts(standin).synthesize("This sentence will fail.")
    assert exc.value.reason == reason
    # timeout 1 s; outside gevent a trickle is noticed at the next chunk (+0.3 s)
    assert time.monotonic() - start < 2.5


def test_wrong_key_is_http_401_with_the_api_status(standin):
    with pytest.raises(TTSError) as exc:
        tts(standin, api_key="wrong").synthesize("Hello.")
    assert exc.value.reason == "http 401"
    assert "invalid_api_key" in str(exc.value)


def test_nothing_listening_is_a_connection_error():
    provider = ElevenLabsTTS(api_key=KEY, base_url=f"http://127.0.0.1:{free_port()}",
                             timeout=1.0, connect_timeout=1.0)
    with pytest.raises(TTSError) as exc:
        provider.synthesize("Hello.")
    assert exc.value.reason == "connection"


def test_one_client_per_settings_and_separate_connect_timeout(standin):
    a, b = tts(standin, connect_timeout=0.5), tts(standin, connect_timeout=0.5)
    a.synthesize("One.")
    client = _sdk_client(a.api_key, a.base_url, 0.5, 1.0)
    assert client is _sdk_client(b.api_key, b.base_url, 0.5, 1.0)
    http = client._client_wrapper.httpx_client.httpx_client
    seen = []
    http.event_hooks["request"].append(lambda request: seen.append(request.extensions["timeout"]))
    b.synthesize("Two.")
    # The SDK sends one float per request; our hook restores the distinct connect limit.
    assert seen == [{"connect": 0.5, "read": 1.0, "write": 1.0, "pool": 1.0}]


def test_sdk_yields_bytes_as_they_arrive(standin):
    # request_options chunk_size=None: no re-chunking to 1 KB, which delays the first audio.
    standin.configure(chunk_bytes=200, chunk_ms=20)
    client = _sdk_client(KEY, standin.url, 1.0, 5.0)
    chunks = list(client.text_to_speech.stream(
        "v", text="Short one.",
        output_format="mp3_22050_32", request_options={"chunk_size": None}))
    assert len(chunks) > 3 and max(map(len, chunks)) <= 200


def test_missing_key_is_a_clear_error():
    with pytest.raises(ValueError, match="ELEVENLABS_API_KEY"):
        ElevenLabsTTS(api_key="")


GEVENT_SCRIPT = r"""
from gevent import monkey
monkey.patch_all()
import json, sys, time
import gevent
from paco.speech.providers import ElevenLabsTTS, TTSError
from tests.standins.base import StandInProcess

url, key = sys.argv[1], sys.argv[2]
control = StandInProcess("x"); control.url = url
provider = ElevenLabsTTS(api_key=key, base_url=url, timeout=1.0, connect_timeout=1.0)
out = {}
provider.synthesize("Warm up.")  # imports the SDK and builds the client

control.configure(first_byte_ms=300)
start = time.monotonic()
jobs = [gevent.spawn(provider.synthesize, f"Sentence {i} of twenty.") for i in range(20)]
gevent.joinall(jobs, raise_error=True)
out["concurrent_20_s"] = time.monotonic() - start

# chunks every 0.9 s never trip the 1 s read timeout; only the total limit stops it
control.configure(first_byte_ms=0, fault="slow", slow_ms=900)
start = time.monotonic()
try:
    provider.synthesize("A slow sentence.")
except TTSError as exc:
    out["slow_reason"] = exc.reason
out["slow_s"] = time.monotonic() - start

# a caller's own gevent.Timeout is not mistaken for ours
control.configure(fault="stall")
try:
    with gevent.Timeout(0.3):
        provider.synthesize("A stalled sentence.")
except gevent.Timeout:
    out["outer_timeout"] = "propagated"
except TTSError as exc:
    out["outer_timeout"] = exc.reason
print(json.dumps(out))
"""


def test_under_gevent_requests_overlap_and_the_total_timeout_holds(standin):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", GEVENT_SCRIPT, standin.url, KEY], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print("elevenlabs under gevent:", out)
    assert out["concurrent_20_s"] < 2.0  # one after another would take 6 s
    assert out["slow_reason"] == "timeout" and out["slow_s"] < 1.6  # not 1.8 s (next chunk)
    assert out["outer_timeout"] == "propagated"

