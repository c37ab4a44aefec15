"""The headless face: ``event-explorer COMMAND`` over the same core as the GUI."""
