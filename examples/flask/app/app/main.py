"""``app``: a Flask application (a WSGI callable), with a template and a JSON route."""

from flask import Flask, jsonify, render_template, request

app = Flask(__name__)


@app.route("/")
def index() -> str:
    """The home page, from templates/index.html."""
    return render_template("index.html", visitor=request.args.get("name", "world"))


@app.route("/healthz")
def healthz():
    """Liveness for Kubernetes: 200 and a small JSON document."""
    return jsonify(status="ok")
