"""The API's one error component in the OpenAPI schema (drf-spectacular): ``Error``, the body
``AppError.as_json()`` builds and ``core.http_errors`` answers with on every endpoint:

    {"error": {"code": "...", "message": "...", "details": ...}}   (details only when there are)

Views document their error statuses with ``error_response(description)``; the schema hook
``document_errors`` (settings.SPECTACULAR_SETTINGS) gives every operation that names no error
status of its own a ``default`` response with the same component, so no endpoint is left without
its error shape.
"""
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

ERROR_COMPONENT = "#/components/schemas/Error"


class ErrorBodySerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: invalid_image, "
                                           "file_too_large, rate_limited, model_unavailable...")
    message = serializers.CharField(help_text="One line for people: what went wrong and what "
                                              "to do.")
    details = serializers.JSONField(
        required=False,
        help_text="Structured detail when there is some (invalid_request: the message of each "
                  "field that is wrong); absent otherwise.")


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


def error_response(description: str | None = None) -> OpenApiResponse:
    """An error status of an operation: the one Error component, with what it means here."""
    return OpenApiResponse(ErrorSerializer, description=description or "")


def document_errors(result, generator, request, public):
    """A POSTPROCESSING_HOOK: every operation without an error status of its own answers errors
    with the Error component (``default``). The component itself comes from ErrorSerializer,
    which the views' error statuses use."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            if not any(status[0] in "45" or status == "default" for status in responses):
                responses["default"] = {
                    "description": "An error: the error body every endpoint answers with.",
                    "content": {"application/json": {"schema": {"$ref": ERROR_COMPONENT}}}}
    return result
