"""API conventions shared by every app: one error format, one pagination."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from portal.exceptions import Conflict


class Pagination(pagination.PageNumberPagination):
    """Page numbers from 1 and page sizes from 1 to 200; anything else is a 400 naming the parameter.

    DRF silently falls back to the default size on ``page_size=abc`` or ``page_size=0``: a script that asked for
    something else never learns it got 20 items (found by schemathesis, issue 8 scenario 8).
    """

    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if not raw:  # absent or empty: the default, like every other parameter
            return self.page_size
        return _bounded_integer(self.page_size_query_param, raw, self.max_page_size)

    def paginate_queryset(self, queryset, request, view=None):
        raw = request.query_params.get(self.page_query_param)
        if raw and raw not in self.last_page_strings:
            _bounded_integer(self.page_query_param, raw, None)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


def _bounded_integer(name: str, raw: str, maximum: int | None) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < 1 or (maximum is not None and value > maximum):
        if maximum is None:
            message = _("A whole number from 1.")
        else:
            message = _("A whole number from 1 to %(maximum)d.") % {"maximum": maximum}
        raise exceptions.ValidationError({name: [message]})
    return value


def _as_field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {
            field: _as_field_errors(value) if isinstance(value, dict) else _messages(value)
            for field, value in detail.items()
        }
    return {"non_field_errors": _messages(detail)}


def _messages(value) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def exception_handler(exc, context):
    """Answer every error as ``{"detail": ..., "errors": {field: [messages]}}``.

    Services raise Django's ValidationError keyed by model field; it is turned
    into a 400 here so that no view has to translate it.
    """
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "errors": {}, **exc.extra}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, exceptions.ParseError):
        # A body that cannot be read at all: the field at fault is the body itself.
        return Response({"detail": str(exc.detail), "errors": {"body": [str(exc.detail)]}}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        exc = exceptions.ValidationError(detail)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _as_field_errors(exc.detail)
        response.data = {"detail": _("Invalid input: see errors."), "errors": errors}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"detail": str(detail), "errors": {}}
    return response


# A schemathesis run against /api/schema/ (issue 8, scenario 8) found that the
# schema documented only the success answers: every 400/401/403/404/409/429 the
# API gives in the format above was an "undocumented status code". This hook
# documents them once for every operation, with the shared error body.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
    "required": ["detail", "errors"],
    "additionalProperties": True,  # a 409 may add context (Conflict.extra)
}
_ERROR_DESCRIPTIONS = {
    "400": "Invalid input (body, query or filter); `errors` names the fields.",
    "401": "Missing or invalid credentials.",
    "403": "Authenticated but not allowed.",
    "404": "No such object, or not visible to the caller.",
    "409": "The object's state does not allow this action.",
    "429": "Throttled.",
}


def document_error_responses(result, generator, request, public):
    """drf-spectacular postprocessing hook: add the shared error answers to every operation.

    It also says what the filters do with an empty value (``?status=``): they ignore it, as if it were absent.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and not parameter.get("required"):
                    parameter["allowEmptyValue"] = True
            responses = operation.setdefault("responses", {})
            for code, description in _ERROR_DESCRIPTIONS.items():
                if code == "409" and method == "get":
                    continue
                responses.setdefault(
                    code, {"description": description, "content": {"application/json": {"schema": reference}}}
                )
    return result
