"""Settings from ``PORTAL_*`` environment variables, with typed defaults."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(f"not a boolean: {value!r}")


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever spelling the operator gave."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@dataclass(frozen=True)
class Settings:
    env: str = "development"  # development | production | test
    data_dir: Path = Path("instance")
    database_url: str = ""
    secret_key: str = ""
    base_url: str = "http://127.0.0.1:8000"
    default_locale: str = "nb"
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    mail_from: str = "Samspill <no-reply@samspill.local>"
    login_max_failures: int = 5
    login_lockout_seconds: int = 900
    token_max_age_seconds: int = 2 * 24 * 3600
    reset_token_max_age_seconds: int = 3600
    max_upload_bytes: int = 5 * 1024 * 1024
    session_days: int = 14
    # Deliver the outbox right after the request that filled it (embedded default);
    # a deployment with a separate worker turns this off.
    mail_inline: bool = True
    search_sync: bool = True  # embedded default: apply search changes after each request
    force_https: bool = False
    # Jobs: `portal serve` runs the scheduler behind a database lease unless off
    # (a deployment with `portal worker` turns it off).
    scheduler: bool = True
    lease_seconds: int = 60
    # A mail claimed longer ago than this belongs to a deliverer that died mid-send.
    mail_stale_claim_seconds: int = 900
    # Retention: hide accounts after this long without a login, delete after the
    # second period, warning by e-mail the third period before deletion.
    retention_hide_days: int = 365
    retention_delete_days: int = 3 * 365
    retention_warning_days: int = 30
    # Result reminders: first when a collaboration has ended without a result,
    # the second and the coordinator's notice each this many days later.
    reminder_interval_days: int = 14
    unsubscribe_token_max_age_days: int = 180
    log_file: bool = True  # write data_dir/logs/portal.log
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "portal.db"


_ENV_NAMES = {
    "env": "PORTAL_ENV",
    "data_dir": "PORTAL_DATA_DIR",
    "database_url": "PORTAL_DATABASE_URL",
    "secret_key": "PORTAL_SECRET_KEY",
    "base_url": "PORTAL_BASE_URL",
    "default_locale": "PORTAL_DEFAULT_LOCALE",
    "smtp_host": "PORTAL_SMTP_HOST",
    "smtp_port": "PORTAL_SMTP_PORT",
    "smtp_user": "PORTAL_SMTP_USER",
    "smtp_password": "PORTAL_SMTP_PASSWORD",
    "smtp_starttls": "PORTAL_SMTP_STARTTLS",
    "mail_from": "PORTAL_MAIL_FROM",
    "login_max_failures": "PORTAL_LOGIN_MAX_FAILURES",
    "login_lockout_seconds": "PORTAL_LOGIN_LOCKOUT_SECONDS",
    "max_upload_bytes": "PORTAL_MAX_UPLOAD_BYTES",
    "session_days": "PORTAL_SESSION_DAYS",
    "search_sync": "PORTAL_SEARCH_SYNC",
    "mail_inline": "PORTAL_MAIL_INLINE",
    "force_https": "PORTAL_FORCE_HTTPS",
    "scheduler": "PORTAL_SCHEDULER",
    "lease_seconds": "PORTAL_LEASE_SECONDS",
    "mail_stale_claim_seconds": "PORTAL_MAIL_STALE_CLAIM_SECONDS",
    "retention_hide_days": "PORTAL_RETENTION_HIDE_DAYS",
    "retention_delete_days": "PORTAL_RETENTION_DELETE_DAYS",
    "retention_warning_days": "PORTAL_RETENTION_WARNING_DAYS",
    "reminder_interval_days": "PORTAL_REMINDER_INTERVAL_DAYS",
    "unsubscribe_token_max_age_days": "PORTAL_UNSUBSCRIBE_TOKEN_MAX_AGE_DAYS",
    "log_file": "PORTAL_LOG_FILE",
}


def _coerce(name: str, raw: Any) -> Any:
    target = {f.name: f.type for f in fields(Settings)}[name]
    if not isinstance(raw, str):
        return Path(raw) if name == "data_dir" else raw
    try:
        if target == "int":
            return int(raw)
        if target == "bool":
            return _bool(raw)
    except (ValueError, ConfigError) as exc:
        raise ConfigError(f"{_ENV_NAMES.get(name, name)}: {exc}") from None
    if target == "Path":
        return Path(raw)
    return raw


def load_settings(overrides: dict[str, Any] | None = None, environ=None) -> Settings:
    """Read settings from the environment, then apply ``overrides`` (tests, factories)."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for name, env_name in _ENV_NAMES.items():
        if env_name in environ:
            values[name] = _coerce(name, environ[env_name])
    for name, raw in (overrides or {}).items():
        if name not in _ENV_NAMES and name != "extra":
            raise ConfigError(f"unknown setting: {name}")
        values[name] = raw if name == "extra" else _coerce(name, raw)
    settings = Settings(**values)
    if settings.env not in {"development", "production", "test"}:
        raise ConfigError("PORTAL_ENV must be development, production or test")
    if settings.default_locale not in {"nb", "en"}:
        raise ConfigError("PORTAL_DEFAULT_LOCALE must be nb or en")
    if not (0 < settings.retention_hide_days < settings.retention_delete_days):
        raise ConfigError("PORTAL_RETENTION_HIDE_DAYS must be positive and shorter than "
                          "PORTAL_RETENTION_DELETE_DAYS")
    if not (0 < settings.retention_warning_days < settings.retention_delete_days
            - settings.retention_hide_days + 1):
        raise ConfigError("PORTAL_RETENTION_WARNING_DAYS must be positive and fit between "
                          "hiding and deletion")
    for name in ("lease_seconds", "mail_stale_claim_seconds", "reminder_interval_days",
                 "unsubscribe_token_max_age_days"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{_ENV_NAMES[name]} must be positive")
    data_dir = settings.data_dir.expanduser().resolve()
    settings = replace(settings, data_dir=data_dir)
    if not settings.database_url:
        settings = replace(settings, database_url=f"sqlite:///{data_dir / 'portal.db'}")
    settings = replace(settings, database_url=normalise_database_url(settings.database_url))
    if not settings.secret_key:
        if settings.production:
            raise ConfigError(
                "PORTAL_SECRET_KEY must be set when PORTAL_ENV=production"
            )
        settings = replace(settings, secret_key=_stored_secret(data_dir))
    return settings


def _stored_secret(data_dir: Path) -> str:
    """Generate the embedded default's key once and keep it beside the data."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    # O_EXCL: two processes starting at once agree on whichever key won.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key
