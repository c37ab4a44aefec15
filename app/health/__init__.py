"""A stream's health from its index: version gaps, duplicates, split aggregates, clocks,
undecodable records, missing correlation ids, broken causation and unfinished sagas."""
