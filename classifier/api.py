"""POST /api/classify/: identify the cat in a photo (multipart field "image")."""
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier import records, services, throttling
from classifier.answer import Answer
from core.api_schema import error_response


class SpeciesRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    scientific_name = serializers.CharField()
    url = serializers.URLField()


class TaxonSerializer(serializers.Serializer):
    rank = serializers.ChoiceField(["species", "genus", "subfamily", "family"])
    name = serializers.CharField(help_text="lynx, domestic cat, Lion...")
    scientific_name = serializers.CharField(help_text="Lynx, Felis catus, Panthera leo...")


class PredictionSerializer(serializers.Serializer):
    label = serializers.CharField(
        help_text="The name of what the labels mean (a species, breed or group), or the model's "
                  "label when it means no cat.")
    probability = serializers.FloatField()
    species = SpeciesRefSerializer(
        allow_null=True, help_text="The entry the labels mean; null for a group or no cat.")
    taxon = TaxonSerializer(allow_null=True, help_text="The group the labels mean, if one.")
    labels = serializers.ListField(
        child=serializers.CharField(), help_text="The model labels added up into this answer."
    )


class IdentificationSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="This identification's id (128 random bits), for "
                                         "POST /api/identifications/<id>/feedback/.")
    is_cat = serializers.BooleanField()
    cat_probability = serializers.FloatField(
        help_text="All cat species together; is_cat when at or above the site's threshold."
    )
    taxon = TaxonSerializer(
        allow_null=True,
        help_text="The answer: the most specific level whose probability reaches the threshold "
                  "(a breed answers with its species, the domestic cat); null when not a cat.")
    candidates = SpeciesRefSerializer(
        many=True, help_text="The encyclopedia entries the answer can be: the species or breed "
                             "itself, or every entry under the group (the four lynxes).")
    species = SpeciesRefSerializer(
        allow_null=True, help_text="Set only when the answer is one species or breed.")
    predictions = PredictionSerializer(many=True)
    model = inline_serializer("ModelRef", {"name": serializers.CharField(),
                                           "version": serializers.CharField()})
    timings_ms = serializers.DictField(child=serializers.FloatField())


class UploadSerializer(serializers.Serializer):
    image = serializers.FileField(help_text="A photo: JPEG, PNG, WebP or GIF.")


def species_ref(request, species):
    if species is None:
        return None
    return {
        "slug": species.slug,
        "name": species.common_name,
        "scientific_name": species.scientific_name,
        "url": request.build_absolute_uri(species.get_absolute_url()),
    }


def taxon_ref(rank: str, name: str, scientific_name: str) -> dict:
    return {"rank": rank, "name": name, "scientific_name": scientific_name}


def identification_json(request, result: Answer) -> dict:
    answer = result.answer
    return {
        "is_cat": result.is_cat,
        "cat_probability": round(result.cat_probability, 6),
        "taxon": taxon_ref(answer.rank, answer.name, answer.scientific_name) if answer else None,
        "candidates": [species_ref(request, c) for c in answer.candidates] if answer else [],
        "species": species_ref(request, result.best_species),
        "predictions": [
            {
                "label": p.label,
                "probability": round(p.probability, 6),
                "species": species_ref(request, p.species),
                "taxon": taxon_ref(p.taxon.rank, p.taxon.common_name, p.taxon.scientific_name)
                if p.taxon else None,
                "labels": p.labels,
            }
            for p in result.predictions
        ],
        "model": {"name": result.model_name, "version": result.model_version},
        "timings_ms": {k: round(v, 2) for k, v in result.timings_ms.items()},
    }


class ClassifyView(APIView):
    parser_classes = [MultiPartParser]
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Identify the cat in a photo",
        request={"multipart/form-data": UploadSerializer},
        responses={
            200: IdentificationSerializer,
            400: error_response("No file, or not a readable image."),
            413: error_response("File or pixel count over the limit."),
            415: error_response("An image format that is not supported."),
            429: error_response("Too many requests; see Retry-After."),
            503: error_response("No model is loaded, the model service does "
                                                    "not answer, or too many large photos at "
                                                    "once; see Retry-After."),
        },
    )
    def post(self, request):
        # Errors (rate limited, bad photo, busy, no model) are AppErrors: the API's exception
        # handler (core.http_errors) answers them, with Retry-After where there is one.
        throttling.check_identify_rate(request)  # before the upload is parsed
        upload = request.FILES.get("image")
        result = services.identify(upload)
        answer = identification_json(request, result)
        # An id for feedback on this answer: the photo's hash is kept with it, not the photo.
        identification = records.identification_create(
            photo=upload, answer=answer, species=result.best_species)
        return Response({"id": identification.id, **answer})
