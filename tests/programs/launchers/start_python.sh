#!/bin/sh
# A shell script that starts Python, as test and deploy scripts do.
here=$(dirname "$0")
python "$here/ending.py" "$1" "$2"
