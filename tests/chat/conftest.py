"""A live PaCo server wired to stand-in OpenAI and ElevenLabs servers, one per module and engine."""
from __future__ import annotations

import shutil
from types import SimpleNamespace

import pytest

from tests.standins.base import StandInProcess
from tests.support.chat import ChatClient, sign_in
from tests.support.server import LiveServer


@pytest.fixture(scope="module")
def standins():
    openai = StandInProcess("tests.standins.openai_server").start()
    eleven = StandInProcess("tests.standins.elevenlabs_server").start()
    yield SimpleNamespace(openai=openai, eleven=eleven)
    openai.stop()
    eleven.stop()


def server_env(standins, tmp_path, **overrides) -> dict:
    env = {
        "PACO_LLM_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-test-standin",
        "OPENAI_BASE_URL": standins.openai.url + "/v1",
        "PACO_TTS_PROVIDER": "elevenlabs",
        "ELEVENLABS_API_KEY": "el-test-standin",
        "ELEVENLABS_BASE_URL": standins.eleven.url,
        "PACO_LLM_FIRST_TOKEN_TIMEOUT": "2",
        "PACO_LLM_IDLE_TIMEOUT": "1",
        "PACO_TTS_TIMEOUT": "3",
        "PACO_CURATED_DELAY_MS": "0",
        "PACO_AUDIO_CACHE_DIR": str(tmp_path / "audio"),
        "PACO_LOG_LEVEL": "INFO",
        # The second safety opinion has tests of its own (test_ws_second_opinion.py); elsewhere the
        # stand-in's requests are the answers' alone.
        "PACO_SAFETY_SECOND_OPINION": "off",
        # Each test signs in afresh from one address; sign-in limits have tests of their own.
        "PACO_RATE_LIMIT_AUTH": "1000/minute",
        # Likewise check-ins and speech on demand, whose per-ID limits are tested in tests/test_checkins_api.py.
        "PACO_RATE_LIMIT_CHECKINS": "1000/minute",
        "PACO_RATE_LIMIT_SPEECH": "1000/minute",
    }
    env.update(overrides)
    return env


def start_server(database_url, standins, tmp, **overrides) -> LiveServer:
    """A live PaCo on this run's database and the stand-ins, with settings changed for a test."""
    return LiveServer({"DATABASE_URL": database_url, **server_env(standins, tmp, **overrides)},
                      log_path=str(tmp / "server.log")).start()


@pytest.fixture(scope="module")
def chat_server(database_url, standins, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chat-server")
    server = start_server(database_url, standins, tmp)
    server.audio_dir = tmp / "audio"
    yield server
    server.stop()


@pytest.fixture
def chat(chat_server, standins, make_app):
    """A clean database with the demo IDs, reset stand-ins, and helpers to sign in and connect."""
    from paco.extensions import db
    from paco.services.demo import load_demo

    standins.openai.reset()
    standins.eleven.reset()
    shutil.rmtree(chat_server.audio_dir, ignore_errors=True)  # each test starts with no cached audio
    app = make_app()
    with app.app_context():
        load_demo()
        db.session.remove()
    clients = []

    def connect(research_id="RID001", signed_in=True, **options):
        token = sign_in(chat_server, research_id) if signed_in else None
        client = ChatClient(chat_server, token, research_id, **options)
        clients.append(client)
        return client

    yield SimpleNamespace(server=chat_server, app=app, openai=standins.openai, eleven=standins.eleven,
                          connect=connect)
    for client in clients:
        client.close()
