"""Named type aliases shared across microasgi (ASGI shapes, view return values).

Flask's ``flask.typing`` names are all here, so annotations written against
them keep working after a port.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

if TYPE_CHECKING:
    from werkzeug.sansio.response import Response

Scope: TypeAlias = MutableMapping[str, Any]
Message: TypeAlias = MutableMapping[str, Any]
Receive: TypeAlias = Callable[[], Awaitable[Message]]
Send: TypeAlias = Callable[[Message], Awaitable[None]]
ASGIApp: TypeAlias = Callable[[Scope, Receive, Send], Awaitable[None]]

HeaderValue: TypeAlias = str | int
HeadersValue: TypeAlias = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]]
StatusValue: TypeAlias = int | str
BodyValue: TypeAlias = (
    "Response | str | bytes | Mapping[str, Any] | list[Any] | Iterable[Any] | AsyncIterable[Any]"
)
#: What a view may return (see :meth:`MicroASGI.make_response`).
ResponseReturnValue: TypeAlias = (
    "BodyValue | tuple[BodyValue, StatusValue] | tuple[BodyValue, HeadersValue]"
    " | tuple[BodyValue, StatusValue, HeadersValue] | ASGIApp"
)

#: A response body (Flask's name): what :data:`ResponseReturnValue` starts with.
ResponseValue: TypeAlias = BodyValue
#: A response class, for hooks typed by the response they get and return.
ResponseClass = TypeVar("ResponseClass", bound="Response")
#: Where a hook or handler is registered: ``None`` for the app, else a blueprint's name.
AppOrBlueprintKey: TypeAlias = "str | None"

#: A view, hook or handler: sync or async, any arguments.
RouteCallable: TypeAlias = Callable[..., Any]
BeforeRequestCallable: TypeAlias = Callable[[], Any]
#: Flask's, for hooks it no longer runs (use ``before_serving`` here).
BeforeFirstRequestCallable: TypeAlias = Callable[[], Any]
AfterRequestCallable: TypeAlias = Callable[[Any], Any]
TeardownCallable: TypeAlias = Callable[[BaseException | None], Any]
ErrorHandlerCallable: TypeAlias = Callable[[Any], Any]
URLValuePreprocessor: TypeAlias = Callable[[str | None, dict[str, Any] | None], None]
URLValuePreprocessorCallable: TypeAlias = URLValuePreprocessor
URLDefaultCallable: TypeAlias = Callable[[str, dict[str, Any]], None]
ShellContextProcessorCallable: TypeAlias = Callable[[], dict[str, Any]]
#: Templates render synchronously, so a context processor is a plain function.
TemplateContextProcessorCallable: TypeAlias = Callable[[], dict[str, Any]]
TemplateFilterCallable: TypeAlias = Callable[..., Any]
TemplateGlobalCallable: TypeAlias = Callable[..., Any]
TemplateTestCallable: TypeAlias = Callable[..., bool]
