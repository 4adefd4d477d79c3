"""durableflow."""
