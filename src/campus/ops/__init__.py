"""Operations: file modes, health, metrics, request logs, backups and `campus doctor`."""
