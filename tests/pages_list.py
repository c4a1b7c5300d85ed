"""The app's pages as AppTest and the browser reach them: (path from app.py, URL path)."""

PAGES = [
    ("pages/home.py", ""),
    ("pages/conv_1d.py", "conv-1d"),
    ("pages/conv_2d.py", "kernels"),
    ("pages/conv_arithmetic.py", "conv-arithmetic"),
    ("pages/conv_layer.py", "conv-layer"),
    ("pages/dense_conv_recurrent.py", "dense-conv-recurrent"),
]
