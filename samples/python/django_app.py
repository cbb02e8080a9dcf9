"""A Django project in one file: settings, URLs and views.

    python3 -m pip install django     # into the Python devserve uses (--python)
    devserve samples/python/django_app.py
"""
import os

import django
from django.conf import settings
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY="devserve sample: not a secret",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["*"],
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
    DEFAULT_CHARSET="utf-8",
    # Errors of django.request (an exception in a view) to stderr: devserve records what is
    # written while a request runs on that request, traceback included.
    LOGGING={
        "version": 1,
        "handlers": {"console": {"class": "logging.StreamHandler"}},
        "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
    },
)
django.setup()


def index(request):
    return HttpResponse("Hello from Django!\n", content_type="text/plain")


def echo(request):
    return JsonResponse({"method": request.method, "path": request.path, "query": request.GET.dict(),
                         "body": request.body.decode("utf-8", "replace")})


def stream(request):
    return StreamingHttpResponse((("line %d\n" % index).encode() for index in range(1, 4)), content_type="text/plain")


def fail(request):
    raise ValueError("the Django sample failed on purpose")


urlpatterns = [path("", index), path("echo", echo), path("stream", stream), path("fail", fail)]

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()
