"""Transcription evaluation: WER measures, the development set, the transcription benchmark."""
