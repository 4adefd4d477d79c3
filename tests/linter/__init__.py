"""Tests for durable-lint and the shared orchestrator discovery."""
