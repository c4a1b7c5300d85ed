"""The app's table of contents: every page once, in reading order, with a line on what it shows.

The order follows the book's chapters: the convolution operation, why it helps (sparse, shared,
equivariant), the convolutional layer and pooling, its variants (kernel sizes; padding, stride,
dilation, transposed), receptive fields and architectures, a trained network, then recurrence, the
LSTM, gradients through time, CNN against RNN, and the frameworks underneath (automatic
differentiation; the dense/convolutional/recurrent arithmetic). The learning path (ui/path) walks
it in this order.

app.py builds the navigation from it, the home page its map of topics, and the tests their list of
pages to open. Page scripts live in app_pages/, not pages/: a folder named pages/ makes Streamlit
fall back to its old file-based navigation for the first deep link after a server start.
Group names, titles and blurbs are message ids (N_): shown through ui.i18n.t in the session's
language.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.core import N_


@dataclass(frozen=True)
class Topic:
    """One page: its script, menu title, icon, URL path and a one-line description (English ids)."""

    path: str
    title: str
    icon: str
    url: str  # "" for the home page
    blurb: str


GROUPS: dict[str, list[Topic]] = {
    N_("Start"): [
        Topic(
            "app_pages/home.py",
            N_("Home"),
            ":material/home:",
            "",
            N_("What the explorer is and where to go."),
        ),
    ],
    N_("CNN"): [
        Topic(
            "app_pages/conv_1d.py",
            N_("Convolution in 1D"),
            ":material/show_chart:",
            "conv-1d",
            N_("Smoothing a noisy track with a weighted average: s = x * w."),
        ),
        Topic(
            "app_pages/conv_2d.py",
            N_("Kernels on your image"),
            ":material/grid_on:",
            "kernels",
            N_(
                "A kernel bank on your picture, the arithmetic of any pixel you click, and "
                "convolution vs cross-correlation."
            ),
        ),
        Topic(
            "app_pages/why_convolution.py",
            N_("Why convolution"),
            ":material/hub:",
            "why-convolution",
            N_("Sparse interactions and shared weights, counted and timed on this machine."),
        ),
        Topic(
            "app_pages/equivariance.py",
            N_("Equivariance"),
            ":material/open_with:",
            "equivariance",
            N_("Convolution commutes with shifts, not with rotations or zooms."),
        ),
        Topic(
            "app_pages/conv_layer.py",
            N_("A convolutional layer"),
            ":material/layers:",
            "conv-layer",
            N_("Convolution → detector → pooling, on inputs of any size."),
        ),
        Topic(
            "app_pages/pooling.py",
            N_("Pooling and invariance"),
            ":material/filter_center_focus:",
            "pooling",
            N_("What max, average, L2 and k-max pooling keep, and how stable they stay."),
        ),
        Topic(
            "app_pages/kernel_sizes.py",
            N_("Kernel sizes"),
            ":material/view_module:",
            "kernel-sizes",
            N_("Why 3×3, why odd, why 1×1, why 1×n followed by n×1."),
        ),
        Topic(
            "app_pages/conv_arithmetic.py",
            N_("Padding, stride, dilation"),
            ":material/animation:",
            "conv-arithmetic",
            N_(
                "The window stepping over a small grid, transposed convolution, and the matrix "
                "view."
            ),
        ),
        Topic(
            "app_pages/receptive_fields.py",
            N_("Receptive fields"),
            ":material/center_focus_strong:",
            "receptive-fields",
            N_("How much of the image a unit sees, in theory and in effect."),
        ),
        Topic(
            "app_pages/architectures.py",
            N_("Classic architectures"),
            ":material/account_tree:",
            "architectures",
            N_("AlexNet to SENet: what each fixed, computed from real network definitions."),
        ),
        Topic(
            "app_pages/your_weights.py",
            N_("Your trained weights"),
            ":material/upload_file:",
            "your-weights",
            N_(
                "Trained weights you bring for a classic architecture: top classes, every "
                "stage's maps, Grad-CAM and HiResCAM on your photo."
            ),
        ),
        Topic(
            "app_pages/cnn_overview.py",
            N_("A trained CNN on your image"),
            ":material/neurology:",
            "trained-cnn",
            N_(
                "Every layer of a real trained network on your picture, any unit's formula, and "
                "what made the decision."
            ),
        ),
        Topic(
            "app_pages/cnn_train.py",
            N_("Train a CNN yourself"),
            ":material/model_training:",
            "train-cnn",
            N_("Choose classes and layers, watch it learn, and ablate pooling, ReLU and depth."),
        ),
        Topic(
            "app_pages/teach_classes.py",
            N_("Teach it your classes"),
            ":material/school:",
            "teach-classes",
            N_(
                "Your own classes from your camera, files or drawings: train, see the mistakes, "
                "save the model."
            ),
        ),
    ],
    N_("RNN"): [
        Topic(
            "app_pages/rnn_unrolled.py",
            N_("Recurrence unrolled"),
            ":material/repeat:",
            "rnn-unrolled",
            N_("h_t = f(W h_(t−1) + U x_t + b) step by step, and a bidirectional RNN."),
        ),
        Topic(
            "app_pages/lstm_gates.py",
            N_("LSTM gates on your text"),
            ":material/text_fields:",
            "lstm-gates",
            N_("Gates, cell and hidden states of a trained character LSTM on what you type."),
        ),
        Topic(
            "app_pages/rnn_gradients.py",
            N_("Gradients through time"),
            ":material/trending_down:",
            "rnn-gradients",
            N_("Vanishing and exploding gradients, and why the LSTM helps."),
        ),
    ],
    N_("Compare"): [
        Topic(
            "app_pages/mnist1d_cnn_rnn.py",
            N_("CNN vs RNN on MNIST-1D"),
            ":material/stacked_line_chart:",
            "mnist-1d",
            N_("Train both live on 1D digits; scramble time; count sequential steps."),
        ),
        Topic(
            "app_pages/seq_both.py",
            N_("Your sequence through both"),
            ":material/timeline:",
            "sequence-both",
            N_(
                "A CNN's windows and an RNN's state on numbers or text you type, and tasks each "
                "wins."
            ),
        ),
    ],
    N_("Frameworks"): [
        Topic(
            "app_pages/autodiff.py",
            N_("Differentiable programming"),
            ":material/functions:",
            "autodiff",
            N_(
                "A model's dataflow graph, forward and backward with the numbers, and three ways "
                "to differentiate."
            ),
        ),
        Topic(
            "app_pages/dense_conv_recurrent.py",
            N_("Dense vs convolutional vs recurrent"),
            ":material/compare_arrows:",
            "dense-conv-recurrent",
            N_("Parameter and compute arithmetic of the three layer families."),
        ),
    ],
}


def all_topics() -> list[Topic]:
    """Return every page in menu order."""
    return [topic for topics in GROUPS.values() for topic in topics]
