"""Triton kernels, each beside the plain PyTorch reference that is the CPU path and the test oracle."""
