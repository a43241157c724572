"""Compliance checks that run inline in every service (Privacy Act; the Do Not Call Register)."""
