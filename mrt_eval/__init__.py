"""Evaluation, benchmarks and training of mrt: everything that measures the product on public
corpora (CodiEsp, the dictation set, NCBI-disease / BC5CDR, NegEx, MTSamples, the transcription
development set) or fits a shipped model on them. None of it runs when a dictation is coded.

* :mod:`mrt_eval.coding` - ``mrt eval coding``, ``mrt bench code``, the CodiEsp and dictation-set
  loaders, the entity cache, and the re-ranker's training (``python -m mrt_eval.coding.rerank_train``);
* :mod:`mrt_eval.extract` - ``mrt eval ner|context|procedures``, ``mrt bench extract``, the NER corpora;
* :mod:`mrt_eval.transcribe` - ``mrt bench transcribe``, WER measures, the development set;
* :mod:`mrt_eval.throughput` - ``mrt bench pipeline``, end-to-end throughput of the drop-folder flow;
* :mod:`mrt_eval.cli` - the ``eval`` and ``bench`` command groups.

The product package (``pipeline``) imports this package in one place only: ``pipeline/cli.py``
registers the command groups.
"""
