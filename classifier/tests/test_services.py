"""Labels to species: probabilities added up per species, the threshold, admin-editable links."""
import pytest

from classifier import services
from classifier.inference import FileTooLarge, InvalidImage, ModelUnavailable
from classifier.tests.web_fixtures import cat_jpeg, coffee_jpeg, upload
from species.models import ModelLabel, Species

pytestmark = pytest.mark.django_db


def test_a_real_cat_photo_is_a_domestic_tabby(installed_model):
    result = services.identify(upload(cat_jpeg()))
    assert result.is_cat
    assert result.best_species.slug == "domestic-tabby"
    assert result.cat_probability > 0.8
    assert result.model_name == installed_model.name
    assert set(result.timings_ms) == {"decode", "preprocess", "inference", "total"}


def test_probabilities_of_labels_owned_by_one_species_add_up(installed_model):
    raw = installed_model.classify(cat_jpeg())
    labels = list(installed_model.labels)
    expected = sum(raw.probabilities[labels.index(label)] for label in ("tabby", "tiger cat"))
    result = services.identify(upload(cat_jpeg()))
    tabby = result.best
    assert sorted(tabby.labels) == ["tabby", "tiger cat"]
    assert tabby.probability == pytest.approx(expected, rel=1e-6)
    cat_labels = set(ModelLabel.objects.values_list("label", flat=True))
    cat_probabilities = [p for label, p in zip(labels, raw.probabilities, strict=True)
                         if label in cat_labels]
    assert result.cat_probability == pytest.approx(sum(cat_probabilities), rel=1e-6)


def test_predictions_are_ranked_top_k_and_non_cats_keep_their_label(installed_model, settings):
    settings.CLASSIFIER_TOP_K = 5
    result = services.identify(upload(coffee_jpeg()))
    assert not result.is_cat
    assert len(result.predictions) == 5
    probabilities = [p.probability for p in result.predictions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert result.looks_like.label == "espresso"
    assert result.best_species is None


def test_the_threshold_decides_cat_or_not(installed_model, settings):
    settings.CAT_THRESHOLD = 0.999
    result = services.identify(upload(cat_jpeg()))
    assert not result.is_cat and result.best_species is None
    settings.CAT_THRESHOLD = 0.5
    assert services.identify(upload(cat_jpeg())).is_cat


def test_moving_labels_to_another_species_changes_the_answer_without_code(installed_model):
    mau = Species.objects.get(slug="egyptian-mau")
    ModelLabel.objects.filter(label__in=["tabby", "tiger cat"]).update(species=mau)
    result = services.identify(upload(cat_jpeg()))
    assert result.best_species == mau


def test_a_label_owned_by_nobody_counts_as_not_a_cat(installed_model):
    ModelLabel.objects.filter(label__in=["tabby", "tiger cat", "Egyptian cat"]).delete()
    result = services.identify(upload(cat_jpeg()))
    assert result.best_species is None or result.best_species.slug != "domestic-tabby"
    assert any(p.species is None and p.label == "tabby" for p in result.predictions)


def test_no_upload_empty_and_too_large(installed_model, settings):
    with pytest.raises(InvalidImage):
        services.identify(None)
    with pytest.raises(InvalidImage, match="empty"):
        services.identify(upload(b""))
    settings.UPLOAD_MAX_BYTES = 1000
    with pytest.raises(FileTooLarge) as caught:
        services.identify(upload(cat_jpeg()))
    assert caught.value.status == 413


def test_without_a_model_identification_is_unavailable(no_model):
    with pytest.raises(ModelUnavailable) as caught:
        services.identify(upload(cat_jpeg()))
    assert caught.value.status == 503
