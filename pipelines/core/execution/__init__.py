"""Running a plan: the run loop, stage execution, publishing, retries and the Spark session."""
