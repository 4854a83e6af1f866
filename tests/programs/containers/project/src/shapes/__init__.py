"""A tiny package installed into the image; tests map its site-packages files to src/."""

from shapes.area import area, describe  # by-import

__all__ = ["area", "describe"]  # by-import
