"""Typed views: parameters bound and validated from type hints, models as bodies and
return values, errors as RFC 9457 problem details (docs/api.md)."""

from .compile import (
    MethodRoutes,
    Parameter,
    ResponseValidation,
    ResponseValidationError,
    TypedRoute,
    compile_view,
)
from .models import is_model
from .params import Body, Cookie, File, Form, Header, Param, Query
from .problems import (
    FastAPIFormatter,
    MalformedBody,
    Problem,
    ProblemError,
    ProblemException,
    ProblemFormatter,
    RequestValidationError,
    UnsupportedBody,
)

__all__ = [
    "Body",
    "Cookie",
    "FastAPIFormatter",
    "File",
    "Form",
    "Header",
    "MalformedBody",
    "MethodRoutes",
    "Param",
    "Parameter",
    "Problem",
    "ProblemError",
    "ProblemException",
    "ProblemFormatter",
    "Query",
    "RequestValidationError",
    "ResponseValidation",
    "ResponseValidationError",
    "TypedRoute",
    "UnsupportedBody",
    "compile_view",
    "is_model",
]
