"""Qt views of the core: they show what app/ gives them and send intent back."""
