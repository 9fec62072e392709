"""catsite: a cat encyclopedia that identifies cats from photos."""

__version__ = "0.1.0"
