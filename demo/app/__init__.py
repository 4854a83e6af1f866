"""A tiny package for the demo to measure: every process below calls into it."""
