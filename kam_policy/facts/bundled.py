"""The bundled fact schema: the nine fact types of the reference policy."""

from __future__ import annotations

from kam_policy.facts.models import (
    Application,
    Appraisal,
    Client,
    Complaint,
    Opportunity,
    Project,
    SalesResult,
    Staff,
    Training,
)
from kam_policy.facts.schema import FactSchema, FactType


def bundled_schema() -> FactSchema:
    """The fact types the bundled policy reads, in input-file order.

    Returns:
        A new ``FactSchema`` with Staff, Application, Client, Complaint, Appraisal,
        Training, SalesResult, Project and Opportunity.
    """
    return FactSchema(
        [
            FactType("Staff", Staff, "staff", "staff", refs={"manager_id": "Staff"}),
            FactType(
                "Application",
                Application,
                "applications",
                "application",
                refs={"staff_id": "Staff"},
            ),
            FactType("Client", Client, "clients", "client", refs={"owner_id": "Staff"}),
            FactType(
                "Complaint",
                Complaint,
                "complaints",
                "complaint",
                refs={"client_id": "Client", "assigned_to": "Staff"},
            ),
            FactType(
                "Appraisal",
                Appraisal,
                "appraisals",
                "appraisal",
                refs={"staff_id": "Staff"},
                unique=(("staff_id", "kind", "period"),),
            ),
            FactType("Training", Training, "trainings", "training", refs={"staff_id": "Staff"}),
            FactType(
                "SalesResult",
                SalesResult,
                "sales_results",
                "sales_result",
                id_field=None,
                refs={"staff_id": "Staff"},
                unique=(("staff_id", "period"),),
            ),
            FactType(
                "Project",
                Project,
                "projects",
                "project",
                refs={"client_id": "Client", "manager_id": "Staff"},
            ),
            FactType(
                "Opportunity",
                Opportunity,
                "opportunities",
                "opportunity",
                refs={"client_id": "Client", "owner_id": "Staff"},
            ),
        ]
    )
