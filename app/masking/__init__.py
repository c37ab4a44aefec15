"""Masking: which fields of an event a viewer may not see (``rules``), and hiding them
in everything the app shows and writes (``masker``)."""
