"""The Flask app through Flask's own test client."""

import pytest

from app.main import app


@pytest.fixture
def client():
    """A test client of the app."""
    return app.test_client()


@pytest.mark.parametrize("query, text", [("", b"Hello, world!"), ("?name=Ada", b"Hello, Ada!")])
def test_index_renders_the_template(client, query, text):
    response = client.get("/" + query)
    assert response.status_code == 200
    assert text in response.data


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_unknown_path_is_404(client):
    assert client.get("/nowhere").status_code == 404
