"""Intake's channel adapters: each turns what a channel system sends into a normalised contact."""
