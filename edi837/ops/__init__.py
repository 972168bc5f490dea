"""Operations around the checker: batch runs and scale-out engines (Spark)."""
