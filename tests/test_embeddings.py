"""The ONNX embedder on the real exported model, and the guards around exporting it."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tokenizers import Tokenizer

from conftest import MODEL_DIR
from paperfeed.config import Settings
from paperfeed.embeddings import (
    EmbedderUnavailable,
    OnnxEmbedder,
    content_hash,
    load_embedder,
    paper_text,
)
from paperfeed.model_export import export_model

TITLE_A = "Denoising Attention for Visual Tasks"
ABSTRACT_A = (
    "The softmax activation in multihead attention is the de facto standard for attention-based "
    "models in visual perception. Standard softmax can produce noisy attention patterns that "
    "dilute relevant features. We propose Denoising Attention, in which a positive query "
    "identifies image features of the correct class and a negative query identifies closely "
    "associated but irrelevant features, improving ImageNet accuracy with a ViT backbone."
)
TITLE_B = "Federated Learning with Differential Privacy for Hospitals"
ABSTRACT_B = (
    "Hospitals cannot share patient records, yet models trained on one site generalise poorly. "
    "We train a clinical risk model across twelve hospitals with federated averaging and add "
    "calibrated noise to every update, so that no single patient can be identified, and report "
    "the privacy budget against the accuracy lost."
)


@pytest.fixture(scope="module")
def model_dir() -> Path:
    if not (MODEL_DIR / "manifest.json").exists():
        pytest.skip(
            f"no exported model at {MODEL_DIR}: run `make model` or set PAPERFEED_TEST_MODEL_DIR"
        )
    return MODEL_DIR


@pytest.fixture(scope="module")
def embedder(model_dir: Path) -> OnnxEmbedder:
    return OnnxEmbedder(model_dir, max_tokens=256, batch_size=8)


def test_paper_text() -> None:
    assert paper_text("A title", "An abstract.") == "A title. An abstract."
    assert paper_text("A title", "") == "A title"
    assert paper_text("", " An abstract. ") == "An abstract."
    assert paper_text("", "") == ""


def test_content_hash_is_stable() -> None:
    assert content_hash("abc") == "ba7816bf8f01cfea414140de5dae2223"
    assert content_hash("abc") != content_hash("abd")
    assert len(content_hash("")) == 32


def test_vectors_are_unit_float32_rows(embedder: OnnxEmbedder) -> None:
    vectors = embedder.embed([TITLE_A, paper_text(TITLE_A, ABSTRACT_A), "x"])
    assert vectors.dtype == np.float32
    assert vectors.shape == (3, 384) == (3, embedder.dimensions)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.model_id.startswith("all-MiniLM-L6-v2/onnx-")
    assert embedder.model_id.endswith("/256")


def test_empty_input(embedder: OnnxEmbedder) -> None:
    assert embedder.embed([]).shape == (0, 384)
    vector = embedder.embed([""])
    assert vector.shape == (1, 384)
    assert np.isfinite(vector).all()
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_megabyte_text_is_cut_quickly_and_exactly(embedder: OnnxEmbedder) -> None:
    head = paper_text(TITLE_A, ABSTRACT_A) + " "
    huge = (head * (1_000_000 // len(head) + 1))[:1_000_000]
    start = time.perf_counter()
    [huge_ids] = embedder.token_ids([huge])
    elapsed = time.perf_counter() - start
    assert len(huge_ids) == 256
    assert huge_ids[0] == 101 and huge_ids[-1] == 102  # [CLS] ... [SEP]
    # Only the head is tokenized, and that gives exactly the tokens of tokenizing everything.
    tokenizer = Tokenizer.from_file(str(embedder.model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=256)
    assert huge_ids == tokenizer.encode(huge).ids
    assert elapsed < 0.2
    [vector] = embedder.embed([huge])
    assert np.linalg.norm(vector) == pytest.approx(1.0, abs=1e-5)


def test_text_past_the_cap_changes_nothing(model_dir: Path) -> None:
    short_cap = OnnxEmbedder(model_dir, max_tokens=32, batch_size=1)
    text = paper_text(TITLE_A, ABSTRACT_A)
    assert len(short_cap.token_ids([text])[0]) == 32
    a, b = short_cap.embed([text, text + " Completely different words about federated hospitals."])
    assert np.array_equal(a, b)


def test_one_megabyte_without_spaces(embedder: OnnxEmbedder) -> None:
    [ids] = embedder.token_ids(["x" * 1_000_000])
    assert ids == [101, 100, 102]  # a word this long is [UNK]


def test_deterministic(embedder: OnnxEmbedder) -> None:
    texts = [paper_text(TITLE_A, ABSTRACT_A), TITLE_B, "", paper_text(TITLE_B, ABSTRACT_B)]
    assert np.array_equal(embedder.embed(texts), embedder.embed(texts))


def test_order_of_texts_is_kept(embedder: OnnxEmbedder) -> None:
    # Texts are sorted by length internally; rows must come back in the caller's order.
    texts = ["short", paper_text(TITLE_A, ABSTRACT_A), "a bit longer text", TITLE_B]
    together = embedder.embed(texts)
    alone = np.vstack([embedder.embed([text]) for text in texts])
    assert (together * alone).sum(axis=1).min() > 0.98


def test_title_is_closest_to_its_own_abstract(embedder: OnnxEmbedder) -> None:
    titles = embedder.embed([TITLE_A, TITLE_B])
    abstracts = embedder.embed([ABSTRACT_A, ABSTRACT_B])
    similarity = titles @ abstracts.T
    assert similarity[0, 0] > similarity[0, 1] + 0.2
    assert similarity[1, 1] > similarity[1, 0] + 0.2


def test_two_threads_get_the_same_vectors(embedder: OnnxEmbedder) -> None:
    texts = [paper_text(TITLE_A, ABSTRACT_A), paper_text(TITLE_B, ABSTRACT_B), TITLE_A] * 6
    expected = embedder.embed(texts)
    results: list[np.ndarray] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                results.append(embedder.embed(texts))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(results) == 6
    for result in results:
        assert np.array_equal(result, expected)


def test_load_embedder_reads_the_settings(model_dir: Path) -> None:
    settings = Settings(model_dir=str(model_dir), embedding_max_tokens=128, embedding_batch_size=4)
    embedder = load_embedder(settings)
    assert embedder.model_id.endswith("/128")
    assert embedder.batch_size == 4


def test_load_embedder_on_a_missing_folder(tmp_path: Path) -> None:
    settings = Settings(model_dir=str(tmp_path / "nothing-here"))
    with pytest.raises(EmbedderUnavailable, match="paperfeed model export"):
        load_embedder(settings)


def _copy_model(model_dir: Path, target: Path) -> Path:
    shutil.copytree(model_dir, target)
    return target


def test_load_embedder_refuses_half_written_folders(model_dir: Path, tmp_path: Path) -> None:
    no_manifest = _copy_model(model_dir, tmp_path / "no-manifest")
    (no_manifest / "manifest.json").unlink()
    truncated = _copy_model(model_dir, tmp_path / "truncated")
    with (truncated / "model.onnx").open("r+b") as f:
        f.truncate(1000)
    no_tokenizer = _copy_model(model_dir, tmp_path / "no-tokenizer")
    (no_tokenizer / "tokenizer.json").unlink()
    bad_manifest = _copy_model(model_dir, tmp_path / "bad-manifest")
    (bad_manifest / "manifest.json").write_text('{"format": 1, "model": ')
    for folder, reason in [
        (no_manifest, "no manifest.json"),
        (truncated, "wrong size"),
        (no_tokenizer, "tokenizer.json is missing"),
        (bad_manifest, "unreadable"),
    ]:
        with pytest.raises(EmbedderUnavailable, match=reason):
            load_embedder(Settings(model_dir=str(folder)))


def test_export_is_skipped_when_the_folder_holds_that_variant(
    model_dir: Path, tmp_path: Path
) -> None:
    folder = _copy_model(model_dir, tmp_path / "model")
    manifest = json.loads((folder / "manifest.json").read_text())
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    start = time.perf_counter()
    assert export_model(folder, quantize=manifest["variant"] == "onnx-int8") == folder
    assert time.perf_counter() - start < 5  # no torch export happened
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]  # no temporary folder left


def test_embedder_rejects_bad_arguments(model_dir: Path) -> None:
    for kwargs in ({"max_tokens": 1}, {"max_tokens": 513}, {"batch_size": 0}, {"threads": -1}):
        with pytest.raises(ValueError):
            OnnxEmbedder(model_dir, **kwargs)  # type: ignore[arg-type]


def test_killed_export_leaves_nothing_loadable_and_a_rerun_completes(
    model_dir: Path, tmp_path: Path
) -> None:
    pytest.importorskip("torch", reason="exporting needs the build-time `export` extra")
    out = tmp_path / "models" / "minilm"
    script = (
        "import sys; from pathlib import Path; from paperfeed.model_export import export_model;"
    )
    script += "export_model(Path(sys.argv[1]), quantize=False)"
    proc = subprocess.Popen([sys.executable, "-c", script, str(out)], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not list(out.parent.glob(".minilm.partial-*/*.onnx")):
            assert proc.poll() is None, "the export ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not out.exists()
    with pytest.raises(EmbedderUnavailable):
        load_embedder(Settings(model_dir=str(out)))

    assert export_model(out, quantize=False) == out
    assert [p.name for p in out.parent.iterdir()] == ["minilm"]  # the killed run's leftovers
    embedder = load_embedder(Settings(model_dir=str(out)))
    assert embedder.model_id == "all-MiniLM-L6-v2/onnx-fp32/256"
    reference = OnnxEmbedder(model_dir)
    texts = [paper_text(TITLE_A, ABSTRACT_A), TITLE_B]
    assert (embedder.embed(texts) * reference.embed(texts)).sum(axis=1).min() > 0.95
