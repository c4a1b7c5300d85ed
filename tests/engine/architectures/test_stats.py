"""The architecture table against published numbers, closed forms and brute-force probes."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from engine.architectures import (
    ARCHITECTURES,
    BRANCH_NAMES,
    COLOUR_MIXES,
    EDGE_KERNELS,
    ArchStatsError,
    HandSetInception,
    UnknownArchitectureError,
    arch_stats,
    arch_table,
    bottleneck_stride,
    build,
    design_constants,
    dilated_scales,
    final_field,
    googlenet_branches,
    inception_on_image,
    layer_rows,
    longest_weight_path,
)
from engine.conv import make_kernel
from engine.receptive_field import receptive_field

# torchvision's model documentation: parameters and "GFLOPS" (which there are multiply-adds, 1e9)
PUBLISHED = {
    "alexnet": (61_100_840, 0.71),
    "vgg16": (138_357_544, 15.47),
    "googlenet": (6_624_904, 1.50),
    "inception_v3": (23_834_568, 5.71),
    "resnet18": (11_689_512, 1.81),
    "resnet50": (25_557_032, 4.09),
    "resnext50_32x4d": (25_028_904, 4.23),
    "densenet121": (7_978_856, 2.83),
}
# the depth in the papers' names (layers with weights on the longest path); Inception v3 is
# "48 layers deep" (Szegedy et al.'s count as quoted by Keras and MATLAB); SE-ResNet-50 is 50:
# the two 1×1 layers of each squeeze-and-excitation gate scale the main path, not lengthen it.
NAMED_DEPTH = {
    "alexnet": 8,
    "vgg16": 16,
    "googlenet": 22,
    "inception_v3": 48,
    "resnet18": 18,
    "resnet50": 50,
    "resnext50_32x4d": 50,
    "densenet121": 121,
    "se_resnet50": 50,
}
# receptive fields of the last feature map: Araujo, Norris & Sim (Distill 2019), table 1, for
# the layouts that match theirs; torchvision's ResNet-50 strides in the 3×3, giving 427
ARAUJO = {"alexnet": 195, "vgg16": 212, "inception_v3": 1311, "se_resnet50": 483, "resnet50": 427}


@pytest.fixture(scope="module")
def table():
    return {s.name: s for s in arch_table()}


def test_table_has_every_architecture_in_order(table):
    assert list(table) == list(ARCHITECTURES)


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_parameters_and_multiply_adds_match_torchvisions_tables(table, name):
    params, gmacs = PUBLISHED[name]
    assert table[name].params == params
    assert round(table[name].macs / 1e9, 2) == pytest.approx(gmacs, abs=0.006)


def _closed_form_flops(model: nn.Module, side: int) -> int:
    """2·(C_in/groups)·k_h·k_w per output value of every conv, 2·in per output of every linear."""
    total = 0

    def hook(module, args, out):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += 2 * out.numel() * module.in_channels // module.groups * kh * kw
        else:
            total += 2 * out.numel() * module.in_features

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.Linear))
    ]
    with torch.no_grad():
        model.eval()(torch.empty(1, 3, side, side, device="meta"))
    for h in handles:
        h.remove()
    return total


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_flops_equal_the_closed_form_over_every_layer(table, name):
    side = ARCHITECTURES[name].input_size
    assert table[name].flops == _closed_form_flops(build(name, meta=True), side)


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_depth_is_the_number_in_the_papers_name(table, name):
    assert table[name].depth == NAMED_DEPTH[name]


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_depth_is_the_number_in_the_title_where_the_title_has_one(table, name):
    match = re.search(r"-(\d+)", ARCHITECTURES[name].title)  # VGG-16, ResNet-50, SE-ResNet-50…
    assert match is not None or name in ("alexnet", "googlenet", "inception_v3")
    if match:
        assert table[name].depth == int(match.group(1))


class _Gated(nn.Module):
    """conv → conv, scaled by a gate of two 1×1 convs on the pooled map: depth 2, not 4."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Conv2d(3, 4, 3, padding=1), nn.Conv2d(4, 4, 3, padding=1)
        self.g1, self.g2 = nn.Conv2d(4, 2, 1), nn.Conv2d(2, 4, 1)

    def forward(self, x):
        y = self.b(self.a(x))
        gate = torch.sigmoid(self.g2(self.g1(F.adaptive_avg_pool2d(y, 1))))  # (B, 4, 1, 1)
        return y * gate


