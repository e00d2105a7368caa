"""Typed views: parameters bound and validated from type hints, models as bodies and
return values, errors as RFC 9457 problem details, the OpenAPI spec (docs/api.md)."""

from .compile import (
    MethodRoutes,
    Parameter,
    ResponseValidation,
    ResponseValidationError,
    TypedRoute,
    compile_view,
)
from .models import is_model
from .openapi import OpenAPIError, SecurityRequirements, build_openapi
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
    "OpenAPIError",
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
    "SecurityRequirements",
    "TypedRoute",
    "UnsupportedBody",
    "build_openapi",
    "compile_view",
    "is_model",
]
