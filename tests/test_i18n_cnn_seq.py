"""The trained-CNN, train-a-CNN, MNIST-1D and sequence-through-both pages in Chinese (issue 14):
each renders with its Chinese title and chosen sentences; errors, tables and job lines read in
Chinese; what the sequence page does with characters it never saw is said in Chinese, chosen by
the count of such characters."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from engine.sequence import TASKS, text_to_numbers
from tests.tables import tables
from tests.test_pages import open_script as _open
from ui import i18n
from ui.sequence.inputs import mapping_note, read_sequence
from ui.sequence.task_runs import PROGRESS, make_work

SEQ_LAZY = ("open_seqb_summary", "open_seqb_ngrams", "open_seqb_tasks")


def _text(at: AppTest) -> str:
    """Return the page's markdown, captions, warnings, infos and errors as one string."""
    parts = [*at.markdown, *at.caption, *at.warning, *at.info, *at.error]
    return " ".join(p.value for p in parts)


@pytest.fixture
def chinese(monkeypatch):
    monkeypatch.setattr(i18n, "current_lang", lambda: "zh")


# --- your sequence through both ---


def test_sequence_page_in_chinese_has_its_title_and_chosen_sentences():
    at = _open("seq_both.py", **dict.fromkeys(SEQ_LAZY, True))
    assert at.title[0].value == "你的序列分别经过两种网络"
    text = _text(at)
    assert "**值得注意：** 窗口每层增大" in text
    assert "交换越晚，影响越大" in text  # the swap verdict the English test expects, in Chinese
    assert "What to notice" not in text
    columns = [c for d in tables(at) for c in d.columns]
    assert "第 1 层卷积核" in columns and "保留的位置" in columns
    assert "上升" in list(tables(at)[0].iloc[:, 0])  # the designed filters' names


def test_sequence_page_shows_its_input_error_in_chinese():
    at = _open("seq_both.py", seqb_numbers="1, x, 3")
    assert at.error and "不是数字" in at.error[0].value, [e.value for e in at.error]


def test_chinese_typed_into_the_sequence_page_is_explained_in_chinese():
    at = _open("seq_both.py", seqb_mode="text", seqb_text="神经网络 reads 你好")
    text = _text(at)
    assert "个汉字或其他文字的字符" in text  # the count of unseen characters, said
    assert "汉字等其他文字的字符）都是 0" in text  # and what the networks make of them


def test_sequence_page_without_foreign_letters_says_none_were_unseen():
    at = _open("seq_both.py", seqb_mode="text", seqb_text="the cat sat")
    assert "汉字或其他文字的字符" not in _text(at)


def test_text_of_chinese_only_is_a_flat_line_in_chinese():
    at = _open("seq_both.py", seqb_mode="text", seqb_text="你好世界")
    assert any("文本中没有字母 a–z" in w.value for w in at.warning)


def test_mapping_note_in_english_is_unchanged():
    mapping = text_to_numbers("ab 你")
    assert mapping_note(mapping) == (
        "Of the 4 characters used, 2 are letters a–z and became 1–26; the other 2 became 0 "
        "(1 letter of another script, 1 space)."
        if list(mapping.zeros) == ["letter of another script", "space"]
        else "Of the 4 characters used, 2 are letters a–z and became 1–26; the other 2 became 0 "
        "(1 space, 1 letter of another script)."
    )


def test_mapping_note_in_chinese_counts_each_kind(chinese):
    note = mapping_note(text_to_numbers("ab 你好"))
    assert note.startswith("在使用的 5 个字符中，2 个是字母 a–z")
    assert "2 个汉字或其他文字的字符" in note and "1 个空格" in note
    assert read_sequence("text", "你好").notes[0].startswith("文本中没有字母 a–z")


def test_task_job_reports_progress_in_the_language_it_was_given():
    lines = []

    def report(fraction, text, payload):
        lines.append(text)

    make_work([("majority", "cnn")], 1, 0, {}, "zh")(report, lambda: False)
    assert lines and lines[-1] == "上升比下降多吗？：CNN，第 1 / 1 步"
    lines.clear()
    make_work([("majority", "cnn")], 1, 0, {})(report, lambda: False)
    assert lines[-1] == PROGRESS.format(task=TASKS["majority"].title, model="CNN", step=1, total=1)
    assert lines[-1] == "Are there more ups than downs?: CNN, step 1 of 1"


# --- CNN vs RNN on MNIST-1D ---


def test_mnist1d_page_in_chinese_with_a_stored_run_and_both_sections_open():
    from engine.sequence import fit_mnist1d
    from ui.sequence.mnist1d_runs import RunKey, run_store

    key = RunKey("linear", 20, 0, False)  # what the page plans for ["linear"] at 0.02×
    run_store().put(key, fit_mnist1d("linear", steps=20, seed=0))
    at = _open(
        "mnist1d_cnn_rnn.py",
        m1d_archs=["linear"],
        m1d_mult=0.02,
        open_m1d_scramble=True,
        open_m1d_depth=True,
    )
    assert at.title[0].value == "CNN 与 RNN 在 MNIST-1D 上的对比"
    text = _text(at)
    assert "**值得注意：** 同一数字的样本共享的是笔画" in text
    assert "线性 在 " in text and "内达到" in text  # the stored run's sentence
    assert "**值得注意：** 当 T = 40 时，循环模型需要 40 个相互依赖的步" in text
    assert "What to notice" not in text
    columns = [c for d in tables(at) for c in d.columns]
    assert "测试准确率 (%)" in columns and "每一步同时计算所有位置" in columns
    run_store().runs.clear()


