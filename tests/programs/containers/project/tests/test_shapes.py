"""Tests that run under pytest *inside* the container."""

import math

import pytest
import shapes


def test_circle():
    assert shapes.area("circle", 1) == pytest.approx(math.pi)


def test_unknown():
    with pytest.raises(ValueError, match="hexagon"):
        shapes.area("hexagon", 1)
