"""Training under tf.distribute: mirrored on two logical CPUs, and two real worker processes."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import MODEL_DIRECTORY_FILES, write_csv
from sentiment_rnn.cli import cli
from sentiment_rnn.config import load_config
from sentiment_rnn.errors import SentimentError

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT_SECONDS = 240
SMALL = ["model.output_dim=8", "model.units=8", "train.epochs=2", "train.batch_size=8", "train.steps_per_epoch=3"]


def small_csv(path: Path) -> Path:
    rows = [
        (f"{word} phone {i} {'really ' * (i % 5)}", label)
        for i in range(24)
        for word, label in (("good", 1), ("bad", 0))
    ]
    return write_csv(path, rows)


def run_python(script: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


MIRRORED = """
    import json, sys
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.distributed import make_strategy
    from sentiment_rnn.training import train

    data, out, overrides = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    config = load_config(overrides=[f"data.path={json.dumps(data)}", "train.distribute=mirrored", *overrides])
    result = train(config, out, verbose=0)
    replicas = make_strategy("mirrored").num_replicas_in_sync
    print(json.dumps({"replicas": replicas, "epochs": result.epochs_run, "n": result.metrics["n"]}))
"""


def test_mirrored_trains_on_two_logical_cpus_and_writes_the_usual_model(tmp_path):
    from sentiment_rnn.inference import predict

    data = small_csv(tmp_path / "d.csv")
    overrides = [*SMALL, "train.bucket_by_length=true"]
    process = run_python(MIRRORED, str(data), str(tmp_path / "model"), json.dumps(overrides))
    try:
        output, _ = process.communicate(timeout=TIMEOUT_SECONDS)
    finally:
        process.kill()
    assert process.returncode == 0, output
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary["replicas"] == 2 and summary["epochs"] == 2
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == MODEL_DIRECTORY_FILES
    assert len((tmp_path / "model" / "history.csv").read_text().splitlines()) == 3  # header and two epochs
    assert [p.label in ("positive", "negative") for p in predict(tmp_path / "model", ["good phone"])] == [True]


WORKER = """
    import json, sys
    import numpy as np
    from sentiment_rnn.config import load_config
    from sentiment_rnn.training.distributed import use_cluster
    from sentiment_rnn.training import train

    workers, index, data, out, weights, overrides = sys.argv[1:7]
    use_cluster(workers, int(index))
    config = load_config(overrides=[f"data.path={json.dumps(data)}", "train.distribute=multi-worker", *json.loads(overrides)])
    result = train(config, out, verbose=1)
    np.savez(weights, *result.model.get_weights())
    print(json.dumps({"epochs": result.epochs_run, "accuracy": result.metrics["accuracy"]}))
