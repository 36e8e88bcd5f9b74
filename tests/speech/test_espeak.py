import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from paco.speech.espeak import EspeakTTS, _engine, encode_mp3
from paco.speech.pronunciations import PRONUNCIATION_VERSION, apply_pronunciations
from paco.speech.providers import TTSError, TTSProvider
from tests.speech import mp3_duration, mp3_frames

ROOT = Path(__file__).resolve().parents[2]
SENTENCE_20 = ("Walking every day helps your legs, and taking your medicine as prescribed "
               "lowers the risk of heart attack and stroke.")


def test_mp3_is_22050_hz_32_kbps_mono_and_lasts_like_speech():
    tts = EspeakTTS()
    assert isinstance(tts, TTSProvider)
    assert (tts.name, tts.voice, tts.output_format) == ("espeak", "en-us", "mp3_22050_32")
    short = tts.synthesize(SENTENCE_20)
    long = tts.synthesize(" ".join([SENTENCE_20] * 6))
    assert short[:2] == b"\xff\xf3"  # frame sync, MPEG-2 Layer III, no ID3 tag
    assert set(mp3_frames(short)) == {(22050, 32, 1)}
    assert set(mp3_frames(long)) == {(22050, 32, 1)}
    seconds = mp3_duration(short)
    assert 20 / 155 * 60 * 0.6 < seconds < 20 / 155 * 60 * 1.5  # ~155 words a minute
    assert 4.5 < mp3_duration(long) / seconds < 7.5
    assert 0.8 < len(short) / (seconds * 32000 / 8) < 1.2  # constant 32 kbps


def close_to(a, b, tolerance=0.05):
    # espeak-ng is not bit-for-bit repeatable (its wave generator carries state from one
    # utterance to the next), so the same text is compared by duration.
    return abs(mp3_duration(a) - mp3_duration(b)) <= tolerance * mp3_duration(b)


def test_pool_and_direct_calls_both_work():
    # Outside gevent the default is a direct call; the pool path must work there too.
    direct = EspeakTTS(use_pool=False).synthesize("Take your medicine every day.")
    pooled = EspeakTTS(use_pool=True).synthesize("Take your medicine every day.")
    default = EspeakTTS().synthesize("Take your medicine every day.")
    assert close_to(pooled, direct) and close_to(default, direct)


def test_pronunciations_are_applied_before_synthesis(monkeypatch):
    text = "Take cilostazol and clopidogrel as your doctor says, not PAD pills."
    spoken = apply_pronunciations(text)
    assert "cilostazol" not in spoken and "[[" in spoken and "P.A.D" in spoken
    seen = []
    real = _engine.synth
    monkeypatch.setattr(_engine, "synth", lambda t, *a: seen.append(t) or real(t, *a))
    mp3_frames(EspeakTTS().synthesize(text))
    assert seen == [spoken]
    # and espeak really reads the phoneme input rather than the brackets
    assert mp3_duration(encode_mp3(real("[[sIl'oUst@z,0l]]", "en-us", 155))) < 1.5


@pytest.mark.parametrize("text, spoken", [
    ("CILOSTAZOL daily", "[[sIl'oUst@z,0l]] daily"),
    ("P.A.D. and PAD but a heating pad", "P.A.D and P.A.D but a heating pad"),
    ("Take 81 mg or 100mcg", "Take 81 milligrams or 100 micrograms"),
    ("Call 1-800-QUIT-NOW.", "Call 1 800 QUIT NOW."),
    ("Call 800-784-8669", "Call 8 0 0, 7 8 4, 8 6 6 9"),
    ("Walk 3-4 times, e.g. daily", "Walk 3 to 4 times, for example daily"),
    ("injected [[phonemes]] are dropped", "injected phonemes are dropped"),
    ("Your ABI is fine", "Your A.B.I is fine"),
])
def test_pronunciation_list(text, spoken):
    assert apply_pronunciations(text) == spoken


def test_model_name_tracks_the_pronunciation_list_and_rate():
    assert EspeakTTS().model == f"espeak-ng/155wpm/pron-{PRONUNCIATION_VERSION}"
    assert EspeakTTS(rate_wpm=140).model != EspeakTTS().model


def test_errors_are_tts_errors():
    with pytest.raises(TTSError) as exc:
        EspeakTTS().synthesize("   ")
    assert exc.value.reason == "empty text"
    for use_pool in (False, True):  # an error in the pool thread reaches the caller too
        with pytest.raises(TTSError) as exc:
            EspeakTTS(voice="no-such-voice", use_pool=use_pool).synthesize("Hello.")
        assert exc.value.reason == "engine"
    mp3_frames(EspeakTTS().synthesize("Still works after a bad voice."))
    with pytest.raises(ValueError):
        EspeakTTS(output_format="pcm_16000")


def test_native_threads_are_serialised_safely():
    tts = EspeakTTS()
    texts = [f"Sentence number {i} is about walking." for i in range(4)]
    expected = {t: tts.synthesize(t) for t in texts}
    results, errors = [], []

    def worker(n):
        try:
            for i in range(5):
                t = texts[(n + i) % 4]
                results.append((t, tts.synthesize(t)))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(results) == 30
    assert all(close_to(audio, expected[t]) for t, audio in results)


GEVENT_SCRIPT = r"""
from gevent import monkey
monkey.patch_all()
import json, sys, time
import gevent
from paco.speech.espeak import EspeakTTS
from tests.speech import mp3_duration, mp3_frames

tts = EspeakTTS(use_pool=None if sys.argv[1] == "auto" else False)
words = "Walking every day helps your legs and your heart".split()
texts = [" ".join(words[:5 + i % 5] * (1 + i % 4)) + "." for i in range(40)]
gaps, running = [], True

def ticker():
    last = time.perf_counter()
    while running:
        gevent.sleep(0.001)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now

tick = gevent.spawn(ticker)
gevent.sleep(0.05)
start = time.perf_counter()
jobs = [gevent.spawn(tts.synthesize, t) for t in texts]
gevent.joinall(jobs, raise_error=True)
elapsed = time.perf_counter() - start
running = False
tick.join()
frames = [len(mp3_frames(j.value)) for j in jobs]
same = all(abs(mp3_duration(jobs[i].value) - mp3_duration(jobs[i + 20].value)) < 0.1
           for i in range(20))  # texts repeat every 20
print(json.dumps({"max_gap_ms": max(gaps) * 1000, "elapsed_s": elapsed, "count": len(jobs),
                  "all_valid": all(frames), "repeatable": same}))
"""


def run_gevent_script(mode):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", GEVENT_SCRIPT, mode], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_under_gevent_many_greenlets_do_not_crash_or_block_the_loop():
    result = run_gevent_script("auto")
    print("espeak under gevent, pool:", result)
    assert result["count"] == 40 and result["all_valid"] and result["repeatable"]
    # The first call loads the library; the rest run off the loop. Measured ~3-6 ms here,
    # against 100+ ms when called directly on the loop.
    assert result["max_gap_ms"] < 50
