"""The app against a real PostgreSQL server (see conftest.py)."""

import io
import json

import pytest

from app.main import app


def get(path: str) -> tuple:
    """Calls the app for GET PATH; returns (status, JSON document)."""
    seen = {}

    def start_response(status, headers, exc_info=None):
        seen["status"] = status

    path, _, query = path.partition("?")
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": query, "wsgi.input": io.BytesIO()}
    body = b"".join(app(environ, start_response))
    return seen["status"], json.loads(body)


@pytest.fixture
def database(database_url, monkeypatch):
    """The app pointed at the test server."""
    monkeypatch.setenv("DATABASE_URL", database_url)


def test_counts_visits_per_path(database):
    assert get("/a")[1]["visits"] == 1
    assert get("/a")[1]["visits"] == 2
    status, document = get("/b")
    assert status == "200 OK"
    assert document["visits"] == 1
    assert document["postgresql"]


def test_waits_in_the_database(database):
    assert get("/slow?wait=0.01")[1]["visits"] == 1


def test_no_database_is_503(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://test@127.0.0.1:1/none")
    status, document = get("/")
    assert status == "503 Service Unavailable"
    assert "database unavailable" in document["error"]