def test_a_gate_scales_the_path_without_lengthening_it():
    assert longest_weight_path(_Gated(), (1, 3, 8, 8)) == 2
    # on a map that is itself 1×1 the "gate" is an ordinary operand: the path runs through it
    assert longest_weight_path(_Gated(), (1, 3, 1, 1)) == 4


def test_weight_layers_count_every_branch_and_shortcut(table):
    # ResNet-50: 1 stem + 16 blocks × 3 + 4 projection shortcuts + 1 dense = 54
    assert table["resnet50"].weight_layers == 1 + 16 * 3 + 4 + 1
    # GoogLeNet: 3 stem convs + 9 modules × 6 convs + 1 dense = 58, though only 22 in a row
    assert table["googlenet"].weight_layers == 3 + 9 * 6 + 1
    for s in table.values():
        assert s.weight_layers >= s.depth


@pytest.mark.parametrize("name", list(ARAUJO))
def test_final_field_matches_the_published_tables(table, name):
    assert table[name].rf_size == ARAUJO[name]
    assert table[name].rf_jump == 32


def test_only_se_resnet_has_global_context_and_grids_are_the_last_maps(table):
    assert [n for n, s in table.items() if s.global_context] == ["se_resnet50"]
    assert table["alexnet"].grid == (6, 6)
    assert table["inception_v3"].grid == (8, 8)
    assert table["resnet50"].grid == (7, 7)


def _probe_extent(model: nn.Module, side: int) -> int:
    """Brute force: the rows of the input that the centre unit of model's output depends on."""
    x = torch.zeros(1, 1, side, side, requires_grad=True)
    out = model(x)
    h, w = out.shape[-2:]
    out[0, :, h // 2, w // 2].sum().backward()
    rows = (x.grad[0, 0].abs() > 0).any(1).nonzero()
    return int(rows.max() - rows.min() + 1)


def test_final_field_undoes_the_global_pool_like_a_gradient_probe():
    torch.manual_seed(0)  # local test network; positive weights so nothing cancels
    body = nn.Sequential(
        nn.Conv2d(1, 2, 3), nn.Conv2d(2, 2, 5, stride=2), nn.Conv2d(2, 2, 3, dilation=2)
    )
    with torch.no_grad():
        for m in body:
            m.weight.fill_(1.0)
    full = nn.Sequential(*body, nn.AdaptiveAvgPool2d(1))
    size, jump, grid, _ = final_field(receptive_field(full, 64))
    assert size == _probe_extent(body, 64) == 1 + 2 + 4 + 2 * 4
    assert jump == 2
    assert grid == tuple(body(torch.zeros(1, 1, 64, 64)).shape[-2:])


def test_longest_path_follows_the_longest_branch_through_add_and_cat():
    class TwoPaths(nn.Module):
        def __init__(self):
            super().__init__()
            self.long = nn.Sequential(*[nn.Conv2d(2, 2, 3, padding=1) for _ in range(3)])
            self.short = nn.Conv2d(2, 2, 1)
            self.head = nn.Linear(4 * 4 * 4, 3)

        def forward(self, x):
            y = torch.relu_(self.long(x) + self.short(x))  # 3 deep, in-place ReLU
            z = torch.cat([y, self.short(x)], 1)  # still 3 deep
            return self.head(z.flatten(1))  # 4

    assert longest_weight_path(TwoPaths(), (1, 2, 4, 4)) == 4


def test_layer_rows_cover_every_weight_and_flop():
    rows = layer_rows("resnet50")
    model = build("resnet50", meta=True)
    bn = sum(
        p.numel() for m in model.modules() if isinstance(m, nn.BatchNorm2d) for p in m.parameters()
    )
    assert sum(r.params for r in rows) + bn == PUBLISHED["resnet50"][0]
    assert sum(r.flops for r in rows) == arch_stats("resnet50").flops
    assert rows[0].name == "conv1" and rows[0].rf_size == 7 and rows[0].jump == 2
    assert rows[0].params == 64 * 3 * 7 * 7
    assert rows[-1].kind == "linear" and rows[-1].out_shape == (1000,) and rows[-1].rf_size is None


def test_layer_rows_shapes_match_a_real_forward_at_another_size():
    side = 96
    model = build("resnet18", seed=0).eval()
    shapes = {}
    for name, m in model.named_modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d)):
            m.register_forward_hook(lambda mod, a, out, n=name: shapes.__setitem__(n, out.shape))
    with torch.no_grad():
        model(torch.rand(1, 3, side, side, generator=torch.Generator().manual_seed(0)))
    rows = [r for r in layer_rows("resnet18", side) if r.kind != "linear"]
    assert len(rows) == len(shapes)
    for r in rows:
        assert r.out_shape == tuple(shapes[r.name][1:]), r.name


