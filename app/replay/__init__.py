"""Rebuilding state: the fold API and its discovery, running folds safely, replaying one
aggregate (checkpoints, diff, blame) and reading one aggregate cold from a source."""
