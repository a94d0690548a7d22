"""Publication for BI: the gate (gate.py, invariant 7) and the atomic release (release.py)."""
