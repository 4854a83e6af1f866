"""The child scrubbed.py starts with env={}."""

answer = 6 * 7  # scrubbed-child
