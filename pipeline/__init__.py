"""Medical records technician pipeline: dictation in, proposed ICD-10 codes out."""

__version__ = "0.1.0"
