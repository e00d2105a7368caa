"""Named type aliases shared across microasgi (ASGI shapes, view return values)."""

from __future__ import annotations

from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, TypeAlias

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

#: A view, hook or handler: sync or async, any arguments.
RouteCallable: TypeAlias = Callable[..., Any]
AfterRequestCallable: TypeAlias = Callable[[Any], Any]
TeardownCallable: TypeAlias = Callable[[BaseException | None], Any]
ErrorHandlerCallable: TypeAlias = Callable[[Any], Any]
URLValuePreprocessor: TypeAlias = Callable[[str | None, dict[str, Any] | None], None]
URLDefaultCallable: TypeAlias = Callable[[str, dict[str, Any]], None]
