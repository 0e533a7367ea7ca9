"""Extraction evaluation: NER corpora and scores, ConText on NegEx, procedure mentions, throughput."""
