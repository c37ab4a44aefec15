"""The deterministic generator of the bundled demo event file."""
