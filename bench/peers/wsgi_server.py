"""A WSGI server from the bench venv on PORT, serving MODULE:app from bench/peers.

Usage: wsgi_server.py werkzeug|bjoern PORT MODULE
"""
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
kind, port, module = sys.argv[1], int(sys.argv[2]), sys.argv[3]
app = __import__(module).app

if kind == "werkzeug":
    from werkzeug.serving import run_simple
    run_simple("127.0.0.1", port, app, threaded=True)
elif kind == "bjoern":
    import bjoern
    bjoern.run(app, "127.0.0.1", port)
else:
    raise SystemExit("unknown server " + kind)
