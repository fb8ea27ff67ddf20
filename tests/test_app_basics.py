from __future__ import annotations

import pytest

from portal import create_app
from portal.config import ConfigError, load_settings


def test_front_page_is_bilingual_by_accept_language(client):
    nb = client.get("/", headers={"Accept-Language": "nb-NO,nb;q=0.9"})
    assert nb.status_code == 200
    assert '<html lang="nb">' in nb.get_data(as_text=True)
    en = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in en.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    for path in ("/", "/healthz", "/no-such-page"):
        r = client.get(path)
        csp = r.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in r.headers  # plain HTTP


def test_hsts_over_https(client):
    r = client.get("/", base_url="https://localhost")
    assert "max-age=" in r.headers["Strict-Transport-Security"]


def test_healthz_reports_database_migrations_and_index(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["migrations"]["ok"] is True
    assert body["migrations"]["current"] == body["migrations"]["head"]
    assert body["search_index"]["state"] in {"not_built", "current", "behind"}


def test_unknown_page_is_a_friendly_404(client):
    r = client.get("/no-such-page")
    assert r.status_code == 404
    assert "<h1>" in r.get_data(as_text=True)


def test_production_refuses_to_start_without_secret(tmp_path):
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        load_settings({"env": "production", "data_dir": tmp_path}, environ={})


def test_embedded_default_keeps_one_generated_secret(tmp_path):
    a = load_settings({"data_dir": tmp_path}, environ={})
    b = load_settings({"data_dir": tmp_path}, environ={})
    assert a.secret_key == b.secret_key and len(a.secret_key) > 40
    assert a.database_url == f"sqlite:///{tmp_path.resolve() / 'portal.db'}"


def test_bad_setting_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="PORTAL_SMTP_PORT"):
        load_settings({"data_dir": tmp_path}, environ={"PORTAL_SMTP_PORT": "abc"})


def test_create_app_accepts_postgres_scheme(tmp_path):
    s = load_settings({"data_dir": tmp_path,
                       "database_url": "postgresql://postgres@127.0.0.1:5432/test"}, environ={})
    assert s.database_url.startswith("postgresql+psycopg://")
    assert create_app  # the factory is importable without side effects


def test_sqlite_runs_with_foreign_keys_wal_and_busy_timeout(tmp_path):
    from sqlalchemy import text

    from portal.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 15000
    engine.dispose()


def test_sqlite_writers_wait_for_each_other(tmp_path):
    """BEGIN IMMEDIATE: a second writer waits for the first instead of failing."""
    import threading
    import time

    from sqlalchemy import text

    from portal.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))
    errors = []

    def writer(i):
        try:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO t VALUES (:n)"), {"n": i})
                time.sleep(0.05)  # hold the write lock a moment
                conn.execute(text("UPDATE t SET n = n + 1 WHERE n = :n"), {"n": i})
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i * 10,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 6
    engine.dispose()
