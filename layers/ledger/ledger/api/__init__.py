"""HTTP: request/response models, the caller's authorization, and the error → HTTP mapping."""
