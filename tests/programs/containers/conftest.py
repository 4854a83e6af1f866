"""The sample project's own tests run inside containers, never in the host's session."""

collect_ignore_glob = ["project/*"]
