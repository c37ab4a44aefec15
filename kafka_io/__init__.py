"""The only door to the outside world: Kafka, the schema registry and event files.

Nothing in this package imports Qt.
"""
