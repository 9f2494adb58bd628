"""Case shares and hand-overs follow the policy's `approvals.share` / `approvals.handover`."""

from custodes.cases.sharing import CaseApprovals
from custodes.oversight.policy import Policy


def test_policy_decides_which_case_access_waits_for_approval() -> None:
    default = CaseApprovals.from_policy(Policy())
    assert not default.rule("share").needs_approval
    assert default.rule("handover").needs_approval
    strict = Policy.model_validate(
        {"approvals": {"share": {"needs_approval": True, "approver_roles": ["admin"]}}}
    )
    rules = CaseApprovals.from_policy(strict)
    assert rules.rule("share").needs_approval
    assert rules.rule("share").approver_roles == ("admin",)
