"""Coding-stage evaluation: CodiEsp and the dictation set, metrics, speed, re-ranker training."""
