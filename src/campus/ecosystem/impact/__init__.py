"""Impact records (fundraising, contracts, acquisitions, partnerships, launches) and the
campus dashboard."""
