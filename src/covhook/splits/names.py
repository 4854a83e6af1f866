"""What the runner and the pytest side of ``covhook split`` agree on."""

SPLIT_OPTION = "--covhook-split"
REPORT_OPTION = "--covhook-split-report"
PLUGIN = "covhook.splits.plugin"
