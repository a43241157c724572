"""The `switchboard` command: runs the centre, one service, the demo, and the operator's tools."""
