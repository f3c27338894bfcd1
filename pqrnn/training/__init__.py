"""Training library behind the binaries: experiment wiring, the training loop,
checkpoint/resume and prediction. Binaries in pqrnn.bin stay thin."""
