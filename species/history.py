"""The encyclopedia's edit history (django-simple-history): who changed which field of which entry,
when, from what to what; the admin's History button on each entry shows it and reverts.

Rows saved before the history existed have no record to compare their first edit with, so
`record_baseline` gives each of them one, from the row as it is (load_species calls it first).
"""
from django.apps import apps

from species.models import ModelLabel, Species, Taxon

BASELINE = "baseline: the entry as it was when the edit history began"
# What load_species writes in the history, so an edit by a person stands out from upstream's.
FROM_FILES = "load_species: from species/data"

HISTORIED = (Species, Taxon, ModelLabel)


def record_baseline() -> int:
    """A first history record for every row that has none; how many were written."""
    written = 0
    for model in HISTORIED:
        recorded = model.history.values_list("id", flat=True).distinct()
        rows = list(model.objects.exclude(pk__in=recorded))
        if not rows:
            continue
        records = model.history.bulk_history_create(rows, default_change_reason=BASELINE)
        written += len(records)
        if model is Species:
            _record_resembles(records)
    return written


def _record_resembles(records) -> None:
    # bulk_history_create leaves the many-to-many fields out; without these rows a revert to
    # the baseline would clear the look-alikes.
    m2m_history = apps.get_model("species", "HistoricalSpecies_resembles")
    by_species = {record.id: record for record in records}
    through = Species.resembles.through
    m2m_history.objects.bulk_create(
        m2m_history(history=by_species[link.species_id], id=link.id,
                    species_id=link.species_id, modellabel_id=link.modellabel_id)
        for link in through.objects.filter(species_id__in=list(by_species))
    )
