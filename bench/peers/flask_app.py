"""Flask hello for the benchmark: the same route in every server (werkzeug, gunicorn, waitress,
granian, bjoern, devserve's bridge)."""
from flask import Flask

app = Flask(__name__)


@app.get("/hello")
def hello():
    return "Hello world!\n"