@pytest.mark.parametrize(
    "name,side", [("resnet18", 16), ("resnet18", 2000), ("resnet18", 64.5), ("inception_v3", 40)]
)
def test_impossible_input_sizes_are_clear_errors(name, side):
    with pytest.raises(ArchStatsError, match="(?i)input side|larger|too small|cannot"):
        layer_rows(name, side)


def test_unknown_names_list_the_known_ones():
    with pytest.raises(UnknownArchitectureError, match="resnet50"):
        arch_stats("resnet51")
    with pytest.raises(ValueError):
        layer_rows(None)


# --- the hand-set Inception module


def test_inception_branches_are_the_kernel_bank_on_the_image():
    g = torch.Generator().manual_seed(0)
    image = torch.rand(3, 20, 24, generator=g)
    branches = inception_on_image(image)
    assert [b.name for b in branches] == list(BRANCH_NAMES)
    mixes = torch.tensor(list(COLOUR_MIXES.values()))  # (3, 3)
    mixed = torch.einsum("oc,chw->ohw", mixes, image)
    gray = mixed[0][None, None]  # brightness, (1, 1, H, W)
    assert torch.allclose(branches[0].maps, mixed, atol=1e-6)
    for b, k in ((branches[1], 3), (branches[2], 5)):
        bank = torch.stack([make_kernel(n, k) for n in EDGE_KERNELS])[:, None]
        padded = F.pad(gray, (k // 2,) * 4, mode="replicate")
        assert torch.allclose(b.maps, F.conv2d(padded, bank)[0], atol=1e-5)
    pooled = F.max_pool2d(image[None], 3, stride=1, padding=1)[0]
    assert torch.allclose(branches[3].maps, torch.einsum("oc,chw->ohw", mixes, pooled), atol=1e-6)


def test_inception_branch_costs_by_closed_form():
    branches = inception_on_image(torch.ones(3, 10, 12))
    assert [b.params for b in branches] == [9, 3 + 3 * 9, 3 + 3 * 25, 9]
    for b in branches:  # bias-free, stride 1, 'same' padding: one multiply-add per weight per pixel
        assert b.macs == b.params * 10 * 12
    assert sum(b.params for b in branches) == sum(
        p.numel() for p in HandSetInception().parameters()
    )


def test_googlenet_inception3a_branches_by_closed_form():
    b = googlenet_branches("inception3a")
    bn = lambda c: 2 * c  # noqa: E731 - batch norm's scale and shift per channel
    assert [x.params for x in b] == [
        192 * 64 + bn(64),
        192 * 96 + bn(96) + 96 * 128 * 9 + bn(128),
        192 * 16 + bn(16) + 16 * 32 * 9 + bn(32),
        192 * 32 + bn(32),
    ]
    hw = 28 * 28
    assert [x.macs for x in b] == [
        hw * 192 * 64,
        hw * (192 * 96 + 96 * 128 * 9),
        hw * (192 * 16 + 16 * 32 * 9),
        hw * 192 * 32,
    ]
    assert b[2].channels == ("192→16 1×1 → 16→32 3×3",)  # torchvision's "5×5" is a 3×3
    with pytest.raises(ArchStatsError, match="inception3a"):
        googlenet_branches("conv1")


def test_dilated_scales_equal_a_brute_force_loop():
    g = torch.Generator().manual_seed(1)
    gray = torch.rand(11, 13, generator=g)
    k = make_kernel("laplacian", 3)
    maps = dilated_scales(gray, "laplacian", (1, 2, 3))
    padded = {r: F.pad(gray[None], (r, r, r, r), mode="replicate")[0] for r in (1, 2, 3)}
    for i, r in enumerate((1, 2, 3)):
        for y in range(11):
            for x in range(13):
                want = sum(
                    k[a, b] * padded[r][y + a * r, x + b * r] for a in range(3) for b in range(3)
                )
                assert math.isclose(float(maps[i, y, x]), float(want), abs_tol=1e-5)


@pytest.mark.parametrize(
    "args",
    [
        (torch.rand(4, 4), "laplacian", (1, 2)),
        (torch.rand(9, 9), "laplacian", (0,)),
        (torch.rand(3, 9, 9), "laplacian", (1,)),
        (torch.rand(9, 9), "nope", (1,)),
    ],
)
def test_dilated_scales_bad_input_is_a_value_error(args):
    with pytest.raises(ValueError):
        dilated_scales(*args)


@pytest.mark.parametrize("image", [torch.rand(3, 4, 40), torch.rand(1, 8, 8), "image"])
def test_inception_bad_image_is_a_clear_error(image):
    with pytest.raises(ArchStatsError):
        inception_on_image(image)


def test_bottleneck_stride_names_the_conv_that_strides(table):
    # by hand: the first block of layer2 strides; which of its convs carries the stride
    for name in ("resnet50", "resnext50_32x4d", "se_resnet50"):
        block = build(name, meta=True).layer2[0]
        conv = block.conv1 if block.conv1.stride == (2, 2) else block.conv2
        assert conv.stride == (2, 2)
        assert table[name].bottleneck_stride == f"{conv.kernel_size[0]}×{conv.kernel_size[1]}"
    assert table["resnet50"].bottleneck_stride == "3×3"  # torchvision: v1.5
    assert table["se_resnet50"].bottleneck_stride == "1×1"  # the Caffe port: v1
    assert bottleneck_stride(build("vgg16", meta=True)) is None
    assert [n for n, s in table.items() if s.bottleneck_stride] == [
        "resnet50",
        "resnext50_32x4d",
        "se_resnet50",
    ]


def test_striding_the_1x1_is_why_se_resnet50_costs_less_than_resnet50(table):
    # the SE gates add FLOPs; moving the stride from the 1×1 to the 3×3 in the four first
    # blocks of stages 2-4 adds more: the 3×3 then reads the full-resolution map
    se, plain = table["se_resnet50"], table["resnet50"]
    assert se.flops < plain.flops
    extra_3x3 = 0
    model = build("resnet50", meta=True)
    side = 224 // 4  # after the stem
    for stage in (model.layer2, model.layer3, model.layer4):
        conv1 = stage[0].conv1
        out = side // 2
        # v1.5 against v1: the 1×1 runs at full rather than half resolution; the 3×3's output
        # is the same size either way
        extra_3x3 += 2 * conv1.in_channels * conv1.out_channels * (side * side - out * out)
        side = out
    assert extra_3x3 > plain.flops - se.flops > 0


def test_design_constants_match_the_names_and_the_paper():
    got = design_constants()
    groups, width = map(int, re.search(r"(\d+)x(\d+)d", "resnext50_32x4d").groups())
    assert (got["resnext_groups"], got["resnext_width"]) == (groups, width)
    first = build("densenet121", meta=True).features.denseblock1
    layer1, layer2 = list(first.children())[:2]
    assert layer2.conv1.in_channels - layer1.conv1.in_channels == got["densenet_growth"] == 32


def test_inception_n_is_the_side_of_its_1xn_then_nx1_pairs():
    # an independent reading: every 1×n conv whose output feeds an n×1 conv of the same n
    convs = [m for m in build("inception_v3", meta=True).modules() if isinstance(m, nn.Conv2d)]
    rows = {m.kernel_size[1] for m in convs if m.kernel_size[0] == 1 and m.kernel_size[1] > 1}
    cols = {m.kernel_size[0] for m in convs if m.kernel_size[1] == 1 and m.kernel_size[0] > 1}
    assert design_constants()["inception_n"] == max(rows & cols) == 7  # Szegedy et al. 2016
