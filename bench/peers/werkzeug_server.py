"""werkzeug's threaded development server on PORT serving bench/peers/app.py."""
import sys

from werkzeug.serving import run_simple

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from app import app  # noqa: E402

run_simple("127.0.0.1", int(sys.argv[1]), app, threaded=True)
