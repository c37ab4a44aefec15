"""The Qt composition root: main window, workers, settings; wires widgets to the core."""
