"""Operations: the drop folder (inbox, sidecars, archive, quarantine), the failure-safe
per-dictation runner and the daily summary. Plain code; the Prefect flows that schedule it
live in ``flows/dropfolder.py`` and ``flows/nightly.py``."""
