"""Event payloads, one module per producing service. The topic registry names which goes where."""
