"""The architectures page's heavy work: the nine-network table, degradation training steps, and
trained weights (loading a ResNet-50 file, one photo's prediction)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from benchmarks.common import Row, interleaved, median_seconds
from engine.architectures import arch_table, build, classify, load_weights
from engine.cnn import degradation as deg
from engine.core import one_thread

STEPS = 30


def _steps(depth: int, threads: int | None) -> None:
    """Run STEPS training steps of a plain stack, on one thread or torch's default count."""
    model = deg.make_stack(depth, residual=False)
    x, y = deg.spirals(deg.POINTS)
    opt = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)

    def run() -> None:
        for _ in range(STEPS):
            loss = F.cross_entropy(model(x[: deg.BATCH]), y[: deg.BATCH])
            opt.zero_grad()
            loss.backward()
            opt.step()

    if threads == 1:
        with one_thread():
            run()
    else:
        run()


def _weights_rows(repeat: int) -> list[Row]:
    """Return rows: a ResNet-50 .safetensors load (≤ 2 s) and a photo's top-5 (≤ 100 ms)."""
    model = build("resnet50").eval()
    state = model.state_dict()
    photo = torch.rand((3, 480, 640), generator=torch.Generator().manual_seed(0))
    with tempfile.TemporaryDirectory() as folder:
        safetensors_path, pt_path = Path(folder, "r50.safetensors"), Path(folder, "r50.pt")
        save_file(state, safetensors_path)
        torch.save(state, pt_path)
        size_mb = safetensors_path.stat().st_size / 1e6

        def baseline_load() -> None:
            # the usual recipe: build (random init), torch.load the .pt, copy it in
            net = build("resnet50")
            net.load_state_dict(torch.load(pt_path, map_location="cpu", weights_only=True))

        # timed alternately, so a busy shared machine slows both alike
        load_s, baseline_s = interleaved(
            lambda: load_weights("resnet50", safetensors_path), baseline_load, repeat=repeat
        )
    image = torch.rand((1, 3, 224, 224), generator=torch.Generator().manual_seed(0))

    def forward() -> None:
        with torch.inference_mode():
            model(image)

    predict_s, forward_s = interleaved(
        lambda: classify(model, photo, name="resnet50"), forward, repeat=repeat
    )
    return [
        Row(
            name=f"load_weights: resnet50 .safetensors ({size_mb:.0f} MB)",
            ours_s=load_s,
            baseline_name="build + torch.load .pt + copy",
            baseline_s=baseline_s,
            target="ours <= 2 s",
        ),
        Row(
            name="classify: top-5 of a 640×480 photo, resnet50",
            ours_s=predict_s,
            baseline_name="bare forward, 224",
            baseline_s=forward_s,
            target="ours <= 100 ms",
        ),
    ]


def run(repeat: int = 3) -> list[Row]:
    """Return rows: the table (target < 5 s), one-thread training against default threads, and
    the trained-weights rows (a ResNet-50 load ≤ 2 s, a prediction ≤ 100 ms)."""
    model = build("resnet50").eval()
    image = torch.rand((1, 3, 224, 224), generator=torch.Generator().manual_seed(0))

    def forward() -> None:
        with torch.no_grad():
            model(image)

    table_s = median_seconds(arch_table, repeat=repeat)
    forward_s = median_seconds(forward, repeat=repeat * 3)
    one_s = median_seconds(lambda: _steps(56, 1), repeat=repeat)
    default_s = median_seconds(lambda: _steps(56, None), repeat=repeat)
    return [
        Row(
            name="arch_table(): nine nets, params+FLOPs+RF+depth",
            ours_s=table_s,
            baseline_name="one resnet50 forward, 224",
            baseline_s=forward_s,
            target="ours < 5 s",
        ),
        Row(
            name=f"plain-56, {STEPS} training steps, one thread",
            ours_s=one_s,
            baseline_name=f"same, {torch.get_num_threads()} threads",
            baseline_s=default_s,
            target="ratio <= 1",
        ),
        *_weights_rows(repeat),
    ]


if __name__ == "__main__":
    for row in run():
        print(row.line())
