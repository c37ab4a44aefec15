"""How events and results are written for people and programs (JSON, CSV)."""
