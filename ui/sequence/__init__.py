"""The sequence pages (MNIST-1D, your sequence through both): inputs, figures and training runs."""
