"""How the installed photo model names an encyclopedia entry, for the species pages:

    {% load model_naming %}{% model_naming species as naming %}

The species app shows it without importing the classifier (the apps go one way: species <-
classifier); the page cache keeps one page per served model (ClassifierConfig.ready)."""
from django import template

from classifier import runtime
from classifier.model_card import naming_for

register = template.Library()


@register.simple_tag
def model_naming(entry):
    """The entry's Naming under the installed model, or None when no model is installed (or
    the model has no card)."""
    return naming_for(runtime.load(), entry)
