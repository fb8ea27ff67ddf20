"""The `portal` command, run as a separate process from another directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.helpers import portal_cli


@pytest.fixture
def run(tmp_path, database_url):
    return portal_cli(tmp_path, database_url)


def test_db_commands_and_user_create(run):
    r = run("db", "upgrade")
    assert r.returncode == 0, r.stderr
    r = run("db", "current")
    assert "current: 0002" in r.stdout or "current:" in r.stdout
    r = run("user", "create", "--email", "Admin@Example.no", "--role", "admin",
            "--password", "an-admin-pass-1")
    assert r.returncode == 0, r.stderr
    assert "admin@example.no" in r.stdout


def test_user_create_bad_input_is_one_line_and_nonzero(run):
    run("db", "upgrade")
    r = run("user", "create", "--email", "not-an-email", "--password", "an-admin-pass-1")
    assert r.returncode != 0
    assert r.stderr.strip().count("\n") == 0 and "valid e-mail" in r.stderr
    r = run("user", "create", "--email", "a@example.no", "--password", "short")
    assert r.returncode != 0 and "at least 10" in r.stderr
    run("user", "create", "--email", "a@example.no", "--password", "an-admin-pass-1")
    r = run("user", "create", "--email", "A@EXAMPLE.NO", "--password", "an-admin-pass-1")
    assert r.returncode != 0 and "already exists" in r.stderr
    assert "Traceback" not in r.stderr


def test_commands_on_an_unmigrated_database_say_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env["PORTAL_DATA_DIR"] = str(tmp_path / "empty")
    r = subprocess.run([sys.executable, "-m", "portal", "user", "create", "--email", "a@example.no",
                        "--password", "an-admin-pass-1"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1 and "portal db upgrade" in r.stderr and "Traceback" not in r.stderr


def test_grant_unknown_user_fails_cleanly(run):
    run("db", "upgrade")
    r = run("user", "grant", "--email", "ghost@example.no", "coordinator")
    assert r.returncode == 1 and "no account" in r.stderr and "Traceback" not in r.stderr


def test_production_without_secret_fails_with_one_line(run, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    env.update({"PORTAL_ENV": "production", "PORTAL_DATA_DIR": str(tmp_path / "p")})
    r = subprocess.run([sys.executable, "-m", "portal", "serve"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode != 0
    assert "PORTAL_SECRET_KEY" in r.stderr and "Traceback" not in r.stderr


def test_healthz_json_via_serve_is_covered_by_web_tests():
    # /healthz itself is tested through the test client; serve is exercised in test_serve.py.
    assert json.dumps({"ok": True})


def test_unit_and_course_administration(run):
    run("db", "upgrade")
    run("user", "create", "--email", "siri@uni.no", "--password", "a-staff-pass-1")
    assert run("unit", "create", "--code", "IE", "--name-nb", "Fakultet IE", "--name-en", "Faculty IE",
               "--level", "faculty").returncode == 0
    r = run("unit", "create", "--code", "IE-IDI", "--name-nb", "IDI", "--name-en", "IDI",
            "--level", "department", "--parent", "IE")
    assert r.returncode == 0, r.stderr
    r = run("unit", "create", "--code", "XX-1", "--name-nb", "X", "--name-en", "X", "--level", "group",
            "--parent", "NOPE")
    assert r.returncode == 1 and "no unit with code NOPE" in r.stderr
    r = run("unit", "add-member", "--code", "IE-IDI", "--email", "siri@uni.no")
    assert r.returncode == 0 and "member of IE-IDI" in r.stdout
    r = run("course", "create", "--code", "tdt4100", "--name-nb", "Objektorientert programmering",
            "--name-en", "Object-oriented programming", "--ects", "7.5", "--level", "bachelor",
            "--unit", "IE-IDI")
    assert r.returncode == 0 and "TDT4100" in r.stdout
    r = run("course", "create", "--code", "BAD", "--name-nb", "x", "--name-en", "x", "--ects", "7.5",
            "--level", "bachelor", "--unit", "IE-IDI")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert run("course", "add-leader", "--code", "TDT4100", "--email", "siri@uni.no").returncode == 0
    assert "IE-IDI" in run("unit", "list").stdout
