"""The app's pages as AppTest and the browser reach them: (path from app.py, URL path)."""

PAGES = [
    ("app_pages/home.py", ""),
    ("app_pages/conv_1d.py", "conv-1d"),
    ("app_pages/conv_2d.py", "kernels"),
    ("app_pages/conv_arithmetic.py", "conv-arithmetic"),
    ("app_pages/why_convolution.py", "why-convolution"),
    ("app_pages/equivariance.py", "equivariance"),
    ("app_pages/kernel_sizes.py", "kernel-sizes"),
    ("app_pages/conv_layer.py", "conv-layer"),
    ("app_pages/architectures.py", "architectures"),
    ("app_pages/pooling.py", "pooling"),
    ("app_pages/receptive_fields.py", "receptive-fields"),
    ("app_pages/rnn_unrolled.py", "rnn-unrolled"),
    ("app_pages/lstm_gates.py", "lstm-gates"),
    ("app_pages/rnn_gradients.py", "rnn-gradients"),
    ("app_pages/dense_conv_recurrent.py", "dense-conv-recurrent"),
]
