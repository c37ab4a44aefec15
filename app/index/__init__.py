"""What has been read, kept as compact columns: the index, its log order, its queries,
its files on disk and the decision of what a reopen must read."""
