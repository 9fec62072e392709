"""Shared infrastructure that the project package and every app use: the application error
type and its mapping to HTTP, client identification, counters, secret redaction.

Apps import from here, never from ``catsite`` (the project package). ``core.errors`` imports
nothing from Django, so the pure inference code can derive its errors from it too.
"""
