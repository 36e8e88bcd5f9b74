from tests.chat.conftest import chat, chat_server, standins  # noqa: F401  (the live chat server)
