"""POST /api/identifications/<id>/feedback/: confirm or correct an answer, optionally sharing
the photo (multipart). DELETE withdraws it, photo included.

Errors are AppErrors (feedback/errors.py) answered by the project's one error mapping."""
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier import throttling
from core.api_schema import error_response
from feedback import services
from feedback.errors import IdentificationNotFound
from feedback.models import Feedback


class RequiredBooleanField(serializers.BooleanField):
    # DRF reads a missing boolean in form data as an unticked checkbox (False); "correct" must
    # be said, so a missing one is an error.
    default_empty_html = serializers.empty


class FeedbackRequestSerializer(serializers.Serializer):
    correct = RequiredBooleanField(help_text="Whether the answer was right.")
    species = serializers.SlugField(
        required=False, allow_blank=True,
        help_text="What it is (an encyclopedia entry's slug); required when correct is false "
                  "unless not_a_cat.")
    not_a_cat = serializers.BooleanField(required=False, default=False,
                                         help_text="It is not a cat at all.")
    share_photo = serializers.BooleanField(
        required=False, default=False,
        help_text="Let catsite keep the photo (without its metadata) to improve the identifier.")
    image = serializers.FileField(
        required=False, help_text="The identified photo again; required with share_photo.")


class FeedbackSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="The identification's id.")
    correct = serializers.BooleanField()
    species = serializers.CharField(allow_null=True)
    not_a_cat = serializers.BooleanField()
    label = serializers.CharField(help_text="The label given to the photo: a slug or not-a-cat.")
    photo_kept = serializers.BooleanField()
    status = serializers.ChoiceField(choices=Feedback.Status.values)


def feedback_json(feedback: Feedback) -> dict:
    return {
        "id": feedback.identification_id,
        "correct": feedback.correct,
        "species": feedback.species.slug if feedback.species else None,
        "not_a_cat": feedback.not_a_cat,
        "label": feedback.label,
        "photo_kept": bool(feedback.photo),
        "status": feedback.status,
    }


class FeedbackView(APIView):
    parser_classes = (MultiPartParser, FormParser)
    permission_classes = (AllowAny,)
    authentication_classes = ()  # anonymous visitors; the unguessable id is the credential

    @extend_schema(
        summary="Confirm or correct an identification, optionally sharing the photo",
        request={"multipart/form-data": FeedbackRequestSerializer},
        responses={
            201: FeedbackSerializer,
            400: error_response("Unknown species, missing or mismatched "
                                                    "photo, or a contradictory verdict."),
            404: error_response("Unknown or expired identification id."),
            409: error_response("Feedback was already given for this id."),
            410: error_response("The feedback on this id was withdrawn."),
            429: error_response("Too many requests; see Retry-After."),
        },
    )
    def post(self, request, identification_id):
        throttling.check_feedback_rate(request)  # before the upload is parsed
        given = FeedbackRequestSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = given.validated_data
        feedback = services.feedback_create(
            identification_id=identification_id, correct=data["correct"],
            species=data.get("species") or None, not_a_cat=data["not_a_cat"],
            share_photo=data["share_photo"], photo=data.get("image"),
        )
        return Response(feedback_json(feedback), status=201)

    @extend_schema(summary="Withdraw the feedback given for an identification, photo included",
                   request=None, responses={
                       204: None,
                       404: error_response("No feedback was given under this id."),
                       429: error_response("Too many requests; see Retry-After.")})
    def delete(self, request, identification_id):
        throttling.check_feedback_rate(request)
        if not services.feedback_withdraw(identification_id):
            raise IdentificationNotFound("No feedback was given under this id.")
        return Response(status=204)
