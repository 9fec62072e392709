"""What evaluate_model and compare_models share: --json and --plot written, each said."""
from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path


def write_files(stdout, options, document: dict, plot: Callable[[Path], object]) -> None:
    """``document`` to --json and ``plot(path)`` to --plot, when asked for; "Wrote PATH" each."""
    if options["json"]:
        options["json"].write_text(json.dumps(document, indent=2) + "\n")
        stdout.write(f"Wrote {options['json']}")
    if options["plot"]:
        plot(options["plot"])
        stdout.write(f"Wrote {options['plot']}")
