"""Finding one id everywhere: every event of an aggregate across the topics of a source,
as one timeline, with the state each topic's fold gives it."""
