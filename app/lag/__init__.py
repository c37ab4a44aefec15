"""Consumer lag over time (history, lag in seconds, Burrow-style status) and event rates."""
