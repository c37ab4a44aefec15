"""Point-in-time audit: what had been written by a moment, every aggregate's state then,
and evidence of one aggregate's state that a colleague can verify later.

* ``as_of``: the moment (or per-partition offsets) the whole app is frozen at;
* ``states``: the state of every aggregate of an indexed topic at that moment;
* ``canonical``, ``manifest``, ``collect``, ``evidence``: the evidence of one state;
* ``report_content``, ``report_html``: the same evidence for a person;
* ``verify``, ``verify_cluster``: checking a report offline and against the cluster;
* ``signing``: Ed25519 keys and signatures of manifests.

No Qt here: the PDF is made by ``app.gui.report_pdf`` and handed in as a callback.
"""
