"""Entry point: page config, the grouped navigation, and the shared sidebar."""

import streamlit as st

st.set_page_config(
    page_title="CNN & RNN Visual Explorer",
    page_icon=":material/blur_on:",
    layout="wide",
    initial_sidebar_state="expanded",
)

# One list per group, in reading order. A group with no pages yet is left out of the menu.
# The scripts live in app_pages/, not pages/: a folder named pages/ makes Streamlit fall back to
# its old file-based navigation for the first deep link after a server start (running the page
# without this file's config and menu).
PAGES = {
    "Start": [
        st.Page("app_pages/home.py", title="Home", icon=":material/home:", default=True),
    ],
    "CNN": [
        st.Page(
            "app_pages/conv_1d.py",
            title="Convolution in 1D",
            icon=":material/show_chart:",
            url_path="conv-1d",
        ),
        st.Page(
            "app_pages/conv_2d.py",
            title="Kernels on your image",
            icon=":material/grid_on:",
            url_path="kernels",
        ),
        st.Page(
            "app_pages/conv_arithmetic.py",
            title="Padding, stride, dilation",
            icon=":material/animation:",
            url_path="conv-arithmetic",
        ),
        st.Page(
            "app_pages/why_convolution.py",
            title="Why convolution",
            icon=":material/hub:",
            url_path="why-convolution",
        ),
        st.Page(
            "app_pages/equivariance.py",
            title="Equivariance",
            icon=":material/open_with:",
            url_path="equivariance",
        ),
        st.Page(
            "app_pages/kernel_sizes.py",
            title="Kernel sizes",
            icon=":material/view_module:",
            url_path="kernel-sizes",
        ),
        st.Page(
            "app_pages/conv_layer.py",
            title="A convolutional layer",
            icon=":material/layers:",
            url_path="conv-layer",
        ),
        st.Page(
            "app_pages/pooling.py",
            title="Pooling and invariance",
            icon=":material/filter_center_focus:",
            url_path="pooling",
        ),
        st.Page(
            "app_pages/receptive_fields.py",
            title="Receptive fields",
            icon=":material/center_focus_strong:",
            url_path="receptive-fields",
        ),
        st.Page(
            "app_pages/architectures.py",
            title="Classic architectures",
            icon=":material/account_tree:",
            url_path="architectures",
        ),
    ],
    "RNN": [
        st.Page(
            "app_pages/rnn_unrolled.py",
            title="Recurrence unrolled",
            icon=":material/repeat:",
            url_path="rnn-unrolled",
        ),
        st.Page(
            "app_pages/lstm_gates.py",
            title="LSTM gates on your text",
            icon=":material/text_fields:",
            url_path="lstm-gates",
        ),
        st.Page(
            "app_pages/rnn_gradients.py",
            title="Gradients through time",
            icon=":material/trending_down:",
            url_path="rnn-gradients",
        ),
    ],
    "Compare": [
        st.Page(
            "app_pages/dense_conv_recurrent.py",
            title="Dense vs convolutional vs recurrent",
            icon=":material/compare_arrows:",
            url_path="dense-conv-recurrent",
        ),
    ],
}

page = st.navigation({group: pages for group, pages in PAGES.items() if pages})

with st.sidebar:
    st.caption(
        "Every number on these pages is computed live by PyTorch on your own input. "
        "Nothing is downloaded; the app runs offline."
    )

page.run()
