"""Offline text-to-speech: libespeak-ng (espeakng-loader wheel) through ctypes, MP3 via lameenc.

libespeak-ng keeps global state and is not thread-safe (concurrent calls crash with a double
free), so there is one process-wide engine behind a native lock. Under gevent the C call would
stall the event loop for every other connection, so it runs in a private one-thread pool; the
hub's shared pool is left to gevent's own DNS and file work.
"""
from __future__ import annotations

import ctypes
import re

from .base import TTSError
from .pronunciations import PRONUNCIATION_VERSION, apply_pronunciations

SAMPLE_RATE = 22050
DEFAULT_RATE_WPM = 155  # espeak's default is 175; older listeners follow a slower voice better

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_ENDPAUSE = 0x1000  # a short silence after each sentence, so consecutive clips do not run together
_PHONEMES = 0x100   # [[...]] in the text is phoneme input (our drug names only)
_PARAM_RATE = 1
_BUFFER_MS = 1000   # audio per callback: fewer callbacks, fewer GIL round trips

_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)


def _native_lock():
    # gevent's patched Lock would not exclude a pool thread from another native thread.
    from gevent import monkey
    return monkey.get_original("_thread", "allocate_lock")()


def encode_mp3(pcm: bytes, sample_rate: int = SAMPLE_RATE, kbps: int = 32,
               out_rate: int | None = None) -> bytes:
    """16-bit mono PCM to constant-bitrate MP3 (quality 7: fast, fine for speech)."""
    import lameenc

    encoder = lameenc.Encoder()
    encoder.set_bit_rate(kbps)
    encoder.set_in_sample_rate(sample_rate)
    # Without this LAME may pick a lower output rate for a low bitrate.
    encoder.set_out_sample_rate(out_rate or sample_rate)
    encoder.set_channels(1)
    encoder.set_quality(7)
    return bytes(encoder.encode(pcm) + encoder.flush())


class _Engine:
    """The process-wide libespeak-ng instance. Call synth() only with _lock held."""

    def __init__(self):
        self._lock = _native_lock()
        self._lib = None
        self._pcm = bytearray()
        self._voice = None
        self._rate = None
        # ctypes does not keep the callback alive: libespeak would call freed memory.
        self._callback = _SYNTH_CALLBACK(self._on_audio)

    def _on_audio(self, wav, numsamples, events):
        if wav and numsamples > 0:
            self._pcm += ctypes.string_at(wav, numsamples * 2)
        return 0

    def _load(self):
        import espeakng_loader

        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        data_path = espeakng_loader.get_data_path().encode()
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path,
                                     _INITIALIZE_DONT_EXIT)
        if rate != SAMPLE_RATE:
            raise TTSError("engine", f"espeak_Initialize returned {rate}")
        lib.espeak_SetSynthCallback(self._callback)
        self._lib = lib

    def synth(self, text: str, voice: str, rate_wpm: int) -> bytes:
        """16-bit PCM at SAMPLE_RATE for text."""
        with self._lock:
            if self._lib is None:
                self._load()
            lib = self._lib
            if voice != self._voice:
                if lib.espeak_SetVoiceByName(voice.encode()) != 0:
                    raise TTSError("engine", f"unknown espeak voice {voice!r}")
                self._voice, self._rate = voice, None  # a new voice resets the rate
            if rate_wpm != self._rate:
                lib.espeak_SetParameter(_PARAM_RATE, rate_wpm, 0)
                self._rate = rate_wpm
            data = ctypes.create_string_buffer(text.encode())
            self._pcm = bytearray()
            err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0,
                                   _CHARS_UTF8 | _ENDPAUSE | _PHONEMES, None, None)
            pcm, self._pcm = bytes(self._pcm), bytearray()
        if err != 0:
            raise TTSError("engine", f"espeak_Synth returned {err}")
        return pcm


_engine = _Engine()
_pool = None
_pool_thread = None


def _offload(func, *args, use_pool: bool | None = None):
    """Run func in the private pool when greenlets share this thread, else call it directly."""
    global _pool, _pool_thread
    from gevent import monkey

    if use_pool is None:
        use_pool = monkey.is_module_patched("threading")
    if not use_pool:
        return func(*args)
    ident = monkey.get_original("_thread", "get_ident")()
    if _pool is None:
        from gevent.threadpool import ThreadPool
        _pool, _pool_thread = ThreadPool(1), ident
    if ident != _pool_thread:
        return func(*args)  # a pool belongs to one thread's hub; other native threads may block
    return _pool.apply(func, args)


def _output_params(output_format: str) -> tuple[int, int]:
    m = re.fullmatch(r"mp3_(\d+)_(\d+)", output_format)
    if not m:
        raise ValueError(f"espeak can only produce mp3_<rate>_<kbps>, not {output_format!r}")
    return int(m.group(1)), int(m.group(2))


class EspeakTTS:
    name = "espeak"

    def __init__(self, voice: str = "en-us", output_format: str = "mp3_22050_32",
                 rate_wpm: int = DEFAULT_RATE_WPM, use_pool: bool | None = None):
        self.voice = voice
        self.output_format = output_format
        self.rate_wpm = rate_wpm
        self.use_pool = use_pool  # None: decide per call (pool only when gevent patched threads)
        self._out_rate, self._kbps = _output_params(output_format)
        # The model names everything that changes the audio besides voice and format, so the
        # audio cache key changes when the pronunciation list or the speaking rate does.
        self.model = f"espeak-ng/{rate_wpm}wpm/pron-{PRONUNCIATION_VERSION}"

    def warm_up(self) -> None:
        """Load the library and its voice data now rather than on a participant's first sentence."""
        self.synthesize("Hello.")

    def synthesize(self, text: str) -> bytes:
        spoken = apply_pronunciations(text).strip()
        if not spoken:
            raise TTSError("empty text")
        return _offload(self._synthesize, spoken, use_pool=self.use_pool)

    def _synthesize(self, spoken: str) -> bytes:
        pcm = _engine.synth(spoken, self.voice, self.rate_wpm)
        if not pcm:
            raise TTSError("engine", "no audio produced")
        try:
            return encode_mp3(pcm, SAMPLE_RATE, self._kbps, self._out_rate)
        except Exception as exc:  # lameenc raises bare RuntimeErrors
            raise TTSError("engine", f"mp3 encoding failed: {exc}") from exc
