"""manage.py model_aliases: where a model's aliases point, and (--history) every recorded move.

    manage.py model_aliases [--name NAME] [--history] [--json]

One line per alias (latest, champion, challenger) from the store MODEL_STORE names; with
--history, each alias's moves oldest first: when, who, from -> to, forced, the accuracies.
--json prints the same as one JSON document, for tools.
"""
import json
from dataclasses import asdict

from django.conf import settings

from catmodel.delivery.aliases import history, read_alias
from catmodel.delivery.store_base import ALIASES
from classifier.management.store_command import StoreCommand


class Command(StoreCommand):
    help = "Show where a model's aliases point in the model store, and their history."

    def add_arguments(self, parser):
        parser.add_argument("--name", default=None, help="model name (default: MODEL_NAME)")
        parser.add_argument("--history", action="store_true",
                            help="also every recorded move of each alias")
        parser.add_argument("--json", action="store_true", help="one JSON document")

    def handle(self, *args, **options):
        store = self.open_store(options)
        name = options["name"] or settings.MODEL_NAME
        report = {}
        for alias in ALIASES:
            report[alias] = {"version": read_alias(store, name, alias)[0]}
            if options["history"]:
                report[alias]["history"] = [asdict(m) for m in history(store, name, alias)]
        if options["json"]:
            self.stdout.write(json.dumps({"model": name, "store": store.description,
                                          "aliases": report}, indent=2))
            return
        self.stdout.write(f"{name} in {store.description}")
        for alias, entry in report.items():
            self.stdout.write(f"  {alias}: {entry['version'] or '(not set)'}")
            for move in entry.get("history", []):
                self.stdout.write(f"    {_describe(move)}")


def _describe(move: dict) -> str:
    text = f"{move['at']} {move['by']}: {move['from_version'] or 'nothing'} -> {move['to_version']}"
    evaluation = move.get("evaluation")
    if evaluation:
        champion = evaluation.get("champion")
        text += f", top-1 {evaluation['candidate']:.4f}" + (
            f" vs {champion:.4f}" if champion is not None else "")
    if move.get("forced"):
        text += f", FORCED ({move.get('note') or '--force'})"
    return text
