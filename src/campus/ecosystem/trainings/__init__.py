"""The training catalogue, its sessions (events) and each person's training record."""
