"""Which cached pages show what (core/page_cache.py), and the receivers that invalidate exactly
the pages an edit changes, whoever makes it (the admin, a shell, a command).

Tags: the list (every search and filter: any edit may change what matches), the home page
(featured cards and the counts), each species page (its own fields, its labels and the cards of
its genus mates), the taxonomy (groups and their labels: every species page says how the model
names its entry) and each illustration (its drawing inputs only). ANSWERS is no page: every
edit bumps it, so each process reads the encyclopedia its answers use again
(species/answer_data.py).
"""
from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver

from core.page_cache import invalidate
from species.answer_data import ANSWERS
from species.models import ModelLabel, Species, Taxon
from species.pictures import DRAWING_FIELDS
from species.selectors import pages_showing_as_look_alike

LIST = "species-list"
HOME = "home"
# The groups (genus, domestic cat...) and their labels: how the model names every entry.
TAXONOMY = "taxonomy"

# What a compact card shows (the genus mates on a species page); which mates are shown
# depends on the genus, the kind and the name.
CARD_FIELDS = DRAWING_FIELDS | {
    "scientific_name", "kind", "conservation_status", "genus", "image", "image_alt",
}
# A full card (the home page's featured cats) also shows the summary.
FEATURED_FIELDS = CARD_FIELDS | {"summary", "featured"}
# Written on every save without changing what any page shows.
_UNSHOWN = {"id", "created_at", "updated_at"}


def page_tag(slug: str) -> str:
    return f"species:{slug}"


def illustration_tag(slug: str) -> str:
    return f"illustration:{slug}"


def snapshot(species: Species) -> dict:
    return {field.attname: field.value_from_object(species)
            for field in Species._meta.concrete_fields if field.attname not in _UNSHOWN}


def tags_for_change(before: dict | None, after: dict | None,
                    genus_mates=lambda genera: ()) -> set[str]:
    """The tags an edit from ``before`` to ``after`` (None: created or deleted) changes.
    ``genus_mates(genera)`` gives the slugs of the species in those genera."""
    if before == after:
        return set()
    states = [state for state in (before, after) if state is not None]
    if before is None or after is None:
        changed = set(states[0])
    else:
        changed = {name for name in before if before[name] != after[name]}
    tags = {LIST} | {page_tag(state["slug"]) for state in states}
    if changed & DRAWING_FIELDS:
        tags |= {illustration_tag(state["slug"]) for state in states}
    if changed & CARD_FIELDS:
        tags |= {page_tag(slug) for slug in genus_mates({state["genus"] for state in states})}
    if (len(states) == 1 or "kind" in changed  # the home page counts each kind
            or (changed & FEATURED_FIELDS and any(state["featured"] for state in states))):
        tags.add(HOME)
    return tags


def _genus_mates(genera: set[str]) -> list[str]:
    return list(Species.objects.filter(genus__in=genera).values_list("slug", flat=True))


@receiver(pre_save, sender=Species, dispatch_uid="page-cache-species-before")
def _remember_species(sender, instance, raw=False, **kwargs):
    if raw:  # fixtures load without invalidation (nothing was cached from them yet)
        return
    old = Species.objects.filter(pk=instance.pk).first() if instance.pk else None
    instance._page_cache_before = snapshot(old) if old else None
    instance._page_cache_look_alikes = _look_alike_pages([old.pk]) if old else set()


@receiver(post_save, sender=Species, dispatch_uid="page-cache-species-saved")
def _species_saved(sender, instance, raw=False, **kwargs):
    if raw:
        return
    before = instance.__dict__.pop("_page_cache_before", None)
    shown_on = instance.__dict__.pop("_page_cache_look_alikes", set())
    tags = tags_for_change(before, snapshot(instance), _genus_mates)
    if tags:
        tags |= shown_on | _look_alike_pages([instance.pk]) | {ANSWERS}
    invalidate(tags)