"""


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_two_workers_train_on_their_shards_and_end_with_identical_weights(tmp_path):
    data = small_csv(tmp_path / "d.csv")
    workers = ",".join(f"127.0.0.1:{port}" for port in free_ports(2))
    overrides = json.dumps([*SMALL, "data.streaming=true", "train.bucket_by_length=true"])
    processes = [
        run_python(WORKER, workers, str(i), str(data), str(tmp_path / "model"), str(tmp_path / f"w{i}.npz"), overrides)
        for i in range(2)
    ]
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=TIMEOUT_SECONDS)[0])
    finally:
        for process in processes:
            process.kill()
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, output
    chief, worker = (np.load(tmp_path / f"w{i}.npz") for i in range(2))
    assert chief.files == worker.files and len(chief.files) > 0
    for name in chief.files:  # exactly: both apply the one all-reduced gradient to the same weights, step by step
        np.testing.assert_array_equal(chief[name], worker[name])
    assert [json.loads(output.strip().splitlines()[-1]) for output in outputs][0]["epochs"] == 2
    assert re.search(r"^Epoch 2/2 - 3 steps in \d+\.\d s - loss: \d\.\d{4} - accuracy: ", outputs[1], re.M), outputs[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.csv", "model", "w0.npz", "w1.npz"]  # chief only
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == MODEL_DIRECTORY_FILES


def test_worker_shards_are_disjoint_and_cover_the_training_data(tmp_path):
    import tensorflow as tf

    from sentiment_rnn.training.distributed import shard_batches
    from sentiment_rnn.training.pipeline import load_training_data, split_dataset

    config = load_config(overrides=[f"data.path={json.dumps(str(small_csv(tmp_path / 'd.csv')))}", *SMALL])
    split = split_dataset(load_training_data(config), config.train.validation_split, config.train.seed)
    texts = []
    for index in range(2):
        context = tf.distribute.InputContext(num_input_pipelines=2, input_pipeline_id=index, num_replicas_in_sync=2)
        shard_size = (len(split.train) + 1 - index) // 2
        batches = shard_batches(config, split.train, context)
        first_batch = next(iter(batches))[0]
        assert first_batch.shape == (4,)  # the global batch of 8 shared by 2 replicas
        texts.append(
            [t.decode() for t in batches.unbatch().take(shard_size).map(lambda t, label: t).as_numpy_iterator()]
        )
    assert set(texts[0]).isdisjoint(texts[1])
    assert sorted(texts[0] + texts[1]) == sorted(split.train.texts)


def test_cluster_from_workers_and_the_chief():
    from sentiment_rnn.training.distributed import is_chief, use_cluster

    saved = os.environ.get("TF_CONFIG")
    try:
        use_cluster("10.0.0.1:2222, 10.0.0.2:2222", 1)
        assert json.loads(os.environ["TF_CONFIG"]) == {
            "cluster": {"worker": ["10.0.0.1:2222", "10.0.0.2:2222"]},
            "task": {"type": "worker", "index": 1},
        }
        assert not is_chief()
        use_cluster("10.0.0.1:2222,10.0.0.2:2222", 0)
        assert is_chief()
        os.environ["TF_CONFIG"] = json.dumps(
            {"cluster": {"chief": ["a:1"], "worker": ["b:1"]}, "task": {"type": "worker", "index": 0}}
        )
        assert not is_chief()
    finally:
        os.environ.pop("TF_CONFIG", None)
        if saved is not None:
            os.environ["TF_CONFIG"] = saved


def test_only_a_multi_worker_run_has_workers_that_do_not_write_the_model_directory(monkeypatch):
    from sentiment_rnn.training.distributed import join_cluster

    monkeypatch.setenv("TF_CONFIG", "")  # restored after the test
    assert join_cluster("none") and join_cluster("mirrored")
    assert join_cluster("multi-worker", "10.0.0.1:2222,10.0.0.2:2222", 0)
    assert not join_cluster("multi-worker", "10.0.0.1:2222,10.0.0.2:2222", 1)
    assert not join_cluster("multi-worker")  # TF_CONFIG, as the last call set it
    with pytest.raises(SentimentError) as info:
        join_cluster("mirrored", "10.0.0.1:2222", 0)
    assert str(info.value) == "--workers describes a multi-worker cluster: add --distribute multi-worker."


@pytest.mark.parametrize(
    ("workers", "index", "message"),
    [
        (
            "10.0.0.1",
            0,
            "Worker address '10.0.0.1' is not host:port: pass e.g. --workers 10.0.0.1:12345,10.0.0.2:12345.",
        ),
        ("a:1,b:2", 2, "--worker-index 2 is outside the 2 workers of --workers: pass 0 to 1."),
        (" , ", 0, "--workers is empty: pass every worker's host:port, e.g. --workers 10.0.0.1:12345."),
    ],
)
def test_bad_worker_lists_are_one_clear_error(workers, index, message, monkeypatch):
    from sentiment_rnn.training.distributed import use_cluster

    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(SentimentError) as info:
        use_cluster(workers, index)
    assert str(info.value) == message
    assert "TF_CONFIG" not in os.environ


def test_cli_multi_worker_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    out = tmp_path / "m"
    no_distribute = CliRunner().invoke(cli, ["train", "--workers", "a:1,b:2", "--out", str(out)])
    assert no_distribute.exit_code == 1
    assert no_distribute.output == "Error: --workers describes a multi-worker cluster: add --distribute multi-worker.\n"
    no_cluster = CliRunner().invoke(cli, ["train", "--distribute", "multi-worker", "--out", str(out)])
    assert no_cluster.exit_code == 1
    assert no_cluster.output == (
        "Error: train.distribute = multi-worker needs the cluster: set TF_CONFIG (e.g. "
        '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}) '
        "or pass --workers host:port,... --worker-index N.\n"
    )
    assert not out.exists()


def test_resume_is_refused_with_distribution(tmp_path):
    from sentiment_rnn.training.run import train

    with pytest.raises(SentimentError) as info:
        train(load_config(overrides=["train.distribute=mirrored"]), tmp_path / "m", resume=True)
    assert str(info.value) == "--resume does not work with train.distribute = mirrored: train again without --resume."
    assert list(tmp_path.iterdir()) == []
