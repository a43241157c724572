"""Recording: the system of record — every contact, its timeline, and in time the KPIs."""
