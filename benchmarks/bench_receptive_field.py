"""receptive_field() and the effective-RF backward pass on ResNet-50, against one forward pass."""

from __future__ import annotations

import torch

from benchmarks.common import Row, interleaved
from engine.architectures import build
from engine.receptive_field import effective as rf_effective
from engine.receptive_field import effective_receptive_field, receptive_field

SIDE = 224


def run(repeat: int = 5) -> list[Row]:
    """Return rows: the trace of ResNet-50 (target < 1 s) and its effective-RF pass (≤ 3×)."""
    model = build("resnet50").eval()
    image = torch.rand((1, 3, SIDE, SIDE), generator=torch.Generator().manual_seed(0))

    def forward() -> None:
        with torch.no_grad():
            model(image)

    for _ in range(5):  # the first forwards pay for oneDNN's kernel setup and allocations
        forward()

    trace_s, forward_s = interleaved(lambda: receptive_field(model, SIDE), forward, repeat)

    # the default unit is on layer4's last conv (7×7 output): the forward runs almost to the end,
    # then one backward to the input. A page clicking unit after unit reuses the layer lookup
    # (the trace); the first click on a network pays for it too.
    def erf() -> None:
        effective_receptive_field(model, (3, 3), SIDE, image=image[0])

    def erf_first_click() -> None:
        rf_effective._TRACES.clear()
        erf()

    erf_s, forward2_s = interleaved(erf, forward, repeat)
    first_s, forward3_s = interleaved(erf_first_click, forward, repeat)
    return [
        Row(
            name="receptive_field(resnet50), 224×224",
            ours_s=trace_s,
            baseline_name="one resnet50 forward, 224",
            baseline_s=forward_s,
            target="ours < 1 s",
        ),
        Row(
            name="effective RF, resnet50 layer4 unit, 224×224",
            ours_s=erf_s,
            baseline_name="one resnet50 forward, 224",
            baseline_s=forward2_s,
            target="ratio <= 3",
        ),
        Row(
            name="effective RF, first unit (traces the net too)",
            ours_s=first_s,
            baseline_name="one resnet50 forward, 224",
            baseline_s=forward3_s,
            target="ratio <= 3",
        ),
    ]


if __name__ == "__main__":
    for row in run():
        print(row.line())
