"""Orchestrators whose bugs show only when the replaying process differs from the recording one."""
