"""Following a business process across topics: id rules, id columns beside each index,
the causation tree of one correlation id, and its output for people and programs."""
