"""The public NER corpora in ``../shared/data`` (token<TAB>IOB files) as spaCy Docs.

NCBI-disease (``Disease``) and BC5CDR (``Disease`` + ``Chemical``). Labels are mapped to the
pipeline's entity labels (``DISEASE``, ``CHEMICAL``). Sentences are grouped into documents of
``sents_per_doc`` sentences so the model sees some context, as in the abstracts they come from.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from spacy.tokens import Doc
from spacy.training import iob_to_biluo
from spacy.training.iob_utils import biluo_tags_to_spans
from spacy.vocab import Vocab

from pipeline.errors import PipelineError

LABELS = {"Disease": "DISEASE", "Chemical": "CHEMICAL"}


@dataclass(frozen=True)
class NerCorpus:
    name: str
    folder: str  # relative to the shared data root
    labels: tuple[str, ...]

    def split_path(self, data_root: Path, split: str) -> Path:
        name = {"train": "train.tsv", "dev": "devel.tsv", "devel": "devel.tsv"}.get(split)
        if name is None:
            raise PipelineError(f"unknown split {split!r} (train or dev; the test splits are withheld)")
        return data_root / self.folder / name


CORPORA: dict[str, NerCorpus] = {
    "ncbi": NerCorpus("ncbi", "ncbi-disease/conll", ("DISEASE",)),
    "bc5cdr": NerCorpus("bc5cdr", "bc5cdr/BC5CDR-IOB", ("DISEASE", "CHEMICAL")),
    # the disease layer of BC5CDR alone: extra training data for the disease-only (NCBI) model
    "bc5cdr-disease": NerCorpus("bc5cdr-disease", "bc5cdr/BC5CDR-disease-IOB", ("DISEASE",)),
}


def get_corpus(name: str) -> NerCorpus:
    try:
        return CORPORA[name]
    except KeyError:
        raise PipelineError(f"unknown NER corpus {name!r}; choose one of {', '.join(CORPORA)}") from None


def read_sentences(path: Path) -> Iterator[tuple[list[str], list[str]]]:
    """(words, IOB tags) per sentence of a token<TAB>tag file; blank lines end sentences."""
    if not path.exists():
        raise PipelineError(f"NER corpus file not found: {path} (is ../shared/data present?)")
    words: list[str] = []
    tags: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    yield words, tags
                words, tags = [], []
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                raise PipelineError(f"{path}:{lineno}: expected token<TAB>tag")
            tag = parts[-1]
            if tag != "O":
                prefix, _, label = tag.partition("-")
                tag = f"{prefix}-{LABELS.get(label, label.upper())}"
            words.append(parts[0])
            tags.append(tag)
    if words:
        yield words, tags


def _doc(vocab: Vocab, sents: list[tuple[list[str], list[str]]]) -> Doc:
    words = [w for ws, _ in sents for w in ws]
    tags = [t for _, ts in sents for t in ts]
    spaces = [True] * len(words)
    starts = []
    for ws, _ in sents:
        starts.extend([True] + [False] * (len(ws) - 1))
    doc = Doc(vocab, words=words, spaces=spaces, sent_starts=starts)
    doc.ents = biluo_tags_to_spans(doc, iob_to_biluo(tags))
    return doc


def read_docs(path: Path, vocab: Vocab | None = None, sents_per_doc: int = 10, limit: int | None = None) -> list[Doc]:
    """Gold Docs (tokens as in the corpus, ``doc.ents`` the gold spans); ``limit`` caps sentences."""
    vocab = vocab or Vocab()
    docs: list[Doc] = []
    batch: list[tuple[list[str], list[str]]] = []
    for i, sent in enumerate(read_sentences(path)):
        if limit is not None and i >= limit:
            break
        batch.append(sent)
        if len(batch) == sents_per_doc:
            docs.append(_doc(vocab, batch))
            batch = []
    if batch:
        docs.append(_doc(vocab, batch))
    return docs


def shared_data_root() -> Path:
    """The public corpora folder: ``settings.shared_data_dir``, else ``../shared/data`` beside the repo."""
    from pipeline.settings import get_settings

    configured = get_settings().shared_data_dir
    if configured is not None:
        return Path(configured)
    return Path(__file__).resolve().parents[3] / "shared" / "data"
