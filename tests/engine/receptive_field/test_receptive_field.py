"""Receptive fields against published tables, a brute-force impulse probe, and torch's shapes."""

import copy

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from engine.architectures import ARCHITECTURES, Bottleneck, build, conv1x1
from engine.receptive_field import ReceptiveFieldError, receptive_field, stack_model, stack_rf
from tests.engine.receptive_field.checks import row_named, theory

FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None)


@pytest.fixture(scope="module")
def meta_nets() -> dict[str, nn.Module]:
    """Every architecture, shape-only: the trace needs no weights."""
    return {name: build(name, meta=True) for name in ARCHITECTURES}


@pytest.fixture(scope="module")
def traced(meta_nets) -> dict:
    """Every architecture's rows, traced once."""
    return {
        name: receptive_field(model, ARCHITECTURES[name].input_size)
        for name, model in meta_nets.items()
    }


# --- the brute-force probe: which input pixels can change one output unit?


def _positive(model: nn.Module, dtype: torch.dtype = torch.float32) -> nn.Module:
    """Return a copy with every conv weight 1/fan_in and no bias: no cancellations, and no
    underflow for these few layers (each output is at least (1/fan_in)^depth of an impulse)."""
    model = copy.deepcopy(model).to(dtype).eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d)):
                m.weight.fill_(1.0 / m.weight[0].numel())
                if m.bias is not None:
                    m.bias.zero_()
    return model


def _line_hits(forward, size: int, channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return two (size, h, w) boolean maps: does a line of ones along input row a (first map) or
    input column b (second map) reach output unit (i, j)? One line image per row/column, batched.

    With positive weights, zero bias, zero padding and ReLU/max/avg pooling, a unit is nonzero iff
    the line crosses its field, so the rows (columns) reaching a unit are exactly its field's rows
    (columns) inside the image: the brute-force dependence set, max pooling included (a gradient
    probe would miss that: a max pool's gradient flows to one input per window).
    """
    lines = torch.zeros(2 * size, channels, size, size)
    for a in range(size):
        lines[a, :, a, :] = 1.0  # horizontal line: row a
        lines[size + a, :, :, a] = 1.0  # vertical line: column a
    with torch.no_grad():
        reached = forward(lines).sum(1) > 0  # (2·size, h, w)
    return reached[:size], reached[size:]


def _extent(hits: torch.Tensor, unit: tuple[int, int]) -> tuple[int, int] | None:
    """Return (first, last) input row (or column) reaching one unit, or None if none does."""
    hit = hits[:, unit[0], unit[1]].nonzero().flatten()
    return (int(hit[0]), int(hit[-1])) if len(hit) else None


# --- published numbers


def test_vgg16_conv1_1_sees_3_pixels(traced):
    first = traced["vgg16"][0]
    assert (first.name, first.size, first.jump, first.start) == ("features.0", 3, 1, 0)


def test_vgg16_pool5_matches_araujo_table(traced):
    # Araujo et al., Distill 2019, Table (TF-Slim models): vgg_16 r = 212, effective stride 32,
    # effective padding 90, for its last feature layer pool5. TF-Slim's VGG-16 has the same layers
    # as torchvision's (3×3 SAME convs, 2×2 stride-2 pools); pool5 is torchvision's features.30.
    pool5 = row_named(traced["vgg16"], "features.30")
    assert (pool5.size, pool5.jump, pool5.effective_padding) == (212, 32, 90)


def test_alexnet_pool5_matches_araujo_table(traced):
    # Araujo et al.: alexnet_v2 r = 195, stride 32, effective padding 64 at pool5. TF-Slim's
    # alexnet_v2 has torchvision's kernels and strides (11/4, pool 3/2, 5, pool 3/2, 3, 3, 3, pool
    # 3/2) but an unpadded conv1, where torchvision pads 2: the field reaches 2 pixels further.
    pool5 = row_named(traced["alexnet"], "features.12")
    assert (pool5.size, pool5.jump) == (195, 32)
    assert pool5.effective_padding == 64 + 2


def test_inception_v3_mixed_7c_matches_araujo_table(traced):
    # Araujo et al.: inception_v3 r = 1311, stride 32, effective padding 618 at Mixed_7c, whose
    # output is the concatenation of its branches: its field is the largest branch's. torchvision
    # ported the TF-Slim layout (unpadded stem, VALID grid reductions), so the numbers carry over.
    rows = [r for r in traced["inception_v3"] if r.name.startswith("Mixed_7c.")]
    widest = max(rows, key=lambda r: r.size)
    assert (widest.size, widest.jump, widest.effective_padding) == (1311, 32, 618)
    # factorised 1×3 / 3×1 filters: the widest branch is wider along one axis only
    assert sorted(widest.sizes) == [1247, 1311]


def _tf_slim_resnet_v1_50() -> nn.Module:
    """TF-Slim's resnet_v1_50 layout from our Bottleneck: each stage downsamples in its LAST
    unit, block4 does not downsample, and the stem's SAME max pool pads (0, 1)."""
    units, inplanes = [], 64
    for planes, blocks, stride in [(64, 3, 2), (128, 4, 2), (256, 6, 2), (512, 3, 1)]:
        for i in range(blocks):
            s = stride if i == blocks - 1 else 1
            downsample = None
            if s != 1 or inplanes != planes * 4:
                downsample = nn.Sequential(
                    conv1x1(inplanes, planes * 4, s), nn.BatchNorm2d(planes * 4)
                )
            units.append(Bottleneck(inplanes, planes, s, downsample))
            inplanes = planes * 4
    with torch.device("meta"):  # shapes are all the trace needs
        return nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            nn.ZeroPad2d((0, 1, 0, 1)),
            nn.MaxPool2d(3, stride=2),
            *units,
        )


def test_resnet_v1_50_layout_matches_araujo_table():
    # Araujo et al.: resnet_v1_50 r = 483, stride 32, effective padding 239 at block4.
    rows = receptive_field(_tf_slim_resnet_v1_50(), 224)
    last = max(rows, key=lambda r: r.size)
    assert (last.size, last.jump, last.effective_padding) == (483, 32, 239)


def test_torchvision_resnet50_strides_earlier_so_its_field_is_427(traced):
    # Same recurrence on torchvision's layout, which strides in each stage's FIRST block: stem 11
    # (j 4); layer1 +3·2·4 = 35; layer2 +2·4 (strided 3×3 sees j 4) +3·2·8 = 91; layer3 +2·8
    # +5·2·16 = 267; layer4 +2·16 +2·2·32 = 427. Fewer 3×3 convs see the largest jump than in
    # TF-Slim's layout, hence 427 < 483.
    conv2 = row_named(traced["resnet50"], "layer4.2.conv2")
    assert (conv2.size, conv2.jump, conv2.start) == (427, 32, 0)
    assert row_named(traced["resnext50_32x4d"], "layer4.2.conv2").size == 427
    assert row_named(traced["resnet18"], "layer4.1.conv2").size == 435


def test_every_conv_and_pool_module_is_a_row_under_its_own_name(meta_nets, traced):
    # the tracer names rows after the module making the call; a functional pool inside a block
    # would show up as "<block>.avg_pool2d" instead
    for name, model in meta_nets.items():
        spatial = {
            n
            for n, m in model.named_modules()
            if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d))
        }
        assert {r.name for r in traced[name]} == spatial, name


