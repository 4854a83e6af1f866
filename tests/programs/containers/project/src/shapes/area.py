"""Areas of shapes; each caller runs different lines (marked for the tests)."""

import math  # by-import


def area(kind, size):  # by-import
    if kind == "square":  # by-script by-test
        return size * size  # by-script
    if kind == "circle":  # by-test
        return math.pi * size * size  # by-test
    raise ValueError(kind)  # by-test


def describe(kind, size):  # by-import
    return f"{kind} of size {size} has area {area(kind, size):.2f}"  # by-script


def never_called():  # by-import
    return "not run anywhere"
