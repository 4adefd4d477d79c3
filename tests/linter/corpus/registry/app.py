"""Azure Durable Functions classic model: the function body comes from another module."""

import azure.durable_functions as df

from registry.flows import approve

main = df.Orchestrator.create(approve)
