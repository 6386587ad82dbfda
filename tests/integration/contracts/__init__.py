"""Contract tests: one set of cases run on the in-memory fakes and on the SQL repositories."""
