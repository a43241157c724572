"""Switchboard's shared kernel: event contracts, topic registry, settings and runtime wiring.

Nothing here holds a business rule; services import it, never each other.
"""
