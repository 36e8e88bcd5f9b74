"""Configuration: defaults for a laptop demo, environment overrides, strict parsing.

Every setting is read once, here, from the environment (a ``.env`` file is loaded first when
present). Values that do not parse are refused at start-up with the setting's name, rather than
discovered later as odd behaviour. ``PACO_ENV=production`` additionally refuses settings that are
only safe on a laptop.
"""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """A setting is missing, malformed or unsafe; the message names it."""


PROJECT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("PACO_INSTANCE_DIR") or PROJECT_DIR / "instance")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def env_int(name: str, default: int, minimum: int | None = None) -> int:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = env_str(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_url(raw: str | None) -> str:
    """Normalise DATABASE_URL: PostgreSQL always goes through psycopg 3 (gevent-cooperative)."""
    if raw is None:
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{INSTANCE_DIR / 'paco.db'}"
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg2://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def _instance_secret() -> str:
    """A random per-checkout secret for the laptop demo, kept in instance/ (never committed).

    Created with O_EXCL so that several gunicorn workers starting together agree on one key.
    """
    path = INSTANCE_DIR / "secret_key"
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def from_environment() -> dict:
    """Build the settings mapping from the environment."""
    try:
        from dotenv import load_dotenv

        load_dotenv(override=False)
    except ImportError:  # pragma: no cover - python-dotenv is a pinned dependency
        pass

    env = env_str("PACO_ENV", "development")
    if env not in {"development", "production", "testing"}:
        raise ConfigError(f"PACO_ENV must be development, production or testing, got {env!r}")
    secret = env_str("SECRET_KEY")
    secret_is_default = secret is None
    if secret is None and env != "production":
        secret = _instance_secret()
    db_url = database_url(env_str("DATABASE_URL"))
    openai_key = env_str("OPENAI_API_KEY")
    groq_key = env_str("GROQ_API_KEY")
    default_llm = "openai" if openai_key else ("groq" if groq_key else "curated")

    settings = {
        "PACO_ENV": env,
        "SECRET_KEY": secret,
        "PACO_SECRET_IS_DEFAULT": secret_is_default,
        "JWT_SECRET_KEY": env_str("JWT_SECRET_KEY") or secret,
        # Keys the audit chain's hashes and signs its checkpoints; never stored in the database.
        "PACO_AUDIT_KEY": env_str("PACO_AUDIT_KEY") or secret,
        # Signed checkpoints of the chain's head, one JSON line each: ship this file elsewhere.
        "PACO_AUDIT_ANCHOR_FILE": env_str("PACO_AUDIT_ANCHOR_FILE") or str(INSTANCE_DIR / "audit-anchors.jsonl"),
        "PACO_AUDIT_ANCHOR_SECONDS": env_int("PACO_AUDIT_ANCHOR_SECONDS", 60, minimum=1),
        "SQLALCHEMY_DATABASE_URI": db_url,
        # One gevent worker runs many turns at once, each holding a connection only for its
        # statements; SQLAlchemy's default pool (5 + 10 overflow, overflow closed on return)
        # opened and closed a PostgreSQL connection for most statements at 100 conversations.
        # hide_parameters: a failed statement's error (which gets logged) must never carry a
        # participant's message text or any other value.
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True} if db_url.startswith("sqlite") else {
            "hide_parameters": True,
            "pool_pre_ping": True,
            "pool_size": env_int("PACO_DB_POOL_SIZE", 20, minimum=1),
            "max_overflow": env_int("PACO_DB_MAX_OVERFLOW", 20, minimum=0),
        },
        "REDIS_URL": env_str("REDIS_URL"),
        # Namespaces PaCo's Redis keys, so that several deployments (or test runs) can share one.
        "PACO_REDIS_PREFIX": env_str("PACO_REDIS_PREFIX", "paco"),
        "MAX_CONTENT_LENGTH": env_int("PACO_MAX_BODY_BYTES", 64 * 1024, minimum=1024),
        # Files uploaded on the admin site's Import page (larger ones: the flask ids/adherence commands).
        "PACO_IMPORT_MAX_BYTES": env_int("PACO_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024),
        # Where a checked file waits for its import (and its problem report): the import may be
        # clicked on another instance, so a directory every instance shares when several run.
        "PACO_IMPORT_DIR": env_str("PACO_IMPORT_DIR", str(INSTANCE_DIR / "imports")),
        "PACO_ALLOWED_ORIGINS": env_list("PACO_ALLOWED_ORIGINS", []),
        "PACO_RATE_LIMIT_AUTH": env_str("PACO_RATE_LIMIT_AUTH", "20 per minute;200 per hour"),
        "PACO_RATE_LIMIT_CHAT": env_str("PACO_RATE_LIMIT_CHAT", "20 per minute"),
        # Per research ID: check-in answers and reads, and answers spoken again on demand.
        "PACO_RATE_LIMIT_CHECKINS": env_str("PACO_RATE_LIMIT_CHECKINS", "30 per minute;300 per day"),
        "PACO_RATE_LIMIT_SPEECH": env_str("PACO_RATE_LIMIT_SPEECH", "20 per minute"),
        # Server pings keep idle sockets open through proxies; the size cap is a last resort
        # (it drops the connection): frames past PaCo's own 16 kB limit get an error frame first.
        "SOCK_SERVER_OPTIONS": {"ping_interval": env_int("PACO_WS_PING_SECONDS", 25, minimum=1),
                                "max_message_size": 1024 * 1024},
        "RATELIMIT_ENABLED": env_bool("PACO_RATE_LIMIT_ENABLED", True),
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(hours=env_int("PACO_TOKEN_HOURS", 24, minimum=1)),
        "PACO_COOKIE_SECURE": env_bool("PACO_COOKIE_SECURE", env == "production"),
        "PACO_TRUST_PROXY": env_int("PACO_TRUST_PROXY", 0, minimum=0),
        "PACO_LOG_LEVEL": env_str("PACO_LOG_LEVEL", "INFO"),
        # Investigator site (admin/)
        "PACO_STAFF_SESSION_MINUTES": env_int("PACO_STAFF_SESSION_MINUTES", 30, minimum=1),
        "PACO_STAFF_LOCKOUT_FAILURES": env_int("PACO_STAFF_LOCKOUT_FAILURES", 5, minimum=1),
        "PACO_STAFF_LOCKOUT_MINUTES": env_int("PACO_STAFF_LOCKOUT_MINUTES", 15, minimum=1),
        # Dashboards show counts from 1 to this minus one as "<N" (small-cell protection; 1 turns it off).
        "PACO_SMALL_CELL_MIN": env_int("PACO_SMALL_CELL_MIN", 5, minimum=1),
        # Assistant
        "PACO_LLM_PROVIDER": env_str("PACO_LLM_PROVIDER", default_llm),
        "PACO_LLM_FALLBACK": env_list("PACO_LLM_FALLBACK", []),
        "PACO_LLM_MODEL": env_str("PACO_LLM_MODEL"),
        "PACO_LLM_MODELS": env_list("PACO_LLM_MODELS", []),
        "PACO_LLM_CONNECT_TIMEOUT": env_float("PACO_LLM_CONNECT_TIMEOUT", 5.0),
        "PACO_LLM_FIRST_TOKEN_TIMEOUT": env_float("PACO_LLM_FIRST_TOKEN_TIMEOUT", 15.0),
        "PACO_LLM_IDLE_TIMEOUT": env_float("PACO_LLM_IDLE_TIMEOUT", 10.0),
        "PACO_LLM_MAX_TOKENS": env_int("PACO_LLM_MAX_TOKENS", 600, minimum=16),
        "PACO_HISTORY_TURNS": env_int("PACO_HISTORY_TURNS", 10, minimum=0),
        "PACO_HISTORY_CHARS": env_int("PACO_HISTORY_CHARS", 8000, minimum=0),
        "PACO_PROMPT_VERSION": env_str("PACO_PROMPT_VERSION"),
        "PACO_CURATED_DELAY_MS": env_int("PACO_CURATED_DELAY_MS", 25, minimum=0),
        "PACO_MAX_MESSAGE_CHARS": env_int("PACO_MAX_MESSAGE_CHARS", 2000, minimum=1),
        # The LLM's own safety classification beside each answer (paco.assistant.second_opinion):
        # "auto" whenever an LLM answers, "off" to rely on the rules alone.
        "PACO_SAFETY_SECOND_OPINION": env_str("PACO_SAFETY_SECOND_OPINION", "auto"),
        "PACO_SAFETY_SECOND_OPINION_TIMEOUT": env_float("PACO_SAFETY_SECOND_OPINION_TIMEOUT", 2.0),
        # Open chat sockets per client address and per research ID in one worker (0: no cap). A
        # clinic's tablets behind one NAT address share the first; one person's tabs, the second.
        # /metrics answers these addresses, or anyone sending "Authorization: Bearer <token>".
        "PACO_METRICS_ALLOW": env_list("PACO_METRICS_ALLOW", ["127.0.0.1", "::1"]),
        "PACO_METRICS_TOKEN": env_str("PACO_METRICS_TOKEN"),
        # Turn leases (paco.chat.inflight): a dead worker's turn is closed within lease + sweep.
        "PACO_TURN_LEASE_SECONDS": env_float("PACO_TURN_LEASE_SECONDS", 20.0, minimum=2.0),
        "PACO_TURN_HEARTBEAT_SECONDS": env_float("PACO_TURN_HEARTBEAT_SECONDS", 5.0, minimum=0.2),
        "PACO_TURN_SWEEP_SECONDS": env_float("PACO_TURN_SWEEP_SECONDS", 10.0, minimum=0.5),
        "PACO_MAX_SOCKETS_PER_IP": env_int("PACO_MAX_SOCKETS_PER_IP", 50, minimum=0),
        "PACO_MAX_SOCKETS_PER_PARTICIPANT": env_int("PACO_MAX_SOCKETS_PER_PARTICIPANT", 5, minimum=0),
        "OPENAI_API_KEY": openai_key,
        "OPENAI_BASE_URL": env_str("OPENAI_BASE_URL"),
        "GROQ_API_KEY": groq_key,
        "GROQ_BASE_URL": env_str("GROQ_BASE_URL", "https://api.groq.com/openai/v1"),
        # Speech
        "PACO_TTS_PROVIDER": env_str("PACO_TTS_PROVIDER", "espeak"),
        "PACO_TTS_VOICE": env_str("PACO_TTS_VOICE"),
        "PACO_TTS_MODEL": env_str("PACO_TTS_MODEL"),
        "PACO_TTS_FORMAT": env_str("PACO_TTS_FORMAT", "mp3_22050_32"),
        "PACO_TTS_CONNECT_TIMEOUT": env_float("PACO_TTS_CONNECT_TIMEOUT", 3.0),
        "PACO_TTS_TIMEOUT": env_float("PACO_TTS_TIMEOUT", 15.0),
        # Simultaneous TTS requests per worker (0: no cap): set to the speech plan's limit; more wait their turn.
        "PACO_TTS_MAX_CONCURRENT": env_int("PACO_TTS_MAX_CONCURRENT", 0, minimum=0),
        "PACO_TTS_QUEUE_TIMEOUT": env_float("PACO_TTS_QUEUE_TIMEOUT", 10.0),
        "ELEVENLABS_API_KEY": env_str("ELEVENLABS_API_KEY"),
        "ELEVENLABS_BASE_URL": env_str("ELEVENLABS_BASE_URL", "https://api.elevenlabs.io"),
        "PACO_AUDIO_CACHE_DIR": env_str("PACO_AUDIO_CACHE_DIR", str(INSTANCE_DIR / "audio_cache")),
    }
    check_leases(settings)
    return settings


# A turn whose worker died must be closed by another instance within this many seconds.
ORPHAN_DEADLINE_SECONDS = 60


def check_leases(settings: dict) -> None:
    """Heartbeats must come well within a lease, and lease + sweep within the orphan deadline."""
    lease, beat = settings["PACO_TURN_LEASE_SECONDS"], settings["PACO_TURN_HEARTBEAT_SECONDS"]
    sweep = settings["PACO_TURN_SWEEP_SECONDS"]
    if beat * 2 > lease:
        raise ConfigError(f"PACO_TURN_HEARTBEAT_SECONDS ({beat:g}) must be at most half of "
                          f"PACO_TURN_LEASE_SECONDS ({lease:g}), or a busy moment loses a live turn's lease")
    # Worst case after a death: the lease runs out, then the next sweep (jittered up to +20 %,
    # run on a heartbeat's tick) finds it.
    worst = lease + 1.2 * sweep + beat
    if worst > ORPHAN_DEADLINE_SECONDS:
        raise ConfigError(f"PACO_TURN_LEASE_SECONDS + 1.2 x PACO_TURN_SWEEP_SECONDS + PACO_TURN_HEARTBEAT_SECONDS "
                          f"({worst:g}) must be at most {ORPHAN_DEADLINE_SECONDS}: a dead worker's turns must be "
                          f"closed within {ORPHAN_DEADLINE_SECONDS} s")


def check_production(settings: dict) -> None:
    """Refuse settings that are only safe on a laptop; the message names each wrong setting."""
    if settings.get("PACO_ENV") != "production":
        return
    problems = []
    if settings.get("PACO_SECRET_IS_DEFAULT") or not settings.get("SECRET_KEY"):
        problems.append("SECRET_KEY is not set (a random secret of 32+ characters is required)")
    elif len(settings["SECRET_KEY"]) < 32:
        problems.append("SECRET_KEY is shorter than 32 characters")
    if len(settings.get("PACO_AUDIT_KEY") or "") < 32:
        problems.append("PACO_AUDIT_KEY is shorter than 32 characters")
    # JWT_SECRET_KEY defaults to SECRET_KEY; one set on its own signs every participant token.
    if len(settings.get("JWT_SECRET_KEY") or "") < 32:
        problems.append("JWT_SECRET_KEY is shorter than 32 characters")
    if str(settings.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append("DATABASE_URL points to SQLite (use postgresql+psycopg://...)")
    origins = settings.get("PACO_ALLOWED_ORIGINS") or []
    if not origins:
        problems.append("PACO_ALLOWED_ORIGINS is empty (list the site's https origins)")
    elif any("*" in origin for origin in origins):
        problems.append("PACO_ALLOWED_ORIGINS contains a wildcard")
    if problems:
        raise ConfigError("refusing to start with PACO_ENV=production: " + "; ".join(problems))
