"""Registers orchestrators written in another module (durabletask and dapr)."""

import dapr.ext.workflow as wf
from durabletask import worker

from registry import flows
from registry.flows import refund


def serve() -> None:
    with worker.TaskHubGrpcWorker() as w:
        w.add_orchestrator(flows.fulfil)
        w.start()


def serve_dapr() -> None:
    runtime = wf.WorkflowRuntime()
    runtime.register_workflow(refund)
    runtime.start()
