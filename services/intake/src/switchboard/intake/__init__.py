"""Intake: where channel systems hand contacts to Switchboard."""
