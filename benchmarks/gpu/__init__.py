"""GPU checks that run only where a CUDA GPU is present (never part of `make test`)."""
