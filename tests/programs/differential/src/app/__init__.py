"""The in-scope package of the differential project."""

LOADED = True
