"""The students domain of the demo seeder: the course catalogue, packages and lessons,
money, and the engagement facts (exams, contacts, complaints, surveys). Orchestrated by
lifecycle/demo.py, which decides each account's story."""
