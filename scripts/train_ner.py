"""Retrain mrt's NER models from the public corpora in ../shared/data (one command).

    python scripts/train_ner.py --corpus all       # both shipped models, one after the other
    python scripts/train_ner.py --corpus ncbi      # DISEASE, NCBI-disease
    python scripts/train_ner.py --corpus bc5cdr    # DISEASE + CHEMICAL, BC5CDR

Builds the static word vectors first when ~/.cache/mrt/ner/vectors is missing
(scripts/build_ner_vectors.py), converts the token/IOB files to .spacy DocBins under
~/.cache/mrt/ner/, trains with
``python -m spacy train models/ner/config.cfg`` and copies the best model (by dev F1) to
``models/ner/<corpus>/`` where the package ships it. Extra ``--`` arguments go to spacy train
(e.g. ``-- --training.max_epochs 20``). Use ``--no-install`` to leave models/ untouched.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from spacy.tokens import DocBin  # noqa: E402

from mrt_eval.extract.ner_corpora import CORPORA, get_corpus, read_docs  # noqa: E402

CONFIG = ROOT / "models" / "ner" / "config.cfg"
GAZETTEER = ROOT / "pipeline" / "extract" / "ner_gazetteer.py"  # the models' dictionary-feature component
DEFAULT_DATA = ROOT.parent / "shared" / "data"
WORK = Path.home() / ".cache" / "mrt" / "ner"


SHIPPED_RECIPES: dict[str, list[str]] = {"ncbi": [], "bc5cdr": []}  # corpus -> extra training corpora
# vector rows kept when installing (0: all 20,000). Pruning bc5cdr to 15,000 cost 0.13 dev F1 (84.30 -> 84.17).
SHIPPED_PRUNE: dict[str, int] = {"ncbi": 15000, "bc5cdr": 0}
SHIPPED_PRUNE = {"ncbi": 15000, "bc5cdr": 0}  # vector rows kept when installing (0: all; bc5cdr keeps 20,000: +0.13 F1)


def convert(corpus: str, data_root: Path, add_train: list[str]) -> dict[str, Path]:
    """DocBins of the corpus' train (plus the train splits of ``add_train``) and dev splits."""
    spec = get_corpus(corpus)
    out = {}
    for split in ("train", "dev"):
        target = WORK / corpus / f"{split}.spacy"
        target.parent.mkdir(parents=True, exist_ok=True)
        docs = read_docs(spec.split_path(data_root, split))
        if split == "train":
            for extra in add_train:
                docs += read_docs(get_corpus(extra).split_path(data_root, "train"))
        DocBin(docs=docs, store_user_data=False).to_disk(target)
        print(f"{corpus} {split}: {len(docs)} docs, {sum(len(d.ents) for d in docs)} entities -> {target}")
        out[split] = target
    return out


def train(
    corpus: str,
    data_root: Path,
    extra: list[str],
    install: bool,
    add_train: list[str],
    vectors: Path | None = None,
    prune_vectors: int = 0,
    lexicon: Path | None = None,
) -> Path:
    paths = convert(corpus, data_root, add_train)
    output = WORK / corpus / ("output-vectors" if vectors else "output")
    cmd = [
        sys.executable,
        "-m",
        "spacy",
        "train",
        str(CONFIG),
        "--output",
        str(output),
        "--paths.train",
        str(paths["train"]),
        "--paths.dev",
        str(paths["dev"]),
        "--code",
        str(GAZETTEER),
    ]
    if vectors:  # static vectors from scripts/build_ner_vectors.py
        cmd += ["--paths.vectors", str(vectors)]
    if lexicon:  # the gazetteer's dictionary from scripts/build_ner_lexicon.py
        cmd += ["--paths.lexicon", str(lexicon)]
    cmd += extra
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    best = output / "model-best"
    if install:
        install_model(best, ROOT / "models" / "ner" / corpus, prune_vectors)
    return best


def install_model(best: Path, target: Path, prune_vectors: int = 0) -> None:
    """Copy a trained model into the package; with ``prune_vectors``, keep that many vector rows
    (spaCy's ``prune_vectors``: every other word points at its nearest kept vector) to ship small."""
    import spacy

    from pipeline.extract import ner_gazetteer  # noqa: F401  (registers mrt_gazetteer)

    if target.exists():
        shutil.rmtree(target)
    nlp = spacy.load(best)
    if prune_vectors and nlp.vocab.vectors.shape[0] > prune_vectors:
        nlp.vocab.prune_vectors(prune_vectors)
    for key in ("train", "dev", "vectors", "lexicon"):  # this machine's training paths mean nothing where it is installed
        nlp.config["paths"][key] = None
    nlp.to_disk(target)
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file()) / 2**20
    print(f"installed {best} -> {target} ({size:.1f} MB)")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", choices=[*CORPORA, "all"], default="all")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--no-install", action="store_true", help="don't copy the model into models/")
    parser.add_argument(
        "--add-train",
        action="append",
        choices=list(CORPORA),
        default=None,
        help="also train on this corpus' train split (repeatable; default: the shipped recipe)",
    )
    parser.add_argument(
        "--vectors",
        type=Path,
        default=WORK / "vectors",
        help="static vectors directory; built by scripts/build_ner_vectors.py when missing",
    )
    parser.add_argument(
        "--lexicon",
        type=Path,
        default=WORK / "lexicon.tsv.gz",
        help="gazetteer terms; built by scripts/build_ner_lexicon.py when missing (needs the train extra)",
    )
    parser.add_argument("--no-vectors", action="store_true", help="train without static vectors")
    parser.add_argument(
        "--prune-vectors",
        type=int,
        default=None,
        help="vector rows kept in the installed model (0: all; default: the shipped recipe's)",
    )
    parser.add_argument(
        "--install-only", action="store_true", help="don't train: install the last run's model-best (after stopping a run early)"
    )
    args = parser.parse_args(argv)
    if args.no_vectors:
        args.vectors = None
        extra = ["--components.tok2vec.model.embed.include_static_vectors", "false", *extra]
    elif not (args.vectors / "vocab").is_dir() and not args.install_only:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_ner_vectors.py"), "--out", str(args.vectors)], check=True)

    def prune(corpus: str) -> int:
        return args.prune_vectors if args.prune_vectors is not None else SHIPPED_PRUNE.get(corpus, 15000)

    if not args.lexicon.is_file() and not args.install_only:
        subprocess.run([sys.executable, str(ROOT / "scripts" / "build_ner_lexicon.py"), "--out", str(args.lexicon)], check=True)
    for corpus in list(SHIPPED_RECIPES) if args.corpus == "all" else [args.corpus]:
        add_train = args.add_train if args.add_train is not None else SHIPPED_RECIPES.get(corpus, [])
        if args.install_only:
            run = WORK / corpus / ("output-vectors" if args.vectors else "output") / "model-best"
            install_model(run, ROOT / "models" / "ner" / corpus, prune(corpus))
            continue
        train(
            corpus,
            args.data,
            extra,
            install=not args.no_install,
            add_train=add_train,
            vectors=args.vectors,
            prune_vectors=prune(corpus),
            lexicon=args.lexicon,
        )


if __name__ == "__main__":
    main()
