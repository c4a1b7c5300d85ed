"""The architectures page's heavy work: the nine-network table, and degradation training steps."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from benchmarks.common import Row, median_seconds
from engine.architectures import arch_table, build
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


def run(repeat: int = 3) -> list[Row]:
    """Return rows: the table (target < 5 s) and one-thread training against default threads."""
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
    ]


if __name__ == "__main__":
    for row in run():
        print(row.line())
