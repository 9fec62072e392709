"""The model card as a page (/model/) and as JSON (GET /api/model/)."""
from django.shortcuts import render
from django.views.decorators.http import require_safe
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catmodel.inference import ModelUnavailable
from classifier import runtime
from classifier.model_card import ModelCard, build_card, has_card
from core.api_schema import error_response

REMOTE_MESSAGE = ("The identifier runs as a separate model service, so this site has no card "
                  "for it; ask the service's operators.")


@require_safe
def model_card_page(request):
    classifier = runtime.load()
    return render(request, "classifier/model_card.html", {
        "card": build_card(classifier) if has_card(classifier) else None,
        "remote": classifier is not None and not has_card(classifier),
        "remote_message": REMOTE_MESSAGE,
    })


def card_json(request, card: ModelCard) -> dict:
    def entry_ref(entry):
        return {"slug": entry.slug, "name": entry.common_name,
                "url": request.build_absolute_uri(entry.get_absolute_url())}

    def group_ref(level):
        if level is None:
            return None
        return {"rank": level.rank, "name": level.name, "scientific_name": level.scientific_name}

    return {
        "model": {"name": card.name, "version": card.version, "created_at": card.created_at},
        "source": card.source,
        "framework": card.framework,
        "checks": card.checks,
        "label_count": card.label_count,
        "counts": card.counts,
        "entries": [
            {**entry_ref(n.entry), "level": n.level, "labels": n.labels,
             "group": group_ref(n.group)}
            for n in card.namings
        ],
    }


REF = {"slug": serializers.CharField(), "name": serializers.CharField(),
       "url": serializers.URLField()}
CARD = inline_serializer("ModelCard", {
    "model": inline_serializer("ModelCardModel", {
        "name": serializers.CharField(), "version": serializers.CharField(),
        "created_at": serializers.CharField()}),
    "source": serializers.DictField(help_text="Where the weights came from (the manifest's)."),
    "framework": serializers.DictField(help_text="Versions the package was built with."),
    "checks": serializers.DictField(help_text="What build_model verified (parity, sanity)."),
    "label_count": serializers.IntegerField(),
    "counts": serializers.DictField(child=serializers.IntegerField(),
                                    help_text="Entries per level: species, group, none."),
    "entries": inline_serializer("ModelCardEntry", {
        **REF,
        "level": serializers.ChoiceField(
            ["species", "group", "none"],
            help_text="species: the model names it; group: only its genus or group; none."),
        "labels": serializers.ListField(child=serializers.CharField()),
        "group": inline_serializer("ModelCardGroup", {
            "rank": serializers.CharField(), "name": serializers.CharField(),
            "scientific_name": serializers.CharField()}, allow_null=True),
    }, many=True),
})


class ModelCardView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        summary="What the identifier is and which cats it can name",
        responses={200: CARD, 503: error_response("No model is installed.")},
    )
    def get(self, request):
        classifier = runtime.get()  # 503 model_unavailable without a model
        if not has_card(classifier):
            raise ModelUnavailable(REMOTE_MESSAGE)
        return Response(card_json(request, build_card(classifier)))
