"""Data projects, access requests, ethics review, approvals, opt-out page, public register."""