def test_mnist1d_job_reports_progress_in_its_language():
    from ui.sequence.mnist1d_runs import RunKey, RunStore, plan_work

    lines = []
    plan = [RunKey("linear", 2, 0, True)]
    plan_work(plan, RunStore(), "zh")(lambda f, text, p: lines.append(text), lambda: False)
    assert lines[-1].startswith("正在训练 线性，打乱：第 2 / 2 步，测试准确率 ")
    lines.clear()
    plan_work(plan, RunStore())(lambda f, text, p: lines.append(text), lambda: False)
    assert lines[-1].startswith("Training Linear, shuffled: step 2 of 2, test accuracy ")


# --- train a CNN yourself ---


class _Abort(Exception):
    pass


def test_class_names_cover_the_engines_classes():
    from engine.cnn import ABLATIONS, CLASSES
    from ui.cnn.names import CLASS_NAMES, VARIANT_NAMES

    assert list(CLASS_NAMES) == list(CLASSES)
    assert list(VARIANT_NAMES) == list(ABLATIONS)


def test_train_page_in_chinese_has_its_title_names_and_messages():
    at = _open("cnn_train.py")
    assert at.title[0].value == "亲手训练一个 CNN"
    picker = at.multiselect(key="ct_classes")
    assert picker.value == list(__import__("engine.cnn", fromlist=["CLASSES"]).CLASSES)
    assert "圆形" in picker.options and "circle" not in picker.options  # shown translated
    text = _text(at)
    assert "按**训练**开始" in text and "Press **Train**" not in text
    one = _open("cnn_train.py", ct_classes=["circle"])
    assert any("请至少选择两个类别" in w.value for w in one.warning)


def test_training_job_says_its_first_line_in_its_language():
    from engine.cnn import CNNConfig
    from ui.cnn.train_runs import DataStore, RunSettings, training_work

    def first_line(lang):
        lines = []

        def report(fraction, text, payload):
            lines.append(text)
            raise _Abort  # the first line is enough: no rendering, no training

        settings = RunSettings(CNNConfig(("circle", "square")), 1, 0.01, 0, False)
        with pytest.raises(_Abort):
            training_work(settings, DataStore(), *lang)(report, lambda: True)
        return lines[0]

    assert first_line(("zh",)).startswith("正在生成 2 个类别的")
    assert first_line(()).startswith("Rendering ")


# --- a trained CNN on your image ---


def test_overview_page_in_chinese_with_its_sections_open():
    at = _open("cnn_overview.py", open_tc_patches=True, open_tc_filters=True)
    assert at.title[0].value == "训练好的 CNN 看你的图像"
    assert at.metric[0].label == "预测类别"
    from ui.cnn.names import CLASS_NAMES

    with_zh = dict(i18n.translations("zh")._catalog)  # every class name's Chinese
    assert at.metric[0].value in {with_zh[name] for name in CLASS_NAMES.values()}
    text = _text(at)
    assert "**值得注意：** 支持“" in text and "值得注意：特征图从" in text
    assert "**训练发现了什么**" in text and "最强的 " in text
    assert "What to notice" not in text
    source = at.get("segmented_control")[0]
    assert source.value == "A drawn example of a class"  # the value stays; its label is Chinese


def test_overview_page_in_english_keeps_its_sentences():
    at = _open("cnn_overview.py", lang="en")
    assert at.title[0].value == "A trained CNN on your image"
    assert at.metric[0].label == "Predicted class"
    assert any(c.value.startswith("What to notice: the maps shrink") for c in at.caption)


def _ablation_row(name: str, val_acc: float, kept: float):
    """Return a made-up finished variant (what the ablation job would store)."""
    import numpy as np

    from engine.cnn import ablation_config, last_field, parameter_count
    from ui.cnn.train_runs import AblationRow

    config = ablation_config(name)
    curve = np.linspace(1, kept, 9)
    robust = {"edge": curve, "circular": curve}
    return AblationRow(
        name, config, parameter_count(config), last_field(config), val_acc, val_acc, 1.0, (), robust
    )


def test_ablation_results_in_chinese():
    from ui.cnn.ablation_view import DEFAULT_ABLATION_STEPS, finished_sets
    from ui.cnn.train_runs import AblationSettings

    at = _open("cnn_train.py")
    lr, seed = float(at.number_input(key="ct_lr").value), int(at.number_input(key="ct_seed").value)
    classes = tuple(at.multiselect(key="ct_classes").value)
    bf16 = "原生支持 bfloat16" in " ".join(c.value for c in at.caption)
    settings = AblationSettings(classes, DEFAULT_ABLATION_STEPS, lr, seed, bf16)
    finished_sets()[settings] = (
        _ablation_row("baseline", 0.62, 0.62),
        _ablation_row("no pooling", 0.088, 0.95),
        _ablation_row("no ReLU", 0.50, 0.70),
        _ablation_row("1 block", 0.55, 0.50),
        _ablation_row("4 blocks", 0.60, 0.80),
    )
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    table = next(d for d in tables(at) if "变体" in d.columns)
    assert list(table["变体"]) == ["基线", "无池化", "无 ReLU", "1 块", "4 块"]
    assert any("**没学到：** 无池化 (8.8%)" in w.value for w in at.warning)
    text = _text(at)
    assert "**池化。**" in text and "**ReLU。**" in text and "**深度。**" in text
    assert "边缘平移下答案变化最少的是 4 块（保持 80%）" in text
    assert "What to notice" not in text and "Pooling." not in text
    finished_sets().pop(settings)
