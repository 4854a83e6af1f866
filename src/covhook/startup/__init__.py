"""What runs inside every measured process: start-up, tagging, scope, signals, saves.

Nothing here may import the host side (:mod:`covhook.host`, the CLI): a measured
process must load only what measuring needs.
"""
