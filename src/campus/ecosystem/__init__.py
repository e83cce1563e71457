"""Value creation and skills: organisations, people, directory, matchmaking, impact, events,
trainings and programmes."""
