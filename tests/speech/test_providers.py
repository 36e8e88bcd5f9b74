import pytest

from paco.speech.espeak import EspeakTTS
from paco.speech.providers import ElevenLabsTTS, TTSError, TTSProvider, build_tts_provider


def test_espeak_is_the_default():
    provider = build_tts_provider({})
    assert isinstance(provider, EspeakTTS) and isinstance(provider, TTSProvider)
    assert (provider.name, provider.voice, provider.output_format) == ("espeak", "en-us",
                                                                      "mp3_22050_32")
    assert build_tts_provider({"PACO_TTS_PROVIDER": "espeak", "PACO_TTS_VOICE": "en-gb"}).voice \
        == "en-gb"


def test_none_disables_speech():
    assert build_tts_provider({"PACO_TTS_PROVIDER": "none"}) is None
    assert build_tts_provider({"PACO_TTS_PROVIDER": " None "}) is None


def test_elevenlabs_defaults_and_overrides():
    provider = build_tts_provider({"PACO_TTS_PROVIDER": "elevenlabs", "ELEVENLABS_API_KEY": "k"})
    assert isinstance(provider, ElevenLabsTTS)
    assert (provider.name, provider.voice, provider.model, provider.output_format) == (
        "elevenlabs", "9BWtsMINqrJLrRacOk9x", "eleven_flash_v2_5", "mp3_22050_32")
    assert provider.base_url == "https://api.elevenlabs.io"
    assert (provider.connect_timeout, provider.timeout) == (3.0, 15.0)
    provider = build_tts_provider({
        "PACO_TTS_PROVIDER": "elevenlabs", "ELEVENLABS_API_KEY": "k",
        "ELEVENLABS_BASE_URL": "http://127.0.0.1:9/", "PACO_TTS_VOICE": "v",
        "PACO_TTS_MODEL": "eleven_multilingual_v2", "PACO_TTS_FORMAT": "mp3_44100_64",
        "PACO_TTS_CONNECT_TIMEOUT": "0.5", "PACO_TTS_TIMEOUT": "4"})  # env values are strings
    assert (provider.base_url, provider.voice, provider.model, provider.output_format) == (
        "http://127.0.0.1:9", "v", "eleven_multilingual_v2", "mp3_44100_64")
    assert (provider.connect_timeout, provider.timeout) == (0.5, 4.0)


def test_configuration_errors_name_the_setting():
    with pytest.raises(ValueError, match="ELEVENLABS_API_KEY"):
        build_tts_provider({"PACO_TTS_PROVIDER": "elevenlabs"})
    with pytest.raises(ValueError, match="PACO_TTS_PROVIDER"):
        build_tts_provider({"PACO_TTS_PROVIDER": "polly"})


def test_tts_error_carries_a_short_reason():
    err = TTSError("http 500", "internal_server_error")
    assert err.reason == "http 500" and str(err) == "http 500: internal_server_error"
    assert str(TTSError("timeout")) == "timeout"