def test_se_gate_gives_global_context_after_the_first_se_module(traced):
    se = traced["se_resnet50"]
    assert not row_named(se, "layer1.0.conv3").global_context
    assert row_named(se, "layer1.1.conv1").global_context
    assert row_named(se, "layer4.2.conv2").global_context
    assert not any(r.global_context for r in traced["resnet50"])


def test_se_resnet50_local_field_is_the_original_resnets(traced):
    # The SENet port keeps the original (Caffe) ResNet layout: stride on each stage's first 1×1
    # conv, so that block's 3×3 already sees the doubled jump, and a ceil-mode stem pool that
    # shifts the grid like TF-Slim's SAME pool. That is TF-Slim's resnet_v1_50 field again:
    # Araujo et al.'s 483, stride 32, effective padding 239 (the SE gate adds global context).
    conv2 = row_named(traced["se_resnet50"], "layer4.2.conv2")
    assert (conv2.size, conv2.jump, conv2.effective_padding) == (483, 32, 239)


def test_tracing_leaves_the_model_alone():
    model = build("resnet18")
    before = {k: v.clone() for k, v in model.state_dict().items()}
    receptive_field(model, 64)
    assert model.training
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


# --- the probe on small models


class _Branchy(nn.Module):
    """Inception-style concat of three branches (one misaligned by an even kernel), a strided
    residual add, and a max pool."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(1, 2, 3, padding=1)
        self.a = nn.Conv2d(2, 2, 5, padding=2)
        self.b = nn.Sequential(
            nn.Conv2d(2, 2, 3, padding=1), nn.Conv2d(2, 2, 3, padding=2, dilation=2)
        )
        # padded on one side only: its field reaches a pixel further up-left than b's
        self.c = nn.Sequential(nn.ZeroPad2d((4, 0, 4, 0)), nn.Conv2d(2, 2, 5))
        self.pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.down = nn.Conv2d(8, 2, 3, stride=2, padding=1)
        self.skip = nn.Conv2d(8, 2, 1, stride=2)
        self.head = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        x = torch.cat([self.a(x), self.b(x), self.c(x), self.pool(x)], 1)  # (B, 8, H, W)
        y = self.down(x) + self.skip(x)  # (B, 2, H/2, W/2)
        return self.head(torch.relu(y))


def test_branching_model_matches_the_impulse_probe():
    size = 28
    model = _Branchy()
    head = receptive_field(model, size, in_channels=1)[-1]
    assert head.name == "head"
    # by hand (unit 0, pixel offsets): stem 3 = [-1, 1]; a 7 = [-3, 3], b 9 = [-4, 4], pool 5,
    # c: padded 4 before, 5×5 kernel → [-5, 1]. The concat's union is [-5, 4]: r 10, centre -½.
    # down 3×3 stride 2 adds 1 each side → 12; head 3×3 at jump 2 adds 2 each side → 16
    assert (head.size, head.jump, head.start) == (16, 2, -0.5)
    row_hits, col_hits = _line_hits(_positive(model), size, 1)
    checked = 0
    for i in range(head.out_shape[2]):
        lo, hi = theory(head, i)
        if lo < 0 or hi > size - 1:
            continue
        assert _extent(row_hits, (i, i)) == (lo, hi)
        assert _extent(col_hits, (i, i)) == (lo, hi)
        checked += 1
    assert checked >= 3


def test_gradient_probe_agrees_on_a_conv_and_avgpool_stack():
    # the gradient version of the probe, fine where there is no max pool: positive weights, one
    # output unit, nonzero input gradient exactly over the field, centred at start + i·jump
    layers = [
        {"kind": "conv", "k": 3, "p": 1},
        {"kind": "avgpool", "k": 2, "s": 2},
        {"kind": "conv", "k": 5, "d": 2, "p": 3},
    ]
    size = 48
    row = stack_rf(layers, size)[-1]
    model = _positive(stack_model(layers, channels=3), torch.float64)
    x = torch.ones(1, 1, size, size, dtype=torch.float64, requires_grad=True)
    i = row.out_shape[0] // 2
    (grad,) = torch.autograd.grad(model(x)[0, :, i, i].sum(), x)
    nonzero = grad[0, 0].abs().sum(1).nonzero().flatten()
    lo, hi = theory(row, i)
    assert (int(nonzero[0]), int(nonzero[-1])) == (lo, hi)
    assert (nonzero[0] + nonzero[-1]).item() / 2 == row.start + i * row.jump


_layer = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["conv", "pool", "avgpool"]),
        "k": st.integers(1, 5),
        "s": st.integers(1, 3),
        "p": st.integers(0, 3),
        "d": st.integers(1, 3),
    }
)


def _torch_can_build(layer: dict) -> bool:
    if layer["kind"] != "conv" and 2 * layer["p"] > layer["k"]:
        return False
    return layer["kind"] != "avgpool" or layer["d"] == 1


@FUZZ
@given(layers=st.lists(_layer, min_size=1, max_size=5), size=st.integers(4, 40))
def test_stack_rf_matches_torch_shapes_the_tracer_and_the_probe(layers, size):
    assume(all(_torch_can_build(layer) for layer in layers))
    model = stack_model(layers, channels=2)
    try:
        torch_out = model(torch.zeros(1, 1, size, size))
    except RuntimeError:
        with pytest.raises(ReceptiveFieldError, match="Layer"):
            stack_rf(layers, size)
        return
    rows = stack_rf(layers, size)
    assert rows[-1].out_shape == tuple(torch_out.shape[2:])
    traced = receptive_field(model, size, in_channels=1)
    assert [(r.name, r.size, r.jump, r.start) for r in traced] == [
        (r.name, r.size, r.jump, r.start) for r in rows
    ]
    assert [r.out_shape[2:] for r in traced] == [r.out_shape for r in rows]
    last = rows[-1]
    row_hits, _ = _line_hits(_positive(stack_model(layers, channels=1)), size, 1)
    centre = last.out_shape[1] // 2  # a column whose field overlaps the image
    for i in range(last.out_shape[0]):
        lo, hi = theory(last, i)
        extent = _extent(row_hits, (i, centre))
        if 0 <= lo and hi <= size - 1:
            assert extent == (lo, hi)  # the whole field, exactly
        elif hi < 0 or lo > size - 1:
            assert extent is None  # a unit that sees only padding
        elif extent is not None:  # clipped: inside the field (dilation may leave holes at its edge)
            assert max(lo, 0) <= extent[0] and extent[1] <= min(hi, size - 1)


def test_stack_rf_recurrence_by_hand():
    # two 3×3 see 5×5, three see 7×7; a stride-2 pool doubles later growth; dilation 2 spans 5
    rows = stack_rf([{"kind": "conv", "k": 3}] * 3, 32)
    assert [r.size for r in rows] == [3, 5, 7]
    rows = stack_rf(
        [{"kind": "pool", "k": 2, "s": 2}, {"kind": "conv", "k": 3, "d": 2, "p": 2}], 32
    )
    assert [(r.size, r.jump, r.start) for r in rows] == [(2, 2, 0.5), (10, 2, 0.5)]
    assert rows[-1].out_shape == (16, 16)


def test_dilation_grows_the_field_exponentially():
    rates = [1, 2, 4, 8]
    rows = stack_rf([{"kind": "conv", "k": 3, "d": d, "p": d} for d in rates], 64)
    assert [r.size for r in rows] == [2 ** (i + 2) - 1 for i in range(len(rates))]


@pytest.mark.parametrize(
    "layers,size,match",
    [
        ([{"kind": "conv", "k": 3}, {"kind": "conv", "k": 7}], 8, "Layer 2"),
        ([{"kind": "conv", "k": 0}], 8, "kernel size"),
        ([{"kind": "dense", "k": 3}], 8, "kind"),
        ([{"kind": "pool", "k": 3, "p": 2}], 8, "at most 1"),
        ([{"kind": "conv", "k": 3, "stride": 2}], 8, "unknown"),
        ([{"kind": "avgpool", "k": 3, "d": 2}], 8, "dilation"),
        ("conv", 8, "list"),
        ([{"kind": "conv", "k": 3}], 0, "input size"),
    ],
)
def test_impossible_stacks_say_what_to_change(layers, size, match):
    with pytest.raises(ReceptiveFieldError, match=match):
        stack_rf(layers, size)


_anything = st.one_of(
    st.integers(-3, 600), st.none(), st.text(max_size=4), st.floats(), st.booleans()
)


@FUZZ
@given(
    layers=st.one_of(
        st.lists(
            st.dictionaries(st.sampled_from(["kind", "k", "s", "p", "d", "x"]), _anything),
            max_size=4,
        ),
        _anything,
    ),
    size=_anything,
)
def test_stack_rf_gives_rows_or_its_own_error_for_anything(layers, size):
    try:
        rows = stack_rf(layers, size)
    except ReceptiveFieldError:
        return
    assert all(r.out_shape[0] >= 1 and r.size >= 1 for r in rows)


def test_one_dimensional_networks_are_traced():
    model = nn.Sequential(nn.Conv1d(1, 4, 5, padding=2), nn.MaxPool1d(2), nn.Conv1d(4, 4, 3))
    rows = receptive_field(model, 100)
    assert [(r.size, r.jump) for r in rows] == [(5, 1), (6, 2), (10, 2)]
    assert rows[-1].out_shape == (1, 4, 48)


def test_too_small_input_is_a_clear_error():
    with pytest.raises(ReceptiveFieldError, match="larger input"):
        receptive_field(build("alexnet"), 32)


def test_conv_after_flatten_cannot_be_followed():
    class Reshaper(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(1, 1, 3)
            self.conv2 = nn.Conv2d(1, 1, 3)

        def forward(self, x):
            x = self.conv1(x).flatten(2)[..., :64].view(1, 1, 8, 8)
            return self.conv2(x)

    with pytest.raises(ReceptiveFieldError, match="conv2"):
        receptive_field(Reshaper(), 16)


def test_network_without_spatial_layers_is_an_error():
    with pytest.raises(ReceptiveFieldError):
        receptive_field(nn.Sequential(nn.Flatten(), nn.Linear(12, 2)), 2, in_channels=3)