@receiver(post_delete, sender=Species, dispatch_uid="page-cache-species-deleted")
def _species_deleted(sender, instance, **kwargs):
    # Its pk is gone: every page that may have shown it is found by the list's old state.
    invalidate(tags_for_change(snapshot(instance), None, _genus_mates)
               | instance.__dict__.pop("_page_cache_look_alikes", set()) | {ANSWERS})


@receiver(pre_delete, sender=Species, dispatch_uid="page-cache-species-deleting")
def _species_deleting(sender, instance, **kwargs):
    instance._page_cache_look_alikes = _look_alike_pages([instance.pk])


@receiver(pre_save, sender=ModelLabel, dispatch_uid="page-cache-label-before")
def _remember_label_owner(sender, instance, raw=False, **kwargs):
    if raw:
        return
    instance._page_cache_owner = (
        ModelLabel.objects.filter(pk=instance.pk).values_list("species_id", "taxon_id").first()
        if instance.pk else None
    ) or (None, None)
    instance._page_cache_look_alikes = _look_alike_pages(
        [instance._page_cache_owner[0], instance.species_id])


def _labels_changed(species_ids, group_changed: bool, shown_before=frozenset()) -> None:
    # A species page says how the model names it (its labels, or its group's), and the list
    # finds a species by its labels; a label shared makes look-alikes.
    slugs = Species.objects.filter(pk__in=[pk for pk in species_ids if pk]).values_list(
        "slug", flat=True)
    tags = {LIST, ANSWERS} | {page_tag(slug) for slug in slugs} | set(shown_before)
    tags |= _look_alike_pages(species_ids)
    invalidate(tags | {TAXONOMY} if group_changed else tags)


@receiver(post_save, sender=ModelLabel, dispatch_uid="page-cache-label-saved")
def _label_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        old_species, old_taxon = instance.__dict__.pop("_page_cache_owner", (None, None))
        _labels_changed([old_species, instance.species_id],
                        bool(old_taxon or instance.taxon_id),
                        instance.__dict__.pop("_page_cache_look_alikes", set()))


@receiver(post_delete, sender=ModelLabel, dispatch_uid="page-cache-label-deleted")
def _label_deleted(sender, instance, **kwargs):
    _labels_changed([instance.species_id], bool(instance.taxon_id),
                    instance.__dict__.pop("_page_cache_look_alikes", set()))


@receiver(pre_delete, sender=ModelLabel, dispatch_uid="page-cache-label-deleting")
def _label_deleting(sender, instance, **kwargs):
    instance._page_cache_look_alikes = _look_alike_pages([instance.species_id])


@receiver(post_save, sender=Taxon, dispatch_uid="page-cache-taxon-saved")
@receiver(post_delete, sender=Taxon, dispatch_uid="page-cache-taxon-deleted")
def _taxon_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        invalidate({TAXONOMY, LIST, ANSWERS})


# The look-alikes on species pages (species.selectors.related_lists) are chosen across genera by
# labels, resemblances, coat and size: any edit may move an entry onto or off another page.
# The pages that show it before or after the edit are exactly the ones it changes.
def _look_alike_pages(species_ids) -> set[str]:
    species_ids = [pk for pk in species_ids if pk]
    if not species_ids:
        return set()
    return {page_tag(slug) for slug in pages_showing_as_look_alike(species_ids)}


@receiver(m2m_changed, sender=Species.resembles.through, dispatch_uid="page-cache-resembles")
def _resemblances_changed(sender, instance, action, reverse=False, pk_set=None, **kwargs):
    # Reverse: a label's resembled_by changed (pk_set is None when cleared).
    ids = ([instance.pk] if not reverse
           else list(pk_set or instance.resembled_by.values_list("pk", flat=True)))
    if action in ("pre_add", "pre_remove", "pre_clear"):
        instance._page_cache_look_alike_pages = _look_alike_pages(ids)
    elif action in ("post_add", "post_remove", "post_clear"):
        before = instance.__dict__.pop("_page_cache_look_alike_pages", set())
        invalidate({ANSWERS} | (before | _look_alike_pages(ids) | {page_tag(instance.slug)}
                                if not reverse else before | _look_alike_pages(ids)))
