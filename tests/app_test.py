"""The app's contract: GET and HEAD on any path answer 200, other methods 405."""

import http.client

import pytest

PATHS = ["/", "/index.html", "/a/b/c", "/%C3%A9t%C3%A9", "/healthz", "/x/"]
QUERIES = ["", "q=1", "a=1&b=2", "empty=", "x=%20y&x=z"]
REFUSED = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("path", PATHS)
def test_get_answers_200_with_a_text_body(call, path, query):
    response = call("GET", path, query)
    assert response.status == "200 OK"
    assert response.body
    assert response.header("Content-Length") == str(len(response.body))
    assert response.header("Content-Type").startswith("text/plain")


@pytest.mark.parametrize("path", PATHS)
def test_head_answers_like_get_without_a_body(call, path):
    get, head = call("GET", path), call("HEAD", path)
    assert head.status == "200 OK"
    assert head.body == b""
    assert head.header("Content-Length") == get.header("Content-Length")
    assert head.header("Content-Type") == get.header("Content-Type")


@pytest.mark.parametrize("method", REFUSED)
def test_other_methods_get_405_with_allow(call, method):
    response = call(method, "/a/b", "q=1", b"payload")
    assert response.status == "405 Method Not Allowed"
    assert response.header("Allow") == "GET, HEAD"
    assert response.header("Content-Length") == str(len(response.body))


def test_over_http(server_port):
    connection = http.client.HTTPConnection("127.0.0.1", server_port, timeout=10)
    try:
        connection.request("GET", "/some/path?x=1")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"Hello, world!\n")
        connection.request("POST", "/", body=b"data")
        response = connection.getresponse()
        response.read()
        assert (response.status, response.getheader("Allow")) == (405, "GET, HEAD")
    finally:
        connection.close()
