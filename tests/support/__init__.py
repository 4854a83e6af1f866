"""Test helpers.  One helper for each recurring need:

- run a program measured by covhook's hook: ``support.measured.run``;
- a clean environment (nothing that would start coverage or covhook by
  accident): ``support.envs.clean_env``;
- skip, or fail under ``COVHOOK_REQUIRE_ALL=1`` (CI), when a tool is missing:
  ``support.launchers.need`` (``need_module``, ``need_exe``).
"""
