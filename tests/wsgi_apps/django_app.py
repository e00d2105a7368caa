"""A tiny Django project configured in code: URL patterns, reverse(), a form, a file, cookies.

Importing this module configures Django's (process-wide) settings, once.
"""

from __future__ import annotations

from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="django test secret",
        ALLOWED_HOSTS=["testserver", "localhost"],
        ROOT_URLCONF=__name__,
        INSTALLED_APPS=[],
        # No CsrfViewMiddleware: forms post without a token.
        MIDDLEWARE=["django.middleware.common.CommonMiddleware"],
        APPEND_SLASH=True,
        USE_TZ=True,
        # Leave the process's logging configuration alone.
        LOGGING_CONFIG=None,
    )

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import path, reverse


def index(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "item": reverse("item", args=[42]),
            "absolute": request.build_absolute_uri(reverse("item", args=[42])),
            "path": request.path,
            "path_info": request.path_info,
            "script_name": request.META["SCRIPT_NAME"],
        }
    )


def item(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(f"item {pk}", content_type="text/plain")


def go(request: HttpRequest) -> HttpResponse:
    return redirect("item", pk=7)


def form(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"method": request.method, **request.POST.dict()})


def source(request: HttpRequest) -> FileResponse:
    return FileResponse(open(__file__, "rb"), content_type="text/plain")


def set_cookie(request: HttpRequest) -> JsonResponse:
    response = JsonResponse({"ok": True})
    response.set_cookie("flavor", "oatmeal")
    response.set_cookie("size", "small")
    return response


def get_cookie(request: HttpRequest) -> JsonResponse:
    return JsonResponse(request.COOKIES)


urlpatterns = [
    path("", index, name="index"),
    path("item/<int:pk>/", item, name="item"),
    path("go/", go, name="go"),
    path("form/", form, name="form"),
    path("source/", source, name="source"),
    path("cookie/set/", set_cookie, name="set_cookie"),
    path("cookie/get/", get_cookie, name="get_cookie"),
]


def create_app() -> WSGIHandler:
    """Django's WSGI application for this project."""
    return get_wsgi_application()
