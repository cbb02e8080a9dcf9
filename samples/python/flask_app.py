"""A Flask application: JSON, a form, a file upload, a streamed response, a redirect, a cookie
session, a 404 and an exception.

    python3 -m pip install flask      # into the Python devserve uses (--python)
    devserve samples/python/flask_app.py
"""
import logging
import time

from flask import Flask, Response, jsonify, redirect, request, session, stream_with_context, url_for

app = Flask(__name__)
app.secret_key = "devserve sample: not a secret"
log = logging.getLogger("flask_app")


@app.get("/")
def index():
    return "Hello from Flask!\n"


@app.get("/api/items")
def items():
    return jsonify(items=[{"id": 1, "name": "apple"}, {"id": 2, "name": "pear"}], total=2)


@app.post("/api/items")
def create_item():
    item = request.get_json(force=True)
    log.warning("creating %s", item.get("name"))
    return jsonify(created=item), 201


@app.post("/form")
def form():
    return "name=%s colour=%s\n" % (request.form.get("name"), request.form.get("colour"))


@app.post("/upload")
def upload():
    uploaded = request.files["file"]
    data = uploaded.read()
    return jsonify(filename=uploaded.filename, size=len(data), first=data[:16].decode("latin-1"))


@app.get("/stream")
def stream():
    count = int(request.args.get("n", 5))
    delay = int(request.args.get("delay_ms", 200)) / 1000

    def lines():
        for index in range(count):
            yield "event %d\n" % (index + 1)
            if index + 1 < count:
                time.sleep(delay)
    return Response(stream_with_context(lines()), mimetype="text/plain")


@app.get("/old")
def old():
    return redirect(url_for("index"))


@app.get("/visit")
def visit():
    session["visits"] = session.get("visits", 0) + 1
    print("visit number", session["visits"])
    return "visits: %d\n" % session["visits"]


@app.get("/fail")
def fail():
    raise RuntimeError("the sample failed on purpose")
