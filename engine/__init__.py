"""The computations behind the explorer: pure PyTorch/NumPy, never Streamlit or Plotly."""
