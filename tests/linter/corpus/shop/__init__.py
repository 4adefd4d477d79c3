"""A shop whose order workflows use durableflow."""
