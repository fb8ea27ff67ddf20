"""Shared fixtures.

Every test that uses ``app``/``db``/``client`` runs against SQLite and, when
PORTAL_TEST_DATABASE_URL is set, against PostgreSQL too. Each test gets an
empty, fully migrated database.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from portal import create_app, migrate
from portal.config import normalise_database_url

PG_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
# One schema per test process, so two runs on one server never trample each other.
PG_SCHEMA = f"samspill_test_{os.getpid()}"


def pg_url_for_schema(schema: str) -> str:
    base = normalise_database_url(PG_URL)
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


def reset_pg_schema(schema: str) -> None:
    engine = create_engine(normalise_database_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "portal.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated():
    reset_pg_schema(PG_SCHEMA)
    url = pg_url_for_schema(PG_SCHEMA)
    migrate.upgrade(url)
    yield url
    drop_pg_schema(PG_SCHEMA)


def drop_pg_schema(schema: str) -> None:
    engine = create_engine(normalise_database_url(PG_URL))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def _truncate_pg(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = :s "
                 "AND tablename <> 'alembic_version'"),
            {"s": PG_SCHEMA},
        ).scalars().all()
        if tables:
            names = ", ".join(f'"{t}"' for t in tables)
            # TRUNCATE is not a row DELETE, so the append-only trigger allows a reset.
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "db" / "portal.db"
        path.parent.mkdir()
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    if not PG_URL:
        missing("postgresql", "PostgreSQL not configured (set PORTAL_TEST_DATABASE_URL)")
    url = request.getfixturevalue("pg_migrated")
    _truncate_pg(url)
    return url


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def app_config(database_url, data_dir) -> dict:
    return {
        "env": "test",
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": "test-secret-key-not-for-production",
        "base_url": "http://localhost",
    }


@pytest.fixture
def app(app_config):
    application = create_app(app_config)
    yield application
    application.extensions["portal.engine"].dispose()


@pytest.fixture
def db(app):
    """A session on the test database (commit explicitly, as views do).

    On SQLite it opens deferred transactions, so a test that has only read
    holds no write lock while a request or a browser writes.
    """
    # expire_on_commit: after the test commits, what it reads next comes from
    # the database (which requests may have changed), not from stale objects.
    session = app.extensions["portal.read_sessionmaker"](expire_on_commit=True)
    yield session
    session.rollback()
    session.close()


class _TestClient(FlaskClient):
    """Ends the test's own database transaction before each request.

    A test session that has read something still holds SQLite's write lock
    (writers BEGIN IMMEDIATE); a person's browser holds none, so neither does this.
    """

    test_session = None

    def open(self, *args, **kwargs):
        # Assertions read English (the source language); nb is tested explicitly.
        headers = kwargs.setdefault("headers", {})
        if isinstance(headers, dict):
            headers.setdefault("Accept-Language", "en")
        # Only the test's own thread touches its session (sessions are not thread-safe).
        if self.test_session is not None and threading.current_thread() is threading.main_thread():
            self.test_session.rollback()
            self.test_session.expire_all()
        return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    # Every client of this app (a test may open several) releases ``db`` first.
    app.test_client_class = type("BoundTestClient", (_TestClient,), {"test_session": db})
    return app.test_client()


_CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    m = _CSRF_RE.search(html)
    assert m, "page has no CSRF token"
    return m.group(1)


class Browserless:
    """Submits forms as a person would: load the page, take its CSRF token, post."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def submit(self, page_url: str, data: dict, post_url: str | None = None,
               follow_redirects: bool = False, **kw):
        page = self.client.get(page_url, follow_redirects=True)
        assert page.status_code == 200, f"GET {page_url} gave {page.status_code}"
        payload = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data}
        return self.client.post(post_url or page_url, data=payload,
                                follow_redirects=follow_redirects, **kw)

    def login(self, email: str, password: str, remember: bool = False):
        data = {"email": email, "password": password}
        if remember:
            data["remember"] = "y"
        return self.submit("/login", data)

    def logout(self):
        page = self.client.get("/")
        return self.client.post("/logout",
                                data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})


@pytest.fixture
def web(client) -> Browserless:
    return Browserless(client)


# ------------------------------------------------------------------ browser tests
REQUIRED = {x.strip() for x in os.environ.get("PORTAL_TEST_REQUIRE", "").split(",") if x.strip()}


def missing(what: str, reason: str):
    """Skip on a laptop without ``what``; fail where CI said it must be there."""
    if what in REQUIRED:
        pytest.fail(f"{reason} (required by PORTAL_TEST_REQUIRE)")
    pytest.skip(reason)


@pytest.fixture
def live_server(app):
    """The app on a real WSGI server (waitress) on a free loopback port."""
    import threading

    from waitress import create_server

    server = create_server(app, host="127.0.0.1", port=0, threads=4, ident="samspill-test")
    port = server.effective_port
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.close()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium_browser():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        missing("chromium", "Chromium not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("chromium", "Playwright not installed (pip install playwright)")
    pw = sync_playwright().start()
    browser = pw.chromium.launch(
        executable_path=exe,
        headless=True,
        args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture
def page(chromium_browser, live_server):
    context = chromium_browser.new_context(base_url=live_server, locale="en-GB")
    pg = context.new_page()
    pg.set_default_timeout(15000)
    yield pg
    context.close()


@pytest.fixture
def w(db):
    """The service tests' world (tests/matching_builders.py)."""
    from tests.matching_builders import make_world

    return make_world(db)
