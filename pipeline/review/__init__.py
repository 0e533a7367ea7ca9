"""The coders' review queue: the web app and what its routes do.

``app`` creates the app and includes ``routers/`` (one ``APIRouter`` per resource); ``dependencies``
holds every route dependency (database session, logged-in user, role and CSRF check, the record a
change may touch) and ``responses`` how routes answer (page, redirect back with a message, JSON
twin). The review's own logic: ``auth`` (accounts, passwords, sessions), ``worklist`` (queue and
claims), ``decisions`` (a coder's code decisions), ``workflow`` (pending, queries, finalize, reopen),
``measures``, ``media``, ``tabular`` and ``transcript_view``. The audit trail is
:mod:`pipeline.store.audit`, the roles :mod:`pipeline.roles`, a record's validation
:mod:`pipeline.records.validation`.
"""
