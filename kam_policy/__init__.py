"""kam_policy: a rules engine and policy language for key-account staff management."""
